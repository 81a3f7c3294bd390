"""`churnops init`: params.yaml for a new data file, each decision printed with its reason."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add(commands: Any) -> None:
    """Declare the command and its options."""
    init = commands.add_parser(
        "init",
        help="write params.yaml for a new data file (column kinds, labels, id, checks)",
        description="Profile a CSV or Parquet file inside the project and write a complete, "
        "commented params.yaml for it; `make repro` then runs the pipeline on it.",
    )
    init.add_argument(
        "--data", required=True, type=Path, help="the data file (e.g. data/raw/x.csv)"
    )
    init.add_argument("--target", required=True, help="the column to predict (two labels)")
    init.add_argument(
        "--positive", help="the label to score (default: yes/true/1..., else the rarer)"
    )
    init.add_argument(
        "--id", dest="id_column", help="the id column (default: a unique id-like one)"
    )
    init.add_argument("--out", type=Path, default=Path("params.yaml"), help="default params.yaml")
    init.add_argument("--force", action="store_true", help="replace --out if it exists")
    init.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from churnops.data.schema import DataError
    from churnops.files import InputFileError
    from churnops.params import ParamsError
    from churnops.project import init

    try:
        if args.out.exists() and not args.force:
            raise FileExistsError(f"{args.out} exists: add --force to replace it")
        plan = init.plan(
            args.data,
            args.target,
            positive=args.positive,
            id_column=args.id_column,
            root=args.out.resolve().parent,
        )
        init.write(plan, args.out, force=args.force)
    except (DataError, InputFileError, ParamsError, FileExistsError, OSError) as exc:
        print(f"churnops init: error: {exc}", file=sys.stderr)
        return 2
    for line in plan.decisions:
        print(f"  {line}")
    print(f"churnops init: wrote {args.out}; run `make repro` (or `dvc repro`) next")
    return 0
