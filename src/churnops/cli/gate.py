"""`churnops gate`: the workspace's model against the registry's prod version, on the rows
neither trained on; exit 0 on pass, 1 on refusal (naming the failed criteria)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any


def add(commands: Any) -> None:
    """Declare the command and its options."""
    gate = commands.add_parser(
        "gate", help="compare the workspace's model with the champion before promotion"
    )
    gate.add_argument("--champion-stage", default="prod", choices=("staging", "prod"))
    gate.add_argument("--params", type=Path, default=Path("params.yaml"))
    gate.add_argument("--out-dir", type=Path, default=Path("reports/gate"))
    gate.add_argument(
        "--holdout",
        type=Path,
        help="also judge on these rows: the newest labelled production window, held out of "
        "training (a CSV or Parquet file in the training data's columns)",
    )
    gate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from churnops.config import load_params
    from churnops.files import CsvFormat, read_json, read_table, staged_outputs
    from churnops.params import ParamsError
    from churnops.registry import bundle, gate, versions

    repo = Path(".")
    try:
        params = load_params(args.params)
        meta = read_json("models/model_meta.json")
        challenger = gate.load(
            "challenger", Path("models/serving"), f"workspace {meta['model_sha256'][:12]}"
        )
        version = versions.in_stage(repo, args.champion_stage)
        champion, trained_on = None, None
        if version is not None:
            champion = gate.load("champion", versions.fetch(repo, version=version), version)
            with tempfile.TemporaryDirectory() as tmp:
                path = versions.fetch_file(
                    repo, "data/prepared/train.parquet", version, Path(tmp) / "train.parquet"
                )
                trained_on = read_table(path)
        rows = gate.rows_neither_trained_on(
            read_table("data/prepared/test.parquet"), trained_on, params["base"]["id_column"]
        )
        test_rows = len(rows)
        holdout = (
            read_table(args.holdout, csv=CsvFormat.from_params(params)) if args.holdout else None
        )
        rows = gate.with_holdout(rows, holdout)
        report = gate.judge(challenger, champion, rows, params)
        report["rows_from"] = {"test_split": test_rows, "holdout": len(rows) - test_rows}
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
