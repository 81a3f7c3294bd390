"""Production monitoring: check a batch against the training schema, measure drift and (with
labels) performance, raise alerts by rule, and decide whether to retrain."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn import metrics

from churnops.data.cleaning import binary_target
from churnops.data.contract import Contract
from churnops.data.schema import DataError, category_text, coerce_numeric
from churnops.modeling.features import pipeline_recipes, recipe_inputs, recipe_kinds
from churnops.monitoring import drift
from churnops.params import ParamsError

LEVELS = ("info", "warning", "critical")
OPS = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}
_DIGITS = 6


def check_batch(
    batch: pd.DataFrame, schema: Mapping[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The batch's feature columns, cleaned the way prepare cleans raw rows: numeric text parsed
    (blank text is missing), up to the schema's coerce tolerance of values that are not finite
    numbers turned into missing and counted; categories as stripped text.

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
            out[column] = category_text(batch[column])
    return out, {c: v for c, v in coerced.items() if v["blank"] or v["non_numeric"]}


def refused(batch: pd.DataFrame, schema: Mapping[str, Any], *, policy: str) -> dict[str, Any]:
    """How many rows the serving contract (at `policy`) would refuse, with the commonest reasons."""
    _, reasons, _ = Contract(schema, policy).check_frame(batch)
    refused_rows = reasons[reasons != ""]
    top = refused_rows.str.split("; ").explode().value_counts().head(5)
    return {
        "policy": policy,
        "rows": len(refused_rows),
        "share": round(len(refused_rows) / max(len(batch), 1), _DIGITS),
        "top_reasons": {str(k): int(v) for k, v in top.items()},
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


def wilson_upper(successes: int, n: int, confidence: float) -> float:
    """Upper bound of the Wilson interval of a proportion."""
    if n == 0:
        return 1.0
    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    p = successes / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre + margin) / (1 + z * z / n)


def performance(
    y: np.ndarray,
    proba: np.ndarray,
    *,
    threshold: float,
    reference: Mapping[str, float],
    confidence: float,
    beside: tuple[float, Mapping[str, float]] | None = None,
) -> dict[str, Any]:
    """Accuracy, precision, recall and ROC-AUC of a labelled batch at the served decision
    threshold, beside the evaluate stage's figures at the same threshold (`reference`); the
    error-rate change; accuracy's upper bound at `confidence` and its shortfall from the
    evaluated accuracy.

    Args:
        beside: (another threshold, the evaluated figures there), reported alongside.
    """
    out = _performance_at(y, proba, threshold, reference, confidence)
    if beside is not None:
        out["at_other_threshold"] = _performance_at(y, proba, beside[0], beside[1], confidence)
    return out


def _performance_at(
    y: np.ndarray,
    proba: np.ndarray,
    threshold: float,
    reference: Mapping[str, float],
    confidence: float,
) -> dict[str, Any]:
    pred = (proba >= threshold).astype(int)
    correct = int((pred == y).sum())
    out = {
        "threshold": threshold,
        "rows": len(y),
        "accuracy": metrics.accuracy_score(y, pred),
        "confidence": confidence,
        "accuracy_upper": wilson_upper(correct, len(y), confidence),
        "precision": metrics.precision_score(y, pred, zero_division=0),
        "recall": metrics.recall_score(y, pred, zero_division=0),
        "roc_auc": metrics.roc_auc_score(y, proba) if len(set(y)) == 2 else None,
    }
    out["accuracy_shortfall"] = reference["accuracy"] - out["accuracy_upper"]
    error, ref_error = 1 - out["accuracy"], 1 - reference["accuracy"]
    out["error_rate_increase"] = (error - ref_error) / ref_error if ref_error else None
    out["reference"] = dict(reference)
    return {
        k: (round(float(v), _DIGITS) if isinstance(v, float | np.floating) else v)
        for k, v in out.items()
    }


def observations(
    quality: Mapping[str, Any],
    drift: Mapping[str, Any],
    perf: Mapping[str, Any] | None,
    latency_p99_ms: float | None,
) -> dict[str, Any]:
    """The values the alert rules compare, each with the columns it concerns."""
    by_column = quality["by_column"]

    def worst(key: str) -> tuple[float, list[str]]:
        values = {c: v[key] for c, v in by_column.items() if key in v}
        top = max(values.values(), default=0.0)
        return top, sorted(c for c, v in values.items() if v > 0 and v == top) if top else []

    observed: dict[str, Any] = {}
    observed["out_of_range_share"] = worst("out_of_range_share")
    observed["unseen_category_share"] = worst("unseen_share")
    observed["missing_increase"] = worst("missing_increase")
    columns = drift["columns"]
    observed["drifted_columns"] = (
        len(drift["dataset"]["drifted_columns"]),
        drift["dataset"]["drifted_columns"],
    )
    observed["drift_share"] = (drift["dataset"]["drift_share"], drift["dataset"]["drifted_columns"])
    observed["prediction_drift"] = (int(drift["prediction"]["drifted"]), ["prediction"])
    derived = drift.get("derived", {})
    drifted_derived = sorted(c for c, r in derived.items() if r["drifted"])
    observed["drifted_derived_features"] = (len(drifted_derived), drifted_derived)
    drifted_p = [columns[c]["p_value_adjusted"] for c in drift["dataset"]["drifted_columns"]]
    drifted_p += [derived[c]["p_value_adjusted"] for c in drifted_derived]
    observed["drift_min_p_value"] = (
        min(drifted_p) if drifted_p else 1.0,
        drift["dataset"]["drifted_columns"] + drifted_derived,
    )
    observed["drifted_features"] = (
        len(drift["dataset"]["drifted_columns"]) + len(drifted_derived),
        drift["dataset"]["drifted_columns"] + drifted_derived,
    )
    if drift.get("target") is not None:
        observed["target_drift"] = (int(drift["target"]["drifted"]), ["target"])
    if perf is not None:
        observed["accuracy_upper"] = (perf["accuracy_upper"], ["accuracy"])
        observed["accuracy_shortfall"] = (perf["accuracy_shortfall"], ["accuracy"])
        observed["accuracy"] = (perf["accuracy"], ["accuracy"])
        if perf["error_rate_increase"] is not None:
            observed["error_rate_increase"] = (perf["error_rate_increase"], ["error rate"])
    if latency_p99_ms is not None:
        observed["latency_p99_ms"] = (latency_p99_ms, ["latency_ms"])
    return observed


def check_rules(rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validate `monitor.rules`: name, metric, op, value and level of each."""
    checked = []
    for i, rule in enumerate(rules):
        where = f"monitor.rules[{i}]"
        for key in ("name", "metric", "op", "value", "level"):
            if key not in rule:
                raise ParamsError(f"{where} needs key '{key}', got {dict(rule)!r}")
        if rule["op"] not in OPS:
            raise ParamsError(f"{where}.op must be one of {list(OPS)}, got {rule['op']!r}")
        if rule["level"] not in LEVELS:
            raise ParamsError(f"{where}.level must be one of {list(LEVELS)}, got {rule['level']!r}")
        checked.append(dict(rule))
    return checked


