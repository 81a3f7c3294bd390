"""The `churnops` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from churnops.serving.settings import default, settings_from_env

# option -> the Settings field it defaults to
_SETTING_OF = {
    "model": "model_path",
    "meta": "meta_path",
    "schema": "schema_path",
    "compiled": "compiled_path",
    "log": "log_path",
    "policy": "policy",
    "engine": "engine",
}


def _from_settings(option: str) -> str:
    """Help text for an option whose default is the service's setting."""
    value = default(_SETTING_OF[option])
    return f"default {value}, unless params serve or a CHURNOPS_* variable says otherwise"


def _fill_from_settings(args: argparse.Namespace, options: tuple[str, ...]) -> None:
    """Give each unset option its value from the service's settings (one source of defaults)."""
    settings = settings_from_env(getattr(args, "params", None))
    for option in options:
        if getattr(args, option) is None:
            setattr(args, option, getattr(settings, _SETTING_OF[option]))


def _csv_format(args: argparse.Namespace) -> Any:
    """The CSV format of the user's files: params `prepare.csv` (the params file of the settings
    chain), else comma, point and UTF-8."""
    from churnops.files import CsvFormat
    from churnops.params import load_params
    from churnops.serving.settings import params_path

    path = params_path(getattr(args, "params", None))
    return CsvFormat.from_params(load_params(path)) if path.is_file() else CsvFormat()


HEADLINE = ("roc_auc", "pr_auc", "accuracy", "precision", "recall", "f1", "log_loss", "brier")


def pipeline_files(dvc_yaml: Path) -> tuple[list[Path], list[Path]]:
    """The metrics files and the report outputs (under `reports/`) that `dvc.yaml` declares."""
    spec = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8")) or {}
    metrics, reports = [], []
    for stage in (spec.get("stages") or {}).values():
        for key in ("metrics", "outs", "plots"):
            for entry in stage.get(key) or []:
                path = Path(next(iter(entry)) if isinstance(entry, dict) else entry)
                if key == "metrics":
                    metrics.append(path)
                elif path.parts and path.parts[0] == "reports":
                    reports.append(path)
    return metrics, reports


