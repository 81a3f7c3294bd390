"""`churnops monitor`: the monitor stage's checks over a partitioned batch (a folder or glob of
Parquet or CSV files of any total size), part by part, in this process or on a Dask cluster:
quality, drift, performance when labelled, alerts by `monitor.rules`, the retraining decision and
the Evidently page on a seeded sample; the monitor stage's files in --out-dir, and as the stage
does, the batch's line in the monitor's history and its alerts to the webhook."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from churnops.cli.common import scheduler_of, scheduler_options

FAILING = 3  # the alert level reached monitor.fail_on, as the monitor stage exits


def add(commands: Any) -> None:
    """Declare the command and its options."""
    command = commands.add_parser(
        "monitor", help="monitor a partitioned batch, part by part (Dask-ready)"
    )
    command.add_argument("--batch", required=True, help="a folder or a quoted glob of files")
    command.add_argument("--out-dir", type=Path, required=True, help="the monitor's reports")
    command.add_argument(
        "--reference", type=Path, default=Path("data/prepared/train.parquet"), help="compared with"
    )
    command.add_argument("--schema", type=Path, default=Path("data/prepared/schema.json"))
    command.add_argument("--model", type=Path, default=Path("models/model.joblib"))
    command.add_argument("--meta", type=Path, default=Path("models/model_meta.json"))
    command.add_argument(
        "--evaluation", type=Path, default=Path("reports/evaluate/metrics.json"), help="evaluate's"
    )
    command.add_argument(
        "--classification",
        type=Path,
        default=Path("reports/evaluate/classification_report.json"),
        help="evaluate's figures at the served threshold",
    )
    command.add_argument("--overwrite", action="store_true", help="replace --out-dir's files")
    command.add_argument(
        "--history",
        type=Path,
        default=Path("logs/monitor_history.jsonl"),
        help="the monitor's history, one line per monitored batch (the stage's)",
    )
    command.add_argument(
        "--delivery-log",
        type=Path,
        default=Path("logs/alerts.jsonl"),
        help="where alert deliveries are recorded (the stage's)",
    )
    command.add_argument("--params", type=Path, help="params file (default: CHURNOPS_PARAMS)")
    scheduler_options(command)
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from churnops.compute.engine import EngineError
    from churnops.files import refuse_overwrite, staged_outputs
    from churnops.monitoring.batch_monitor import OUTPUT_FILES, publish
    from churnops.stage import USER_ERRORS

    try:
        # refused before the work, not after it
        refuse_overwrite(*(args.out_dir / n for n in OUTPUT_FILES), overwrite=args.overwrite)
        monitored, batch_sha256, model, webhook = _monitor(args)
        outputs = monitored.outputs()
        with staged_outputs() as out:
            for name, content in outputs.items():
                write = out.write_text if isinstance(content, str) else out.write_json
                write(args.out_dir / name, content)
    except (*USER_ERRORS, EngineError, ValueError, OSError) as exc:
        print(f"churnops monitor: error: {exc}", file=sys.stderr)
        return 2
    for line in monitored.lines:
        print(f"churnops {line}")
    print(f"churnops monitor: wrote {len(outputs)} files to {args.out_dir}")
    for line in publish(
        monitored,
        webhook,
        batch=args.batch,
        batch_sha256=batch_sha256,
        model=model,
        history_path=args.history,
        delivery_log=args.delivery_log,
    ):
        print(f"churnops {line}")
    if monitored.failing:
        print(f"churnops monitor: failing: {monitored.failing}", file=sys.stderr)
        return FAILING
    return 0


def _monitor(args: argparse.Namespace) -> tuple[Any, str, str, dict[str, Any]]:
    """The answer, the batch's sha256, the model's short hash and the webhook settings."""
    from tqdm import tqdm

    from churnops.compute.engine import describe, engine
    from churnops.config import load_params
    from churnops.data import parts
    from churnops.monitoring.batch_monitor import Trained
    from churnops.monitoring.parts_monitor import monitor_parts
    from churnops.serving.settings import params_path

    def say(line: str) -> None:
        print(f"churnops monitor: {line}", file=sys.stderr)

    params = load_params(params_path(args.params))
    files = parts.input_files(args.batch)
    scheduler, workers = scheduler_of(args)
    trained = Trained.read(args)
    say(f"{len(files):,} part(s) from {args.batch} on {describe(scheduler, workers)}")
    total = parts.parquet_rows(files)
    with (
        engine(scheduler, workers, say=say) as client,
        tqdm(desc="monitoring", unit="rows", total=total, disable=None) as bar,
    ):
        monitored = monitor_parts(files, trained, params, client=client, progress=bar.update)
    short_model = trained.meta["model_sha256"][:12]
    return monitored, parts.digest(files), short_model, params["monitor"]["webhook"]
