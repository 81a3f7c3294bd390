"""Production monitoring: check a batch against the training schema, measure drift and (with
labels) performance, raise alerts by rule, and decide whether to retrain."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from churnops.data.cleaning import binary_target
from churnops.data.contract import Contract
from churnops.data.production import SERVED_PROBABILITY
from churnops.data.schema import OTHER, DataError, category_text, coerce_numeric
from churnops.modeling.features import pipeline_recipes, recipe_inputs, recipe_kinds
from churnops.monitoring import drift
from churnops.monitoring.alerts import alerts, decide, observations
from churnops.monitoring.performance import performance

_DIGITS = 6


def check_batch(
    batch: pd.DataFrame, schema: Mapping[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The batch's feature columns, cleaned the way prepare cleans raw rows: numeric text parsed
    (blank text is missing), up to the schema's coerce tolerance of values that are not finite
    numbers turned into missing and counted; categories as stripped text (a pooled
    high-cardinality column's values outside its kept ones as OTHER, as in training).

    Returns:
        (typed feature columns, per numeric column that needed it: blank and non-numeric counts
        with examples).

    Raises:
        DataError: a feature column is missing, or a numeric column holds more non-numbers than
            the tolerance allows.
    """
    features = schema["features"]
    missing = [c for c in features if c not in batch]
    if missing:
        raise DataError(
            f"batch is missing feature column(s) {missing}; it has {list(batch.columns)}"
        )
    numeric = [c for c, f in features.items() if f["kind"] == "numeric"]
    tolerance = schema.get("contract", {}).get("coerce_tolerance", 0.0)
    try:
        out, coerced = coerce_numeric(batch[list(features)], numeric, tolerance)
    except DataError as exc:
        raise DataError(f"batch {exc}") from None
    for column, info in features.items():
        if info["kind"] != "numeric":
            text = category_text(batch[column])
            if info.get("pooled"):  # as prepare pooled training: unseen values are OTHER
                text = text.where(text.isna() | text.isin(info["categories"]), OTHER)
            out[column] = text
    return out, {c: v for c, v in coerced.items() if v["blank"] or v["non_numeric"]}


def add_coerced(mine: dict, other: dict) -> dict[str, dict[str, Any]]:
    """Two `check_batch` cleaning reports as one: the counts per column added, up to 5 examples."""
    out = {}
    for column in {**mine, **other}:
        a, b = mine.get(column), other.get(column)
        if a is None or b is None:
            out[column] = a or b
            continue
        out[column] = {
            "blank": a["blank"] + b["blank"],
            "non_numeric": a["non_numeric"] + b["non_numeric"],
            "examples": sorted({*a["examples"], *b["examples"]})[:5],
        }
    return dict(sorted(out.items()))


def refused(batch: pd.DataFrame, schema: Mapping[str, Any], *, policy: str) -> dict[str, Any]:
    """How many rows the serving contract (at `policy`) would refuse, with the commonest reasons."""
    rows, reasons = refusals(batch, schema, policy=policy)
    return refused_report(rows, reasons, total=len(batch), policy=policy)


def refusals(
    batch: pd.DataFrame, schema: Mapping[str, Any], *, policy: str
) -> tuple[int, pd.Series]:
    """The rows the serving contract (at `policy`) would refuse, and the rows per reason."""
    _, reasons, _ = Contract(schema, policy).check_frame(batch)
    refused_rows = reasons[reasons != ""]
    return len(refused_rows), refused_rows.str.split("; ").explode().value_counts()


def refused_report(rows: int, reasons: pd.Series, *, total: int, policy: str) -> dict[str, Any]:
    """`refused`'s answer from the refused rows and the rows per reason."""
    # the commonest first, ties by text: the same list however the counts were summed
    top = sorted(reasons.items(), key=lambda item: (-item[1], str(item[0])))[:5]
    return {
        "policy": policy,
        "rows": rows,
        "share": round(rows / max(total, 1), _DIGITS),
        "top_reasons": {str(k): int(v) for k, v in top},
    }


