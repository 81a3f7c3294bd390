"""The monitor's work on a batch in parts (a folder or glob of files of any total size), as one
call: `batch_monitor.monitor_batch`'s answer, from statistics summed part by part
(`partitioned`), in this process or on a Dask client. `churnops monitor` and the monitor stage
(when `monitor.current_path` is a folder) call it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from churnops.compute.engine import engine
from churnops.data import parts
from churnops.data.cleaning import DataSpec
from churnops.data.schema import DataError
from churnops.files import CsvFormat, file_digest, read_table
from churnops.monitoring import batch_monitor, evidently_report, partitioned
from churnops.monitoring.batch_monitor import Monitored, Trained, monitor_batch

log = logging.getLogger(__name__)


def monitor_parts(
    files: Sequence[Path],
    trained: Trained,
    params: Mapping[str, Any],
    *,
    client: Any = None,
    progress: Callable[[int], None] = lambda n: None,
) -> Monitored:
    """Check, score and compare the batch's files against the training rows.

    Raises:
        DataError: the files hold no rows (or a part fails the monitor's checks).
    """
    base, settings = params["base"], params["monitor"]
    checks = trained.checks(params)
    withheld = batch_monitor.withheld_columns(params, trained.schema)
    prepared, reference = partitioned.setup(
        trained.reference_rows,
        trained.schema,
        trained.model,
        target=base["target"],
        positive_label=base["positive_label"],
        withheld=withheld,
        thresholds=checks.thresholds,
        latency_column=settings.get("latency_column"),
        sample_rows=settings["evidently_sample_rows"],
        seed=base["seed"],
        csv=CsvFormat.from_params(params),
    )
    total = partitioned.summarize(files, prepared, client=client, progress=progress)
    if not total.rows:
        raise DataError(f"the batch's {len(files)} file(s) hold no rows")
    log.info("%d rows in %d part(s); reference: %d training rows", total.rows, len(files),
             len(reference))  # fmt: skip
    return batch_monitor.finish(
        partitioned.assess(prepared, total, checks),
        evidently_report.sample(reference, settings["evidently_sample_rows"], base["seed"]),
        total.sampled(),
        prepared.seen,
        params,
        rows=total.rows,
        labelled=total.labelled,
        source=total.source,
        threshold=checks.threshold,
        withheld=withheld,
    )


def monitor_path(batch: str, trained: Trained, params: Mapping[str, Any]) -> tuple[Monitored, str]:
    """The monitor stage's batch, whatever `batch` names: one file, read whole
    (`monitor_batch`), or a folder or glob of files, part by part on `base.scheduler`
    (`monitor_parts`). Returns the answer and the batch's sha256 (of its files', in parts)."""
    if not parts.is_dataset(batch):
        rows = read_table(batch, csv=CsvFormat.from_params(params))
        spec = DataSpec.from_params(params)
        return monitor_batch(rows, trained, spec, params), file_digest(batch)
    files = parts.input_files(batch)
    base = params["base"]
    log.info("%d part(s) from %s on %s", len(files), batch, base["scheduler"])
    with engine(base["scheduler"], base["n_workers"], say=log.info) as client:
        monitored = monitor_parts(files, trained, params, client=client)
    return monitored, parts.digest(files)