def alerts(rules: Sequence[Mapping[str, Any]], observed: Mapping[str, Any]) -> dict[str, Any]:
    """Fire each rule whose metric was observed and meets its condition. Rules whose metric
    this batch cannot provide (no labels, no latency) are listed as not evaluated."""
    fired, skipped = [], []
    for rule in rules:
        if rule["metric"] not in observed:
            skipped.append(rule["name"])
            continue
        value, columns = observed[rule["metric"]]
        if OPS[rule["op"]](value, rule["value"]):
            fired.append(
                {
                    "rule": rule["name"],
                    "level": rule["level"],
                    "metric": rule["metric"],
                    "condition": f"{rule['op']} {rule['value']}",
                    "observed": value,
                    "columns": list(columns),
                }
            )
    counts = {level: sum(a["level"] == level for a in fired) for level in LEVELS}
    return {
        "alerts": fired,
        "counts": counts,
        "not_evaluated": skipped,
        "level": max((a["level"] for a in fired), key=LEVELS.index, default=None),
    }


TRIGGERS = (
    "performance_degradation",
    "data_drift",
    "target_drift",
    "scheduled_age",
    "new_labelled_data",
)


def decide(
    fired: Mapping[str, Any],
    *,
    labelled_rows: int,
    min_new_labels: int,
    model_age_days: int | None,
    max_age_days: int | None,
    rule_triggers: Mapping[str, str],
) -> dict[str, Any]:
    """Retrain or not, with the triggers that fired: the alerts mapped to triggers by
    `rule_triggers` (rule name -> trigger), the model's age, and the new labelled rows."""
    triggers: dict[str, list[str]] = {}
    for alert in fired["alerts"]:
        trigger = rule_triggers.get(alert["rule"])
        if trigger:
            triggers.setdefault(trigger, []).append(alert["rule"])
    if model_age_days is not None and max_age_days is not None and model_age_days > max_age_days:
        triggers["scheduled_age"] = [f"model is {model_age_days} days old (> {max_age_days})"]
    if labelled_rows >= min_new_labels:
        triggers["new_labelled_data"] = [f"{labelled_rows} labelled rows (>= {min_new_labels})"]
    return {
        "retrain": bool(triggers),
        "triggers": triggers,
        "level": fired["level"],
        "alert_counts": fired["counts"],
    }