def batch_quality(batch: pd.DataFrame, schema: Mapping[str, Any]) -> dict[str, Any]:
    """Per column: missing share (and its change from training), share of numeric values
    outside the training range, share of categories never seen in training."""
    columns = {}
    n = max(len(batch), 1)
    for column, info in schema["features"].items():
        values = batch[column]
        if info["kind"] == "numeric":
            missing = int(values.isna().sum())
            present = values.dropna()
            outside = (present < info["min"]) | (present > info["max"])
            entry = {"out_of_range_share": float(outside.mean()) if len(present) else 0.0}
        else:
            # counts per distinct value (missing included): one hash pass over the rows
            counts = values.value_counts(dropna=False)
            missing = int(counts[counts.index.isna()].sum())
            seen = counts.index.isin(info["categories"]) | counts.index.isna()
            unseen = counts[~seen]
            present = n - missing
            entry = {
                "unseen_share": float(unseen.sum() / present) if present else 0.0,
                "unseen_values": sorted(map(str, unseen.index))[:10],
            }
        share = missing / n
        entry = {"missing_share": share, "missing_increase": share - info["missing_share"], **entry}
        columns[column] = {
            k: round(v, _DIGITS) if isinstance(v, float) else v for k, v in entry.items()
        }
    return {"rows": len(batch), "columns": len(schema["features"]), "by_column": columns}


PREDICTION = "__prediction__"
LABEL = "__label__"


def scored_rows(
    rows: pd.DataFrame,
    schema: Mapping[str, Any],
    model: Any,
    *,
    target: str,
    positive_label: Any,
    withheld: Collection[str] = (),
) -> pd.DataFrame:
    """The typed feature columns of `rows` (see `check_batch`), the model's derived features
    (its recipes' outputs, as the model sees them), the model's PREDICTION and, when every row is
    labelled, the 0/1 LABEL: what `assess` compares. The cleaning report is in the frame's
    `attrs["coerced"]`, the derived features' kinds and sources in `attrs["derived"]`, where the
    prediction comes from in `attrs["prediction"]`.

    Rows exported from the prediction log carry the probability the service answered
    (SERVED_PROBABILITY): that is the prediction, since re-scoring the stored inputs cannot give
    it back when `withheld` columns (governance.pii_columns) were stored as null. Derived
    features made from a withheld column are left out.
    """
    typed, coerced = check_batch(rows, schema)
    features = list(schema["features"])
    served = rows.get(SERVED_PROBABILITY)
    if served is not None and served.notna().all():
        typed[PREDICTION] = served.to_numpy(dtype=np.float64)
        typed.attrs["prediction"] = "served"
    else:
        typed[PREDICTION] = model.predict_proba(typed[features])[:, 1]
        typed.attrs["prediction"] = "scored"
    derived: dict[str, dict[str, Any]] = {}
    recipes = pipeline_recipes(model)
    if recipes is not None and recipes.recipes:
        kinds = recipe_kinds(recipes.recipes)
        made = recipes.transform(typed[features])
        for recipe in recipes.recipes:
            if set(recipe_inputs(recipe)) & set(withheld):
                continue
            name = recipe["name"]
            values = made[name]
            typed[name] = category_text(values) if kinds[name] == "categorical" else values
            derived[name] = {"kind": kinds[name], "from": recipe_inputs(recipe)}
    typed.attrs["coerced"] = coerced
    typed.attrs["derived"] = derived
    if target in rows and rows[target].notna().all():
        typed[LABEL] = binary_target(rows[target], positive_label)
    return typed


@dataclass(frozen=True)
class Checks:
    """What a batch is checked against (`batch_monitor.checks` reads them from params and the
    evaluate stage's figures).

    Attributes:
        alpha, min_effect, drift_share: the drift rule (monitor.*).
        threshold, reference_metrics: the served decision threshold and the evaluated figures
            at it; `beside` another threshold and its figures, reported alongside.
        confidence: of the accuracy's upper bound (evaluate.confidence).
        rules: the alert rules (monitor.rules, checked).
        decision: keyword arguments of `decide` other than the alerts and labelled rows.
    """

    alpha: float
    min_effect: Mapping[str, float]
    drift_share: float
    threshold: float
    reference_metrics: Mapping[str, float]
    confidence: float
    rules: Sequence[Mapping[str, Any]]
    decision: Mapping[str, Any]
    beside: tuple[float, Mapping[str, float]] | None = None

    @property
    def thresholds(self) -> tuple[float, ...]:
        """The thresholds performance is reported at: the served one, then `beside`'s."""
        return (self.threshold, *([self.beside[0]] if self.beside else []))


