"""The monitor over a partitioned batch (a folder or glob of Parquet or CSV files, e.g. a month of
exported predictions), part by part: each part is read in chunks, typed and scored the way the
monitor does it (`monitor.scored_rows`), reduced to sufficient statistics and dropped; only the
summed statistics, a bounded sample and the reference (the training split) are ever held. In this
process, or with a `distributed.Client` one task per part on the cluster's workers (the model,
the reference and the schema shipped to each worker once).

What each part gives (`Part`), summed in the files' order whatever the engine:
- per column: `sufficient.ColumnsPart` (drift and quality; see `sufficient` for exactness);
- labelled rows: `outcomes.Outcomes` (performance; ROC-AUC within a stated bound);
- the latency column: `outcomes.Latency` (its p99 within a stated bound);
- the rows the serving contract refuses, per reason; the cells coerced to missing;
- a seeded sample for the Evidently page: every row gets a uniform key from a generator seeded by
  (base.seed, the part's number in file order), and the sample is the `sample_rows` rows with the
  smallest keys, a uniform sample without replacement that no engine or chunk size changes.

`assess` then gives what `monitor.assess` gives for the whole batch: quality, drift (the input
and derived columns in one Benjamini-Hochberg family, the prediction and the target apart),
performance, alerts and the retraining decision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churnops.compute.engine import run_tasks
from churnops.files import CsvFormat, read_chunks
from churnops.monitoring import drift, monitor
from churnops.monitoring.batch_monitor import seen_schema
from churnops.monitoring.outcomes import Latency, Outcomes
from churnops.monitoring.performance import figures
from churnops.monitoring.sufficient import ColumnsPart, Reference

CHUNK_ROWS = 250_000  # rows of a part held at once
KEY = "__sample_key__"


@dataclass
class Part:
    """Sufficient statistics of some rows of the batch (see the module's docstring)."""

    sample_rows: int
    columns: ColumnsPart = field(default_factory=ColumnsPart)
    outcomes: Outcomes | None = None
    latency: Latency = field(default_factory=Latency)
    refused_rows: int = 0
    reasons: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))
    coerced: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)  # where predictions came from: rows
    sample: pd.DataFrame | None = None  # with its KEY column

    def __add__(self, other: Part) -> Part:
        samples = [s for s in (self.sample, other.sample) if s is not None]
        sample = pd.concat(samples).nsmallest(self.sample_rows, KEY) if samples else None
        sources = {
            k: self.sources.get(k, 0) + other.sources.get(k, 0)
            for k in {**self.sources, **other.sources}
        }
        return Part(
            self.sample_rows,
            self.columns + other.columns,
            _plus(self.outcomes, other.outcomes),
            self.latency + other.latency,
            self.refused_rows + other.refused_rows,
            self.reasons.add(other.reasons, fill_value=0).astype("int64"),
            monitor.add_coerced(self.coerced, other.coerced),
            dict(sorted(sources.items())),
            sample,
        )

    @property
    def rows(self) -> int:
        return self.columns.rows

    @property
    def labelled(self) -> bool:
        """Whether every row has its label."""
        return self.outcomes is not None and self.outcomes.rows == self.rows

    @property
    def source(self) -> str:
        """Where the predictions came from: served, scored, or both."""
        return " and ".join(sorted(self.sources)) or "scored"

    def sampled(self) -> pd.DataFrame:
        """The sample, in key order, without its key (and without the label unless every row
        has one)."""
        if self.sample is None:  # no rows at all
            return pd.DataFrame()
        sample = self.sample.sort_values(KEY, kind="stable").drop(columns=KEY)
        if not self.labelled:
            sample = sample.drop(columns=monitor.LABEL, errors="ignore")
        return sample.reset_index(drop=True)


