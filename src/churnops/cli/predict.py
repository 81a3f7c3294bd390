"""`churnops predict`: score a CSV or Parquet file in chunks, rejects with reasons beside."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from churnops.cli.common import csv_format, fill_from_settings, from_settings


def add(commands: Any) -> None:
    """Declare the command and its options."""
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
    predict.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from churnops.data.contract import Contract
    from churnops.files import staged_outputs
    from churnops.serving import artifact, batch_scoring
    from churnops.stage import USER_ERRORS

    rejects = args.rejects or args.output.with_name(args.output.stem + ".rejects.parquet")
    try:
        fill_from_settings(args, ("policy", "model", "meta", "schema", "compiled", "engine"))
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
        if args.explain is not None:
            if args.explain < 1:
                raise ValueError(
                    f"--explain takes how many reason codes (>= 1), got {args.explain}"
                )
            model.explainer  # noqa: B018  (refuse before reading anything when it cannot)
        with tqdm(desc="scoring", unit="rows", disable=None) as bar, staged_outputs() as out:
            counts = batch_scoring.score(
                batch_scoring.read_chunks(
                    args.input,
                    args.chunk_rows,
                    csv_format(args),
                    categories=model.categorical_features,
                ),
                model,
                contract,
                output=out.path(args.output),
                rejects=out.path(rejects),
                progress=bar.update,
                explain_top=args.explain,
            )
    except (*USER_ERRORS, artifact.ModelIntegrityError, ValueError, OSError) as exc:
        # explain.NoExplanation is a ValueError: it names the model's type
        print(f"churnops predict: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"churnops predict: {counts['rows']:,} rows, {counts['scored']:,} scored with "
        f"{model.engine} -> {args.output} ({counts['flagged']:,} flagged), "
        f"{counts['rejected']:,} rejected -> {rejects}"
    )
    return 0