def assess(
    reference: pd.DataFrame,
    batch: pd.DataFrame,
    schema: Mapping[str, Any],
    checks: Checks,
    *,
    latency_p99_ms: float | None = None,
) -> dict[str, Any]:
    """Every check of one batch: quality, drift, performance (when `batch` has LABEL), alerts
    and the retraining decision.

    Args:
        reference, batch: typed feature columns (see `check_batch`) plus PREDICTION, and LABEL
            (0/1) where labels exist.
        latency_p99_ms: the batch's latency p99, when it has a latency column.
    """
    alpha, min_effect = checks.alpha, checks.min_effect
    kinds = {c: f["kind"] for c, f in schema["features"].items()}
    labelled = LABEL in batch
    quality = batch_quality(batch, schema)
    quality["coerced_to_missing"] = batch.attrs.get("coerced", {})
    # derived features are tested with the raw ones, in one Benjamini-Hochberg family: a 10% rise
    # of a skewed amount is lost in its own spread but moves a ratio built from it
    derived = batch.attrs.get("derived", {})
    tested = drift.column_drift(
        reference,
        batch,
        {**kinds, **{n: d["kind"] for n, d in derived.items()}},
        alpha=alpha,
        min_effect=min_effect,
    )
    columns = {c: tested[c] for c in kinds}
    tests = {PREDICTION: "numeric", **({LABEL: "categorical"} if labelled else {})}
    extra = drift.column_drift(reference, batch, tests, alpha=alpha, min_effect=min_effect)
    result = {
        "columns": columns,
        "derived": {n: {**tested[n], "from": d["from"]} for n, d in derived.items()},
        "dataset": drift.dataset_verdict(columns, checks.drift_share),
        "prediction": extra[PREDICTION],
        "target": extra.get(LABEL),
        "alpha": alpha,
        "min_effect": dict(min_effect),
    }
    perf = (
        performance(
            batch[LABEL].to_numpy(),
            batch[PREDICTION].to_numpy(),
            threshold=checks.threshold,
            reference=checks.reference_metrics,
            confidence=checks.confidence,
            beside=checks.beside,
        )
        if labelled
        else None
    )
    return judged(
        quality,
        result,
        perf,
        latency_p99_ms=latency_p99_ms,
        rules=checks.rules,
        labelled_rows=len(batch) if labelled else 0,
        decision=checks.decision,
    )


def judged(
    quality: dict[str, Any],
    drifted: dict[str, Any],
    perf: dict[str, Any] | None,
    *,
    latency_p99_ms: float | None,
    rules: Sequence[Mapping[str, Any]],
    labelled_rows: int,
    decision: Mapping[str, Any],
) -> dict[str, Any]:
    """The checks' results with the alerts they fire and the retraining decision."""
    observed = observations(quality, drifted, perf, latency_p99_ms)
    fired = alerts(rules, observed)
    return {
        "quality": quality,
        "drift": drifted,
        "performance": perf,
        "observed": observed,
        "alerts": fired,
        "decision": decide(fired, labelled_rows=labelled_rows, **decision),
    }


def verdict_lines(result: Mapping[str, Any], *, drift_share: float) -> list[str]:
    """The monitor's verdict in a few sentences, for the top of the Evidently page."""
    dataset, decision = result["drift"]["dataset"], result["decision"]
    drifted = dataset["drifted_columns"]
    derived = sorted(c for c, r in result["drift"].get("derived", {}).items() if r["drifted"])
    lines = [
        f"churnops verdict: dataset drift {'DETECTED' if dataset['drifted'] else 'not detected'}"
        f" ({len(drifted)} drifted column(s){': ' + ', '.join(drifted) if drifted else ''};"
        f" the batch drifts when more than {drift_share:.0%} of columns drift);"
        f" retrain: {'yes' if decision['retrain'] else 'no'}"
        + (f" ({', '.join(decision['triggers'])})" if decision["triggers"] else "")
        + "."
        + (f" Derived features that drift: {', '.join(derived)}." if derived else ""),
        "This verdict is the one in reports/monitor/metrics.json. A column drifts for churnops "
        "when its Benjamini-Hochberg adjusted p-value is below alpha and its effect size reaches "
        "monitor.min_effect; Evidently below tests each column on a sample without either, so "
        "it can flag columns churnops does not.",
    ]
    perf = result.get("performance")
    if perf is not None:
        lines.append(
            f"Performance at the served decision threshold {perf['threshold']}: accuracy "
            f"{perf['accuracy']}, precision {perf['precision']}, recall {perf['recall']} "
            "(Evidently's classification section below uses the same threshold)."
        )
    return lines