@dataclass(frozen=True)
class Setup:
    """What every part needs: the schema, the model, the target and the reference statistics."""

    schema: dict[str, Any]  # the training schema, as scoring reads it
    withheld: tuple[str, ...]  # governance.pii_columns among the inputs: not monitored
    model: Any
    target: str
    positive_label: Any
    reference: Reference  # inputs, derived features, the prediction (and the label)
    derived_from: dict[str, list[str]]  # derived feature -> the inputs it is made from
    thresholds: tuple[float, ...] = (0.5,)  # where confusion counts are kept
    latency_column: str | None = None
    sample_rows: int = 0
    seed: int = 0
    csv: CsvFormat = field(default_factory=CsvFormat)

    @property
    def seen(self) -> dict[str, Any]:
        return seen_schema(self.schema, self.withheld)

    def summarize(self, path: str, index: int) -> Part:
        """One file's statistics, read CHUNK_ROWS rows at a time; `index` seeds its sample."""
        keys = np.random.default_rng([self.seed, index])
        total = Part(self.sample_rows)
        for raw in read_chunks(path, CHUNK_ROWS, self.csv):
            total = total + self._chunk(raw, keys)
        return total

    def _chunk(self, raw: pd.DataFrame, keys: np.random.Generator) -> Part:
        scored = monitor.scored_rows(
            raw,
            self.schema,
            self.model,
            target=self.target,
            positive_label=self.positive_label,
            withheld=self.withheld,
        )
        labelled = monitor.LABEL in scored  # a chunk without every label leaves it out
        present = {c: k for c, k in self.reference.kinds.items() if c in scored}
        refused_rows, reasons = monitor.refusals(raw, self.seen, policy="reject")
        latency = Latency()
        if self.latency_column and self.latency_column in raw:
            latency = Latency.of(
                pd.to_numeric(raw[self.latency_column], errors="coerce").to_numpy(float)
            )
        return Part(
            self.sample_rows,
            self.reference.restricted(present).summarize(scored),
            Outcomes.of(
                scored[monitor.LABEL].to_numpy(),
                scored[monitor.PREDICTION].to_numpy(),
                self.thresholds,
            )
            if labelled
            else None,
            latency,
            refused_rows,
            reasons.astype("int64"),
            scored.attrs["coerced"],
            {scored.attrs["prediction"]: len(scored)},
            self._sample(scored, keys),
        )

    def _sample(self, scored: pd.DataFrame, keys: np.random.Generator) -> pd.DataFrame:
        drawn = keys.random(len(scored))
        kept = np.argsort(drawn, kind="stable")[: self.sample_rows]
        columns = [*self.seen["features"], monitor.PREDICTION]
        columns += [monitor.LABEL] if monitor.LABEL in scored else []
        return scored.iloc[kept][columns].assign(**{KEY: drawn[kept]}).reset_index(drop=True)


def setup(
    reference_rows: pd.DataFrame,
    schema: Mapping[str, Any],
    model: Any,
    *,
    target: str,
    positive_label: Any,
    withheld: Sequence[str] = (),
    **options: Any,
) -> tuple[Setup, pd.DataFrame]:
    """The reference statistics of the training rows, typed and scored as the parts will be,
    and those scored rows (for the Evidently page's reference sample).

    Args:
        options: `Setup`'s thresholds, latency_column, sample_rows, seed and csv.
    """
    scored = monitor.scored_rows(
        reference_rows,
        schema,
        model,
        target=target,
        positive_label=positive_label,
        withheld=withheld,
    )
    seen = seen_schema(schema, withheld)["features"]
    derived = scored.attrs["derived"]
    kinds = {c: f["kind"] for c, f in seen.items()}
    kinds.update({n: d["kind"] for n, d in derived.items()})
    kinds[monitor.PREDICTION] = "numeric"
    if monitor.LABEL in scored:
        kinds[monitor.LABEL] = "categorical"
    ranges = {c: (f.get("min"), f.get("max")) for c, f in seen.items() if f["kind"] == "numeric"}
    prepared = Setup(
        schema=dict(schema),
        withheld=tuple(withheld),
        model=model,
        target=target,
        positive_label=positive_label,
        reference=Reference.of(scored, kinds, ranges),
        derived_from={n: list(d["from"]) for n, d in derived.items()},
        **options,
    )
    return prepared, scored