PREDICTION = "__prediction__"
LABEL = "__label__"


def scored_rows(
    rows: pd.DataFrame,
    schema: Mapping[str, Any],
    model: Any,
    *,
    target: str,
    positive_label: Any,
) -> pd.DataFrame:
    """The typed feature columns of `rows` (see `check_batch`), the model's derived features
    (its recipes' outputs, as the model sees them), the model's PREDICTION and, when every row is
    labelled, the 0/1 LABEL: what `assess` compares. The cleaning report is in the frame's
    `attrs["coerced"]`, the derived features' kinds and sources in `attrs["derived"]`."""
    typed, coerced = check_batch(rows, schema)
    features = list(schema["features"])
    typed[PREDICTION] = model.predict_proba(typed[features])[:, 1]
    derived: dict[str, dict[str, Any]] = {}
    recipes = pipeline_recipes(model)
    if recipes is not None and recipes.recipes:
        kinds = recipe_kinds(recipes.recipes)
        made = recipes.transform(typed[features])
        for recipe in recipes.recipes:
            name = recipe["name"]
            values = made[name]
            typed[name] = category_text(values) if kinds[name] == "categorical" else values
            derived[name] = {"kind": kinds[name], "from": recipe_inputs(recipe)}
    typed.attrs["coerced"] = coerced
    typed.attrs["derived"] = derived
    if target in rows and rows[target].notna().all():
        typed[LABEL] = binary_target(rows[target], positive_label)
    return typed


def assess(
    reference: pd.DataFrame,
    batch: pd.DataFrame,
    schema: Mapping[str, Any],
    *,
    alpha: float,
    min_effect: Mapping[str, float],
    drift_share: float,
    threshold: float,
    reference_metrics: Mapping[str, float],
    confidence: float,
    beside: tuple[float, Mapping[str, float]] | None = None,
    rules: Sequence[Mapping[str, Any]],
    latency_p99_ms: float | None,
    decision: Mapping[str, Any],
) -> dict[str, Any]:
    """Every check of one batch: quality, drift, performance (when `batch` has LABEL), alerts
    and the retraining decision.

    Args:
        reference, batch: typed feature columns (see `check_batch`) plus PREDICTION, and LABEL
            (0/1) where labels exist.
        threshold, reference_metrics: the served decision threshold and the evaluated figures
            at it; `beside` another threshold and its figures, reported alongside.
        confidence: of the accuracy's upper bound (evaluate.confidence).
        decision: keyword arguments of `decide` other than the alerts and labelled rows.
    """
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
        "dataset": drift.dataset_verdict(columns, drift_share),
        "prediction": extra[PREDICTION],
        "target": extra.get(LABEL),
        "alpha": alpha,
        "min_effect": dict(min_effect),
    }
    perf = (
        performance(
            batch[LABEL].to_numpy(),
            batch[PREDICTION].to_numpy(),
            threshold=threshold,
            reference=reference_metrics,
            confidence=confidence,
            beside=beside,
        )
        if labelled
        else None
    )
    observed = observations(quality, result, perf, latency_p99_ms)
    fired = alerts(rules, observed)
    verdict = decide(fired, labelled_rows=len(batch) if labelled else 0, **decision)
    return {
        "quality": quality,
        "drift": result,
        "performance": perf,
        "observed": observed,
        "alerts": fired,
        "decision": verdict,
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
