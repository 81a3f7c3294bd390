"""dashboard: the monitored batch over time as one offline HTML page - volume, latency, scores,
drift per window, performance as outcomes arrive, error rate by segment, by hour and weekday,
and the A/B arms. The batch is an exported prediction log (`churnops log export`) or the
simulate stage's batch, which this stage scores with the pipeline's model."""

from __future__ import annotations

import argparse
from pathlib import Path

import joblib

from churnops.config import load_params
from churnops.data import parts
from churnops.files import CsvFormat, read_json, read_table, staged_outputs
from churnops.lifecycle import dashboard
from churnops.stage import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--batch", required=True, help="monitor.current_path")
    parser.add_argument("--reference", required=True, help="the training split")
    parser.add_argument("--schema", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--meta", required=True)
    parser.add_argument("--out-dir", required=True, help="reports/dashboard")
    args = parser.parse_args()

    params = load_params(args.params)
    schema, meta = read_json(args.schema), read_json(args.meta)
    rows, served = dashboard.as_served(
        parts.read_batch(args.batch, CsvFormat.from_params(params)),
        schema,
        joblib.load(args.model),
        float(meta["decision_threshold"]["value"]),
    )
    window = params["monitor"]["window"]
    tables = dashboard.series(
        rows, read_table(args.reference), schema, window=window, positive=meta["positive_label"]
    )
    note = None if served else (
        f"{args.batch} was not served: the pipeline's model scored it here, and it has no "
        "latency. Point monitor.current_path at an exported log to watch the service."
    )  # fmt: skip
    with staged_outputs() as out:
        dashboard.render(tables, out.path(args.out_dir), title=dashboard.title(schema),
                         runs=None, deliveries=None, note=note)  # fmt: skip
    print(
        f"dashboard: {len(rows):,} rows in {tables['volume'].shape[0]} {window} windows -> "
        f"{Path(args.out_dir) / 'index.html'}"
    )


if __name__ == "__main__":
    run("dashboard", main)
