"""`churnops dashboard`: monitoring over time, one offline HTML page from the prediction log."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from churnops.cli.common import fill_from_settings, from_settings


def add(commands: Any) -> None:
    """Declare the command and its options."""
    dashboard = commands.add_parser(
        "dashboard", help="the served predictions over time as one offline HTML page"
    )
    dashboard.add_argument("--log", type=Path, help=from_settings("log"))
    dashboard.add_argument(
        "--window", choices=("day", "hour"), help="the time window (default: params monitor.window)"
    )
    dashboard.add_argument("--out-dir", type=Path, default=Path("reports/dashboard"))
    dashboard.add_argument(
        "--reference",
        type=Path,
        default=Path("data/prepared/train.parquet"),
        help="the training rows drift is measured against",
    )
    dashboard.add_argument(
        "--alerts",
        type=Path,
        default=Path("logs/alerts.jsonl"),
        help="the monitor's alert deliveries, shown as a timeline when present",
    )
    dashboard.add_argument(
        "--history",
        type=Path,
        default=Path("logs/monitor_history.jsonl"),
        help="the monitor's history, one line per monitored batch, shown as trends when present",
    )
    dashboard.add_argument(
        "--overwrite", action="store_true", help="replace --out-dir if it exists"
    )
    dashboard.add_argument("--params", type=Path, help="params file (default: CHURNOPS_PARAMS)")
    dashboard.add_argument("--meta", type=Path, help=from_settings("meta"))
    dashboard.add_argument("--schema", type=Path, help=from_settings("schema"))
    dashboard.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import shutil
    import sqlite3

    import pandas as pd

    from churnops.config import load_params
    from churnops.files import read_json, read_table, staged_outputs
    from churnops.lifecycle import dashboard
    from churnops.monitoring import history
    from churnops.params import ParamsError
    from churnops.serving import log_export
    from churnops.serving.settings import params_path

    try:
        if args.out_dir.exists() and not args.overwrite:
            raise ValueError(f"{args.out_dir} exists: give --overwrite to replace it")
        fill_from_settings(args, ("log", "meta", "schema"))
        window = args.window or load_params(params_path(args.params))["monitor"]["window"]
        meta, schema = read_json(args.meta), read_json(args.schema)
        positive = meta["positive_label"]
        negative = next(c for c in meta["classes"] if c != positive)
        with log_export.LogReader(args.log) as reader:
            parts = list(reader.export(schema, positive_label=positive, negative_label=negative))
        rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        tables = dashboard.series(
            rows, read_table(args.reference), schema, window=window, positive=positive
        )
        with staged_outputs() as out:
            page = dashboard.render(
                tables,
                out.path(args.out_dir),
                runs=history.frame(args.history),
                deliveries=dashboard.alerts(args.alerts),
                title=dashboard.title(schema),
            )
            shutil.rmtree(args.out_dir, ignore_errors=True)  # the new page is ready: replace
    except (ParamsError, ValueError, OSError, KeyError, sqlite3.Error) as exc:
        print(f"churnops dashboard: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"churnops dashboard: {len(rows):,} predictions in {tables['volume'].shape[0]} "
        f"{window} windows -> {args.out_dir / page.name}"
    )
    return 0
