"""`churnops gate`: the workspace's model against the version in a registry stage now (latency
included), on the rows neither trained on; exit 0 on pass, 1 on refusal (naming the failed
criteria). The pipeline's gate stage judges against the version params name."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add(commands: Any) -> None:
    """Declare the command and its options."""
    gate = commands.add_parser(
        "gate", help="compare the workspace's model with the champion before promotion"
    )
    gate.add_argument("--champion-stage", default="prod", choices=("staging", "prod"))
    gate.add_argument("--params", type=Path, default=Path("params.yaml"))
    gate.add_argument(
        "--out-dir",
        type=Path,
        default=Path(".churnops/gate"),
        help="where the decision goes (default .churnops/gate; reports/gate is the pipeline "
        "stage's)",
    )
    gate.add_argument(
        "--holdout",
        type=Path,
        help="also judge on these rows: the newest labelled production window, held out of "
        "training (a CSV or Parquet file in the training data's columns)",
    )
    gate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from churnops.config import load_params
    from churnops.files import CsvFormat, read_table, staged_outputs
    from churnops.params import ParamsError
    from churnops.registry import bundle, gate, versions

    try:
        params = load_params(args.params)
        holdout = (
            read_table(args.holdout, csv=CsvFormat.from_params(params)) if args.holdout else None
        )
        champion = versions.in_stage(Path("."), args.champion_stage)
        report = gate.decide(Path("."), params, champion=champion, holdout=holdout)
    except (versions.RegistryError, bundle.BundleError, ParamsError, ValueError, OSError) as exc:
        print(f"churnops gate: error: {exc}", file=sys.stderr)
        return 2
    with staged_outputs() as out:
        out.write_json(args.out_dir / "decision.json", report)
        out.write_text(args.out_dir / "decision.md", gate.markdown(report))
    against = report["champion"] or "no champion (value thresholds only)"
    if report["decision"] == "pass":
        print(f"churnops gate: PASS - {report['challenger']} vs {against}; {args.out_dir}")
        return 0
    print(
        f"churnops gate: FAIL - {report['challenger']} vs {against}: "
        f"{', '.join(report['failed'])}; see {args.out_dir / 'decision.md'}",
        file=sys.stderr,
    )
    return 1
