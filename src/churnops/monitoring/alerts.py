"""Alert rules and the retraining decision: the values the rules compare, the rules themselves
(`monitor.rules`), the alerts that fire, and the triggers that make retraining worthwhile."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from churnops.params import ParamsError

LEVELS = ("info", "warning", "critical")
OPS = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
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
