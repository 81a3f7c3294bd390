"""The monitor's drift and quality checks over a partitioned batch (a folder or glob of Parquet
files, e.g. a month of exported predictions), part by part: each part is typed and scored the
way the monitor does it (`monitor.scored_rows`), reduced to sufficient statistics
(`sufficient.Reference.summarize`) and dropped; only the summed statistics and the reference
(the training split) are ever held. In this process, or with a `distributed.Client` one task per
part on the cluster's workers (the model, the reference and the schema shipped to each worker
once). The columns' tests and decisions are those of `monitor.assess`: the input and derived
columns in one Benjamini-Hochberg family, the prediction (and the target, when every row is
labelled) apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from churnops.compute.engine import run_tasks
from churnops.monitoring import drift, monitor
from churnops.monitoring.sufficient import ColumnsPart, Reference

CHUNK_ROWS = 250_000  # rows of a part held at once


@dataclass(frozen=True)
class Setup:
    """What every part needs: the schema, the model, the target and the reference statistics."""

    schema: dict[str, Any]
    model: Any
    target: str
    positive_label: Any
    reference: Reference  # inputs, derived features, the prediction (and the label)

    def summarize(self, path: str) -> ColumnsPart:
        """One file's statistics, read CHUNK_ROWS rows at a time."""
        total = ColumnsPart()
        for batch in pq.ParquetFile(path).iter_batches(batch_size=CHUNK_ROWS):
            scored = monitor.scored_rows(
                batch.to_pandas(),
                self.schema,
                self.model,
                target=self.target,
                positive_label=self.positive_label,
            )
            # a chunk without every label leaves the target out (so the sum says it is partial)
            present = {c: k for c, k in self.reference.kinds.items() if c in scored}
            total = total + _restricted(self.reference, present).summarize(scored)
        return total


def setup(
    reference_rows: pd.DataFrame,
    schema: Mapping[str, Any],
    model: Any,
    *,
    target: str,
    positive_label: Any,
) -> Setup:
    """The reference statistics of the training rows, typed and scored as the parts will be."""
    scored = monitor.scored_rows(
        reference_rows, schema, model, target=target, positive_label=positive_label
    )
    kinds = {c: f["kind"] for c, f in schema["features"].items()}
    kinds.update({n: d["kind"] for n, d in scored.attrs["derived"].items()})
    kinds[monitor.PREDICTION] = "numeric"
    if monitor.LABEL in scored:
        kinds[monitor.LABEL] = "categorical"
    ranges = {
        c: (f.get("min"), f.get("max"))
        for c, f in schema["features"].items()
        if f["kind"] == "numeric"
    }
    return Setup(
        schema=dict(schema),
        model=model,
        target=target,
        positive_label=positive_label,
        reference=Reference.of(scored, kinds, ranges),
    )


def summarize(
    files: Sequence[Path],
    prepared: Setup,
    *,
    client: Any = None,
    progress: Callable[[int], None] = lambda n: None,
) -> ColumnsPart:
    """The summed statistics of every file (on the client's workers when given)."""
    parts: dict[int, ColumnsPart] = {}

    def done(result: tuple[int, ColumnsPart]) -> None:
        index, part = result
        parts[index] = part
        progress(part.rows)

    paths = list(enumerate(str(p.resolve()) for p in files))
    run_tasks(client, _summarize, paths, shared={"prepared": prepared}, done=done)
    # summed in the files' order, whatever order the tasks finished in: the same float sums
    return sum((parts[i] for i in sorted(parts)), ColumnsPart())


def _summarize(item: tuple[int, str], *, prepared: Setup) -> tuple[int, ColumnsPart]:
    index, path = item
    return index, prepared.summarize(path)


def assess(
    prepared: Setup, total: ColumnsPart, *, alpha: float, min_effect: Mapping[str, float]
) -> dict[str, Any]:
    """The drift checks of `monitor.assess` (columns, derived features, dataset verdict,
    prediction and target drift) and each column's missing and out-of-range shares."""
    reference, features = prepared.reference, prepared.schema["features"]
    extra = {monitor.PREDICTION, monitor.LABEL}
    family = {c: k for c, k in reference.kinds.items() if c not in extra}
    tested = _restricted(reference, family).column_drift(total, alpha=alpha, min_effect=min_effect)
    apart = {c: k for c, k in reference.kinds.items() if c in extra and _seen(total, c)}
    others = _restricted(reference, apart).column_drift(total, alpha=alpha, min_effect=min_effect)
    columns = {c: tested[c] for c in features}
    return {
        "rows": total.rows,
        "columns": columns,
        "derived": {c: r for c, r in tested.items() if c not in features},
        "dataset": None,
        "prediction": others[monitor.PREDICTION],
        "target": others.get(monitor.LABEL),
        "quality": _quality(total, features),
    }


def verdict(result: dict[str, Any], drift_share: float) -> dict[str, Any]:
    """`result` with its dataset verdict (`drift.dataset_verdict`)."""
    return {**result, "dataset": drift.dataset_verdict(result["columns"], drift_share)}


def _quality(total: ColumnsPart, features: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    out = {}
    for column, info in features.items():
        if info["kind"] == "numeric":
            part = total.numeric[column]
            missing, present = part.missing, part.n
            entry = {
                "out_of_range_share": total.outside.get(column, 0) / present if present else 0.0
            }
        else:
            counts = total.counts[column]
            missing = int(counts.get("(missing)", 0))
            present = int(counts.sum()) - missing
            unseen = counts.drop("(missing)", errors="ignore")
            unseen = unseen[~unseen.index.isin(info["categories"])]
            entry = {"unseen_share": float(unseen.sum() / present) if present else 0.0}
        share = missing / max(total.rows, 1)
        out[column] = {
            "missing_share": share,
            "missing_increase": share - info["missing_share"],
            **entry,
        }
    return out


def _seen(total: ColumnsPart, column: str) -> bool:
    """Whether every row has the column's statistics (the label: only when every part was
    labelled)."""
    if column in total.numeric:
        return True
    return column in total.counts and int(total.counts[column].sum()) == total.rows


def _restricted(reference: Reference, kinds: Mapping[str, str]) -> Reference:
    return Reference(
        dict(kinds),
        {c: s for c, s in reference.numeric.items() if c in kinds},
        {c: s for c, s in reference.counts.items() if c in kinds},
        {c: r for c, r in reference.ranges.items() if c in kinds},
    )
