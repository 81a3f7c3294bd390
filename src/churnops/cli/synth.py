"""`churnops synth`: synthetic rows shaped like the training split, as a folder of Parquet
parts, with a fidelity report (per-column statistics, and the real test ROC-AUC of the model
refitted on synthetic rows)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from churnops.cli.common import scheduler_of, scheduler_options


def add(commands: Any) -> None:
    """Declare the command and its options."""
    synth = commands.add_parser(
        "synth", help="synthetic rows shaped like the training data, at any size (Parquet parts)"
    )
    synth.add_argument("--rows", type=int, required=True, help="how many rows, e.g. 10000000")
    synth.add_argument("--out", type=Path, required=True, help="the folder of parts to write")
    synth.add_argument("--part-rows", type=int, default=1_000_000, help="rows per part")
    synth.add_argument(
        "--train", type=Path, default=Path("data/prepared/train.parquet"), help="fitted on"
    )
    synth.add_argument(
        "--test",
        type=Path,
        default=Path("data/prepared/test.parquet"),
        help="the real rows both models are scored on in the fidelity check",
    )
    synth.add_argument(
        "--model", type=Path, default=Path("models/model.joblib"), help="refitted on synthetic rows"
    )
    synth.add_argument("--seed", type=int, help="default: params base.seed")
    synth.add_argument(
        "--no-check", action="store_true", help="skip the fidelity check (and its report)"
    )
    synth.add_argument(
        "--report", type=Path, help="fidelity report (default: OUT + .fidelity.json beside it)"
    )
    synth.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    synth.add_argument("--params", type=Path, help="params file (default: CHURNOPS_PARAMS)")
    scheduler_options(synth)
    synth.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from churnops.compute.engine import EngineError
    from churnops.config import load_params
    from churnops.lifecycle import synth
    from churnops.serving.settings import params_path
    from churnops.stage import USER_ERRORS

    args.report = args.report or args.out.with_name(args.out.name + ".fidelity.json")
    try:
        params = load_params(params_path(args.params))
        _check_outputs(args)
        real = _write(args, params)
        if args.no_check:
            return 0
        report = _check(args, params, real)
    except (*USER_ERRORS, EngineError, ValueError, OSError) as exc:
        print(f"churnops synth: error: {exc}", file=sys.stderr)
        return 2
    for line in synth.fidelity_lines(report):
        print(line)
    print(f"churnops synth: fidelity report -> {args.report}")
    return 0


def _say(line: str) -> None:
    print(f"churnops synth: {line}", file=sys.stderr)


def _check_outputs(args: argparse.Namespace) -> None:
    from churnops.files import refuse_overwrite

    refuse_overwrite(args.out, args.report, overwrite=args.overwrite)
    if args.out.exists() and any(p.suffix != ".parquet" for p in args.out.iterdir()):
        raise ValueError(f"{args.out} holds files other than parts: choose another folder")


def _write(args: argparse.Namespace, params: dict[str, Any]) -> Any:
    """Fit on the training split and write the parts; the training rows."""
    from tqdm import tqdm

    from churnops.compute.engine import describe, engine
    from churnops.data import synthetic
    from churnops.files import read_table, staged_folders
    from churnops.lifecycle import synth

    base = params["base"]
    scheduler, workers = scheduler_of(args)
    parts = synth.plan(args.rows, args.part_rows, args.out)
    args.seed = base["seed"] if args.seed is None else args.seed
    real = read_table(args.train)
    synthesizer = synthetic.fit(
        real,
        params["prepare"]["columns"],
        target=base["target"],
        id_column=base["id_column"],
        seed=args.seed,
    )
    where = describe(scheduler, workers)
    _say(f"fitted on {len(real):,} rows of {args.train}; {len(parts)} part(s) on {where}")
    with (
        engine(scheduler, workers, say=_say) as client,
        staged_folders(args.out) as (folder,),
        tqdm(desc="synthesizing", unit="rows", total=args.rows, disable=None) as bar,
    ):
        staged = synth.plan(args.rows, args.part_rows, folder)
        written = synth.write_parts(
            synthesizer, staged, seed=args.seed, client=client, progress=bar.update
        )
    print(f"churnops synth: {written:,} rows -> {args.out} ({len(parts)} part(s))")
    return real


def _check(args: argparse.Namespace, params: dict[str, Any], real: Any) -> dict[str, Any]:
    """The fidelity report of the first part, written to --report."""
    import joblib
    import pandas as pd

    from churnops.files import dumps_json, read_table
    from churnops.lifecycle import synth

    base = params["base"]
    report = synth.fidelity(
        real,
        read_table(args.test),
        pd.read_parquet(args.out / synth.PART.format(0)),
        joblib.load(args.model),
        params["prepare"]["columns"],
        target=base["target"],
        positive_label=base["positive_label"],
        alpha=params["monitor"]["alpha"],
        min_effect=params["monitor"]["min_effect"],
    )
    args.report.write_text(dumps_json(report), encoding="utf-8")
    return report
