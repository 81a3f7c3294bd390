"""`churnops predict`: score a CSV or Parquet file in chunks, rejects with reasons beside; or a
folder or glob of files into folders of parts, in this process or on a Dask cluster."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from churnops.cli.common import (
    csv_format,
    fill_from_settings,
    from_settings,
    scheduler_of,
    scheduler_options,
)


def add(commands: Any) -> None:
    """Declare the command and its options."""
    predict = commands.add_parser("predict", help="score a CSV or Parquet file in chunks")
    predict.add_argument(
        "--input",
        required=True,
        help="a .csv or .parquet file; or a folder or a quoted glob ('dir/*.parquet') of them",
    )
    predict.add_argument(
        "--output",
        required=True,
        type=Path,
        help="predictions (.parquet); for a folder or glob input, a folder of parts",
    )
    predict.add_argument(
        "--rejects",
        type=Path,
        help="rejected rows with reasons (default: OUTPUT stem + .rejects.parquet; for a "
        "folder or glob input, the folder OUTPUT.rejects)",
    )
    predict.add_argument(
        "--overwrite", action="store_true", help="replace OUTPUT and REJECTS if they exist"
    )
    predict.add_argument("--chunk-rows", type=int, default=100_000)
    predict.add_argument(
        "--explain",
        type=int,
        metavar="TOP",
        help="add an explanation column: the TOP largest reason codes per row, as JSON "
        "(as /predict?explain=true gives them; non-linear models need churnops[explain])",
    )
    # unset options come from the service's settings: params serve, CHURNOPS_*, the defaults
    predict.add_argument("--policy", choices=("reject", "flag"), help=from_settings("policy"))
    predict.add_argument("--model", type=Path, help=from_settings("model"))
    predict.add_argument("--meta", type=Path, help=from_settings("meta"))
    predict.add_argument("--schema", type=Path, help=from_settings("schema"))
    predict.add_argument("--compiled", type=Path, help=from_settings("compiled"))
    predict.add_argument(
        "--engine", choices=("auto", "onnx", "sklearn"), help=from_settings("engine")
    )
    scheduler_options(predict)
    predict.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from churnops.compute.engine import EngineError
    from churnops.data import parts
    from churnops.data.contract import Contract
    from churnops.serving import artifact, batch_dataset
    from churnops.stage import USER_ERRORS

    dataset = parts.is_dataset(args.input)
    suffix = ".rejects" if dataset else ".rejects.parquet"
    args.rejects = args.rejects or args.output.with_name(args.output.stem + suffix)
    try:
        fill_from_settings(args, ("policy", "model", "meta", "schema", "compiled", "engine"))
        if args.chunk_rows < 1:
            raise ValueError(f"--chunk-rows must be >= 1, got {args.chunk_rows}")
        files = parts.input_files(args.input) if dataset else [Path(args.input)]
        scheduler = scheduler_of(args) if dataset else None
        if dataset:
            batch_dataset.check_folders(files, args.output, args.rejects, overwrite=args.overwrite)
        else:
            _check_file(args)
        model = artifact.load(
            args.model,
            args.meta,
            args.schema,
            compiled_dir=args.compiled,
            engine=args.engine,
            threads=os.cpu_count() or 1,
        )
        contract = Contract(model.schema, args.policy)
        if args.explain is not None:
            if args.explain < 1:
                raise ValueError(
                    f"--explain takes how many reason codes (>= 1), got {args.explain}"
                )
            model.explainer  # noqa: B018  (refuse before reading anything when it cannot)
        if dataset:
            counts = _score_dataset(args, files, model, contract, scheduler)
        else:
            counts = _score_file(args, model, contract)
    except (*USER_ERRORS, artifact.ModelIntegrityError, EngineError, ValueError, OSError) as exc:
        # explain.NoExplanation is a ValueError: it names the model's type
        print(f"churnops predict: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"churnops predict: {counts['rows']:,} rows, {counts['scored']:,} scored with "
        f"{model.engine} -> {args.output} ({counts['flagged']:,} flagged), "
        f"{counts['rejected']:,} rejected -> {args.rejects}"
    )
    return 0


def _check_file(args: argparse.Namespace) -> None:
    from churnops.serving import batch_scoring

    batch_scoring.check_paths(Path(args.input), args.output, args.rejects, overwrite=args.overwrite)


def _score_file(args: argparse.Namespace, model: Any, contract: Any) -> dict[str, int]:
    from tqdm import tqdm

    from churnops.files import read_chunks, staged_outputs
    from churnops.serving import batch_scoring

    with tqdm(desc="scoring", unit="rows", disable=None) as bar, staged_outputs() as out:
        return batch_scoring.score(
            read_chunks(
                args.input, args.chunk_rows, csv_format(args), categories=model.categorical_features
            ),
            model,
            contract,
            output=out.path(args.output),
            rejects=out.path(args.rejects),
            progress=bar.update,
            explain_top=args.explain,
        )


def _score_dataset(
    args: argparse.Namespace,
    files: list[Path],
    model: Any,
    contract: Any,
    scheduler: tuple[str, int],
) -> dict[str, int]:
    from tqdm import tqdm

    from churnops.compute.engine import describe, engine
    from churnops.data import parts
    from churnops.files import staged_folders
    from churnops.serving import batch_dataset

    def say(line: str) -> None:
        print(f"churnops predict: {line}", file=sys.stderr)

    name, workers = scheduler
    say(f"{len(files):,} file(s) from {args.input}, scored on {describe(name, workers)}")
    total = parts.parquet_rows(files)
    with (
        engine(name, workers, say=say) as client,
        staged_folders(args.output, args.rejects) as (output, rejects),
        tqdm(desc="scoring", unit="rows", total=total, disable=None) as bar,
    ):
        return batch_dataset.score_dataset(
            files,
            model,
            contract,
            output=output,
            rejects=rejects,
            chunk_rows=args.chunk_rows,
            csv=csv_format(args),
            client=client,
            progress=bar.update,
            explain_top=args.explain,
        )
