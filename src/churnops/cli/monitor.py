"""`churnops monitor`: the monitor stage's checks over a partitioned batch (a folder or glob of
Parquet or CSV files of any total size), part by part, in this process or on a Dask cluster:
quality, drift, performance when labelled, alerts by `monitor.rules`, the retraining decision and
the Evidently page on a seeded sample; the monitor stage's files in --out-dir."""

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
    command.add_argument("--params", type=Path, help="params file (default: CHURNOPS_PARAMS)")
    scheduler_options(command)
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from churnops.compute.engine import EngineError
    from churnops.files import refuse_overwrite, staged_outputs
    from churnops.monitoring.batch_monitor import OUTPUT_FILES
    from churnops.stage import USER_ERRORS

    try:
        # refused before the work, not after it
        refuse_overwrite(*(args.out_dir / n for n in OUTPUT_FILES), overwrite=args.overwrite)
        monitored = _monitor(args)
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
    if monitored.failing:
        print(f"churnops monitor: failing: {monitored.failing}", file=sys.stderr)
        return FAILING
    return 0


def _monitor(args: argparse.Namespace) -> Any:
    from tqdm import tqdm

    from churnops.compute.engine import describe, engine
    from churnops.config import load_params
    from churnops.data.schema import DataError
    from churnops.files import read_json
    from churnops.monitoring import batch_monitor, evidently_report, partitioned
    from churnops.serving import batch_dataset
    from churnops.serving.settings import params_path

    def say(line: str) -> None:
        print(f"churnops monitor: {line}", file=sys.stderr)

    params = load_params(params_path(args.params))
    base, settings = params["base"], params["monitor"]
    files = batch_dataset.input_files(args.batch)
    scheduler, workers = scheduler_of(args)
    checks = batch_monitor.checks(
        params,
        read_json(args.meta),
        read_json(args.evaluation),
        read_json(args.classification),
        base["positive_label"],
    )
    prepared, reference = _setup(args, params, checks)
    say(f"{len(files):,} part(s) from {args.batch} on {describe(scheduler, workers)}")
    with (
        engine(scheduler, workers, say=say) as client,
        tqdm(
            desc="monitoring", unit="rows", total=batch_dataset.parquet_rows(files), disable=None
        ) as bar,
    ):
        total = partitioned.summarize(files, prepared, client=client, progress=bar.update)
    if not total.rows:
        raise DataError(f"--batch {args.batch}: its {len(files)} file(s) hold no rows")
    say(f"{total.rows:,} rows read; checking them against {len(reference):,} reference rows")
    return batch_monitor.finish(
        partitioned.assess(prepared, total, **checks),
        evidently_report.sample(reference, settings["evidently_sample_rows"], base["seed"]),
        total.sampled(),
        prepared.seen,
        params,
        rows=total.rows,
        labelled=total.labelled,
        source=total.source,
        threshold=checks["threshold"],
        withheld=prepared.withheld,
    )


def _setup(args: argparse.Namespace, params: dict[str, Any], checks: dict[str, Any]) -> Any:
    """The parts' setup and the scored reference rows."""
    import joblib

    from churnops.files import CsvFormat, read_json, read_table
    from churnops.monitoring import batch_monitor, partitioned

    base, settings = params["base"], params["monitor"]
    schema = read_json(args.schema)
    return partitioned.setup(
        read_table(args.reference),
        schema,
        joblib.load(args.model),
        target=base["target"],
        positive_label=base["positive_label"],
        withheld=batch_monitor.withheld_columns(params, schema),
        thresholds=(checks["threshold"], checks["beside"][0]),
        latency_column=settings.get("latency_column"),
        sample_rows=settings["evidently_sample_rows"],
        seed=base["seed"],
        csv=CsvFormat.from_params(params),
    )
