"""monitor: compare a production batch with the training data: schema checks, drift per feature,
prediction and target drift, performance when labelled, alerts by rule, a retraining decision,
and the Evidently report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from churnops.config import load_params
from churnops.files import staged_outputs
from churnops.monitoring.batch_monitor import Trained, publish
from churnops.monitoring.parts_monitor import monitor_path
from churnops.stage import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--batch", required=True, help="a file, or a folder of Parquet/CSV parts")
    parser.add_argument("--reference", required=True, help="the training split")
    parser.add_argument("--schema", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--meta", required=True)
    parser.add_argument("--evaluation", required=True, help="evaluate's metrics.json")
    parser.add_argument(
        "--classification", required=True, help="evaluate's classification_report.json"
    )
    parser.add_argument("--out-dir", required=True, help="reports/monitor")
    parser.add_argument(
        "--delivery-log",
        default="logs/alerts.jsonl",
        help="where alert deliveries are recorded (not a pipeline output)",
    )
    parser.add_argument(
        "--history",
        default="logs/monitor_history.jsonl",
        help="one line per monitored batch, for trends (not a pipeline output)",
    )
    args = parser.parse_args()

    params = load_params(args.params)
    trained = Trained.read(args)
    monitored, batch_sha256 = monitor_path(args.batch, trained, params)
    out_dir = Path(args.out_dir)
    with staged_outputs() as out:
        for name, content in monitored.outputs().items():
            write = out.write_text if isinstance(content, str) else out.write_json
            write(out_dir / name, content)
    for line in monitored.lines:
        print(line)
    for line in publish(
        monitored,
        params["monitor"]["webhook"],
        batch=args.batch,
        batch_sha256=batch_sha256,
        model=trained.meta["model_sha256"][:12],
        history_path=Path(args.history),
        delivery_log=Path(args.delivery_log),
    ):
        print(line)
    if monitored.failing:
        print(f"monitor: failing: {monitored.failing}", file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    run("monitor", main)