def summary(root: Path) -> str:
    """A short human summary of the last run: headline metrics, the model, where reports are."""
    metrics_files, reports = pipeline_files(root / "dvc.yaml")
    details = [p for p in reports if p.name == "cv_results.json"]  # the model-selection line
    lines = []
    for path in [*metrics_files, *details]:
        full = root / path
        if not full.exists():
            lines.append(f"{path}: not produced yet (run `make repro`)")
            continue
        data: dict[str, Any] = json.loads(full.read_text(encoding="utf-8"))
        if all(k in data for k in HEADLINE):
            lines.append(f"Test metrics ({path}):")
            lines += [f"  {k:<10} {data[k]:.4f}" for k in HEADLINE]
        elif "tuned" in data:
            tuned = data["tuned"]
            lines.append(
                f"Model selection ({path}): rule {data['selection']['rule']} chose "
                f"{data['selection']['chosen']} (best mean: {data['selection']['best']}); "
                f"tuned {data['scoring']} {tuned['mean']:.4f} ± {tuned['std']:.4f} "
                f"({data['folds']}-fold CV) with {tuned['params']}"
            )
    lines.append("Reports:")
    lines += [f"  {p}{'/' if (root / p).is_dir() else ''}" for p in reports if (root / p).exists()]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """Every command and its options."""
    parser = argparse.ArgumentParser(prog="churnops", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser(
        "summary", help="print the headline metrics and where the reports are"
    )
    show.add_argument(
        "--root", type=Path, default=Path("."), help="project folder (holds dvc.yaml)"
    )
    serve = commands.add_parser("serve", help="serve predictions over HTTP (FastAPI on uvicorn)")
    serve.add_argument("--host", default=os.environ.get("CHURNOPS_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("CHURNOPS_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("CHURNOPS_WORKERS", "1")))
    serve.add_argument(
        "--keep-alive",
        type=float,
        default=float(os.environ.get("CHURNOPS_KEEP_ALIVE", "75")),
        help="seconds an idle connection is kept open (default 75; keep it above a load "
        "balancer's idle timeout: a server that closes first races with a client reusing the "
        "connection, and that request is lost)",
    )
    serve.add_argument("--model", help=f"model file ({_from_settings('model')})")
    serve.add_argument("--meta", help=f"its metadata ({_from_settings('meta')})")
    serve.add_argument("--schema", help=f"input schema ({_from_settings('schema')})")
    serve.add_argument(
        "--policy",
        choices=("reject", "flag"),
        help=f"unseen categories / out-of-range values ({_from_settings('policy')})",
    )
    serve.add_argument("--compiled", help=f"compiled model folder ({_from_settings('compiled')})")
    serve.add_argument(
        "--engine",
        choices=("auto", "onnx", "sklearn"),
        help="auto: ONNX Runtime when the compiled model is verified, else scikit-learn "
        f"({_from_settings('engine')})",
    )
    serve.add_argument("--log", help=f"prediction log ({_from_settings('log')})")
    predict = commands.add_parser("predict", help="score a CSV or Parquet file in chunks")
    predict.add_argument("--input", required=True, type=Path)
    predict.add_argument("--output", required=True, type=Path, help="predictions (.parquet)")
    predict.add_argument(
        "--rejects",
        type=Path,
        help="rejected rows with reasons (default: OUTPUT stem + .rejects.parquet)",
    )
    predict.add_argument(
        "--overwrite", action="store_true", help="replace OUTPUT and REJECTS if they exist"
    )
    predict.add_argument("--chunk-rows", type=int, default=100_000)
    # unset options come from the service's settings: params serve, CHURNOPS_*, the defaults
    predict.add_argument("--policy", choices=("reject", "flag"), help=_from_settings("policy"))
    predict.add_argument("--model", type=Path, help=_from_settings("model"))
    predict.add_argument("--meta", type=Path, help=_from_settings("meta"))
    predict.add_argument("--schema", type=Path, help=_from_settings("schema"))
    predict.add_argument("--compiled", type=Path, help=_from_settings("compiled"))
    predict.add_argument(
        "--engine", choices=("auto", "onnx", "sklearn"), help=_from_settings("engine")
    )
    logs = commands.add_parser("log", help="the prediction log")
    log_commands = logs.add_subparsers(dest="log_command", required=True)
    export = log_commands.add_parser(
        "export", help="write the logged predictions and outcomes as a batch the monitor reads"
    )
    export.add_argument("--out", required=True, type=Path, help="a .parquet or .csv file")
    export.add_argument("--since", help="only predictions at or after this ISO date/time (UTC)")
    export.add_argument(
        "--labelled-only", action="store_true", help="only predictions whose outcome is known"
    )
    export.add_argument("--log", type=Path, help=_from_settings("log"))
    export.add_argument(
        "--model-version",
        help="only this model version's predictions, or 'all' (default: the current model's, "
        "from --meta); rows whose inputs do not match --schema are always left out",
    )
    export.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    export.add_argument(
        "--params", type=Path, help="params file (default: CHURNOPS_PARAMS, else params.yaml)"
    )
    export.add_argument("--meta", type=Path, help=_from_settings("meta"))
    export.add_argument("--schema", type=Path, help=_from_settings("schema"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "predict":
        return _predict(args)
    if args.command == "log":
        return _export_log(args)
    if args.command == "serve":
        return _serve(args)
    if args.command == "summary":
        if not (args.root / "dvc.yaml").is_file():
            print(f"churnops: no dvc.yaml in {args.root.resolve()}", file=sys.stderr)
            return 2
        print(summary(args.root))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from churnops.data.contract import Contract
    from churnops.files import staged_outputs
    from churnops.serving import artifact, batch_scoring
    from churnops.stage import USER_ERRORS

    rejects = args.rejects or args.output.with_name(args.output.stem + ".rejects.parquet")
    try:
        _fill_from_settings(args, ("policy", "model", "meta", "schema", "compiled", "engine"))
        if args.chunk_rows < 1:
            raise ValueError(f"--chunk-rows must be >= 1, got {args.chunk_rows}")
        batch_scoring.check_paths(args.input, args.output, rejects, overwrite=args.overwrite)
        model = artifact.load(
            args.model,
            args.meta,
            args.schema,
            compiled_dir=args.compiled,
            engine=args.engine,
            threads=os.cpu_count() or 1,
        )
        contract = Contract(model.schema, args.policy)
        with tqdm(desc="scoring", unit="rows", disable=None) as bar, staged_outputs() as out:
            counts = batch_scoring.score(
                batch_scoring.read_chunks(args.input, args.chunk_rows, _csv_format(args)),
                model,
                contract,
                output=out.path(args.output),
                rejects=out.path(rejects),
                progress=bar.update,
            )
    except (*USER_ERRORS, artifact.ModelIntegrityError, ValueError, OSError) as exc:
        print(f"churnops predict: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"churnops predict: {counts['rows']:,} rows, {counts['scored']:,} scored with "
        f"{model.engine} -> {args.output} ({counts['flagged']:,} flagged), "
        f"{counts['rejected']:,} rejected -> {rejects}"
    )
    return 0


def _export_log(args: argparse.Namespace) -> int:
    import sqlite3

    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    from tqdm import tqdm

    from churnops.files import read_json, refuse_overwrite, staged_outputs
    from churnops.params import ParamsError
    from churnops.serving import log_export, prediction_log

    try:
        _fill_from_settings(args, ("log", "meta", "schema"))
        log_path = args.log
        if args.out.suffix not in (".parquet", ".csv"):
            raise ValueError(f"--out must end in .parquet or .csv, got {args.out}")
        refuse_overwrite(args.out, overwrite=args.overwrite)
        since = prediction_log.parse_since(args.since) if args.since else None
        meta, schema = read_json(args.meta), read_json(args.schema)
        version = None if args.model_version == "all" else args.model_version
        if version is None and args.model_version is None:
            version = meta["model_sha256"][:12]  # the current model's, as the service names it
        positive = meta["positive_label"]
        negative = next(c for c in meta["classes"] if c != positive)
        columns = log_export.export_columns(schema)
        target = schema.get("target", {}).get("name")
        rows = known = 0
        with log_export.LogReader(log_path) as reader:
            counts = reader.count(schema, since=since, version=version)
            with (
                tqdm(total=counts["selected"], desc="exporting", unit="rows", disable=None) as bar,
                staged_outputs() as out,
            ):
                path = out.path(args.out)
                writer = pq.ParquetWriter(path, columns) if args.out.suffix == ".parquet" else None
                try:
                    for i, part in enumerate(
                        reader.export(
                            schema,
                            positive_label=positive,
                            negative_label=negative,
                            since=since,
                            version=version,
                            labelled_only=args.labelled_only,
                        )
                    ):
                        if writer is not None:
                            writer.write_table(
                                pa.Table.from_pandas(part, schema=columns, preserve_index=False)
                            )
                        else:
                            part.to_csv(path, mode="a", header=i == 0, index=False)
                        rows += len(part)
                        known += int(part[target].notna().sum()) if target else 0
                        bar.update(len(part))
                finally:
                    if writer is not None:
                        writer.close()
                if rows == 0 and writer is None:  # a CSV with its header, not a missing file
                    pd.DataFrame(columns=columns.names).to_csv(path, index=False)
    except (ParamsError, ValueError, OSError, KeyError, StopIteration, sqlite3.Error) as exc:
        print(f"churnops log export: error: {exc}", file=sys.stderr)
        return 2
    left_out = []
    if counts["other_version"]:
        left_out.append(
            f"{counts['other_version']:,} of other model versions (--model-version all keeps them)"
        )
    if counts["other_schema"]:
        left_out.append(f"{counts['other_schema']:,} whose inputs do not match {args.schema}")
    print(
        f"churnops log export: {rows:,} predictions of model "
        f"{version or 'any version'} ({known:,} with a known outcome) -> {args.out}"
        + (f"; left out {' and '.join(left_out)}" if left_out else "")
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from churnops.serving.settings import ENV

    # the workers build the app from the environment (uvicorn's factory), so pass options there
    for option, field in _SETTING_OF.items():
        if getattr(args, option):
            os.environ[ENV[field]] = str(getattr(args, option))
    try:  # a bad setting fails here, naming it and the value, before any worker starts
        settings_from_env()
    except ValueError as exc:
        print(f"churnops serve: error: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(
        "churnops.serving.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        timeout_keep_alive=args.keep_alive,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
