"""`churnops monitor`: the monitor's drift and quality checks over a partitioned batch (a folder
or glob of Parquet files of any total size), part by part, in this process or on a Dask
cluster; writes drift.json and quality.json in the monitor stage's shapes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from churnops.cli.common import scheduler_of, scheduler_options


def add(commands: Any) -> None:
    """Declare the command and its options."""
    command = commands.add_parser(
        "monitor", help="drift and quality of a partitioned batch, part by part (Dask-ready)"
    )
    command.add_argument("--batch", required=True, help="a folder or a quoted glob of .parquet")
    command.add_argument("--out-dir", type=Path, required=True, help="drift.json, quality.json")
    command.add_argument(
        "--reference", type=Path, default=Path("data/prepared/train.parquet"), help="compared with"
    )
    command.add_argument("--schema", type=Path, default=Path("data/prepared/schema.json"))
    command.add_argument("--model", type=Path, default=Path("models/model.joblib"))
    command.add_argument("--overwrite", action="store_true", help="replace --out-dir's files")
    command.add_argument("--params", type=Path, help="params file (default: CHURNOPS_PARAMS)")
    scheduler_options(command)
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import joblib
    from tqdm import tqdm

    from churnops.compute.engine import EngineError, describe, engine
    from churnops.config import load_params
    from churnops.files import read_json, read_table, refuse_overwrite, staged_outputs
    from churnops.monitoring import partitioned
    from churnops.serving import batch_dataset
    from churnops.serving.settings import params_path
    from churnops.stage import USER_ERRORS

    def say(line: str) -> None:
        print(f"churnops monitor: {line}", file=sys.stderr)

    outputs = [args.out_dir / "drift.json", args.out_dir / "quality.json"]
    try:
        params = load_params(params_path(args.params))
        base, settings = params["base"], params["monitor"]
        files = batch_dataset.input_files(args.batch)
        if any(p.suffix.lower() == ".csv" for p in files):
            raise ValueError("churnops monitor reads Parquet parts; convert the CSV files first")
        refuse_overwrite(*outputs, overwrite=args.overwrite)
        scheduler, workers = scheduler_of(args)
        prepared = partitioned.setup(
            read_table(args.reference),
            read_json(args.schema),
            joblib.load(args.model),
            target=base["target"],
            positive_label=base["positive_label"],
        )
        say(f"{len(files):,} part(s) from {args.batch} on {describe(scheduler, workers)}")
        total_rows = batch_dataset.parquet_rows(files)
        with (
            engine(scheduler, workers, say=say) as client,
            tqdm(desc="monitoring", unit="rows", total=total_rows, disable=None) as bar,
        ):
            total = partitioned.summarize(files, prepared, client=client, progress=bar.update)
        result = partitioned.verdict(
            partitioned.assess(
                prepared, total, alpha=settings["alpha"], min_effect=settings["min_effect"]
            ),
            settings["drift_share"],
        )
        with staged_outputs() as out:
            quality = {"rows": result["rows"], "by_column": result.pop("quality")}
            out.write_json(outputs[0], {**result, "alpha": settings["alpha"]})
            out.write_json(outputs[1], quality)
    except (*USER_ERRORS, EngineError, ValueError, OSError) as exc:
        print(f"churnops monitor: error: {exc}", file=sys.stderr)
        return 2
    dataset = result["dataset"]
    print(
        f"churnops monitor: {result['rows']:,} rows; drifted columns: "
        f"{', '.join(dataset['drifted_columns']) or 'none'}; prediction drift: "
        f"{'yes' if result['prediction']['drifted'] else 'no'} -> {args.out_dir}"
    )
    return 0