def summarize(
    files: Sequence[Path],
    prepared: Setup,
    *,
    client: Any = None,
    progress: Callable[[int], None] = lambda n: None,
) -> Part:
    """The summed statistics of every file (on the client's workers when given)."""
    # summed in the files' order, whatever order the tasks finished in (the same float sums),
    # each part as soon as those before it are in: only early finishers wait in `pending`
    total, pending, following = Part(prepared.sample_rows), {}, 0

    def done(result: tuple[int, Part]) -> None:
        nonlocal total, following
        index, part = result
        pending[index] = part
        progress(part.rows)
        while following in pending:
            total = total + pending.pop(following)
            following += 1

    paths = list(enumerate(str(p.resolve()) for p in files))
    run_tasks(client, _summarize, paths, shared={"prepared": prepared}, done=done)
    return total


def _summarize(item: tuple[int, str], *, prepared: Setup) -> tuple[int, Part]:
    index, path = item
    return index, prepared.summarize(path, index)


def assess(prepared: Setup, total: Part, checks: monitor.Checks) -> dict[str, Any]:
    """`monitor.assess`'s answer for the whole batch from its summed parts; performance also
    gives `roc_auc_bound`, quality `latency_p99_bound_ms`, numeric columns' drift
    `effect_bound`."""
    quality = total.columns.quality(prepared.seen["features"])
    quality["coerced_to_missing"] = total.coerced
    latency, latency_bound = total.latency.p99()
    if latency is not None:
        latency = round(latency, 3)
        quality["latency_p99_bound_ms"] = round(latency_bound, 3)
    perf = None
    if total.labelled:
        auc, auc_bound = total.outcomes.roc_auc()
        perf = figures(
            total.outcomes.confusions,
            auc,
            threshold=checks.threshold,
            reference=checks.reference_metrics,
            confidence=checks.confidence,
            beside=checks.beside,
        )
        perf["roc_auc_bound"] = None if auc_bound is None else round(auc_bound, drift.DIGITS)
    result = monitor.judged(
        quality,
        _drift(prepared, total, checks),
        perf,
        latency_p99_ms=latency,
        rules=checks.rules,
        labelled_rows=total.rows if total.labelled else 0,
        decision=checks.decision,
    )
    result["quality"]["refused_by_contract"] = monitor.refused_report(
        total.refused_rows, total.reasons, total=total.rows, policy="reject"
    )
    return result


def _drift(prepared: Setup, total: Part, checks: monitor.Checks) -> dict[str, Any]:
    """The input and derived columns in one Benjamini-Hochberg family, the prediction and
    (when every row is labelled) the target apart, and the dataset verdict."""
    reference, features = prepared.reference, prepared.seen["features"]
    alpha, min_effect = checks.alpha, checks.min_effect
    extra = {monitor.PREDICTION, monitor.LABEL}
    family = reference.restricted({c: k for c, k in reference.kinds.items() if c not in extra})
    tested = family.column_drift(total.columns, alpha=alpha, min_effect=min_effect)
    apart = {c: k for c, k in reference.kinds.items() if c in extra}
    if not total.labelled:
        apart.pop(monitor.LABEL, None)
    others = reference.restricted(apart).column_drift(
        total.columns, alpha=alpha, min_effect=min_effect
    )
    by_column = {c: tested[c] for c in features}
    return {
        "columns": by_column,
        "derived": {c: {**tested[c], "from": f} for c, f in prepared.derived_from.items()},
        "dataset": drift.dataset_verdict(by_column, checks.drift_share),
        "prediction": others[monitor.PREDICTION],
        "target": others.get(monitor.LABEL),
        "alpha": alpha,
        "min_effect": dict(min_effect),
    }


def _plus(mine: Outcomes | None, other: Outcomes | None) -> Outcomes | None:
    """Both sides' outcomes (None when neither has labelled rows)."""
    if mine is None or other is None:
        return other if mine is None else mine
    return mine + other
