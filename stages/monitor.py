"""monitor: compare a production batch with the training data: schema checks, drift per feature,
prediction and target drift, performance when labelled, alerts by rule, a retraining decision,
and the Evidently report."""

from __future__ import annotations

import argparse
import datetime
import logging
import sys
from pathlib import Path

import joblib
import numpy as np

from churnops.config import load_params
from churnops.data import cleaning
from churnops.files import read_json, read_table, staged_outputs
from churnops.monitoring import evidently_report, monitor
from churnops.params import ParamsError, get, get_choice, get_number
from churnops.stage import run

log = logging.getLogger("monitor")
PREDICTION, LABEL = monitor.PREDICTION, monitor.LABEL


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--batch", required=True)
    parser.add_argument("--reference", required=True, help="the training split")
    parser.add_argument("--schema", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--meta", required=True)
    parser.add_argument("--evaluation", required=True, help="evaluate's metrics.json")
    parser.add_argument(
        "--classification", required=True, help="evaluate's classification_report.json"
    )
    parser.add_argument("--out-dir", required=True, help="reports/monitor")
    args = parser.parse_args()

    params = load_params(args.params)
    spec = cleaning.DataSpec.from_params(params)
    seed = get_number(params, "base.seed", integer=True, low=0)
    settings = get(params, "monitor")
    alpha = get_number(params, "monitor.alpha", low=0, high=1, low_inclusive=False)
    min_effect = get(params, "monitor.min_effect")
    drift_share = get_number(params, "monitor.drift_share", low=0, high=1)
    sample_rows = get_number(params, "monitor.evidently_sample_rows", integer=True, low=100)
    fail_on = get_choice(params, "monitor.fail_on", ("none", "warning", "critical"))
    rules = monitor.check_rules(get(params, "monitor.rules"))
    other_threshold = get_number(params, "evaluate.threshold", low=0, high=1)
    schema = read_json(args.schema)
    kinds = {c: f["kind"] for c, f in schema["features"].items()}
    model = joblib.load(args.model)
    served = float(read_json(args.meta)["decision_threshold"]["value"])

    raw_batch = read_table(args.batch)
    batch = monitor.scored_rows(
        raw_batch, schema, model, target=spec.target, positive_label=spec.positive_label
    )
    reference = monitor.scored_rows(
        read_table(args.reference),
        schema,
        model,
        target=spec.target,
        positive_label=spec.positive_label,
    )
    labelled = LABEL in batch
    log.info(
        "batch %s: %d rows; reference: %d training rows", args.batch, len(batch), len(reference)
    )

    evaluation = read_json(args.evaluation)
    at_served = read_json(args.classification)["at_decision_threshold"]
    served_reference = {
        "accuracy": at_served["classes"]["accuracy"],
        "precision": at_served["classes"][str(spec.positive_label)]["precision"],
        "recall": at_served["classes"][str(spec.positive_label)]["recall"],
        "roc_auc": evaluation["roc_auc"],
    }
    result = monitor.assess(
        reference,
        batch,
        schema,
        alpha=alpha,
        min_effect=min_effect,
        drift_share=drift_share,
        threshold=served,
        reference_metrics=served_reference,
        confidence=get_number(params, "evaluate.confidence", low=0, high=1),
        beside=(
            other_threshold,
            {k: evaluation[k] for k in ("accuracy", "precision", "recall", "roc_auc")},
        ),
        rules=rules,
        latency_p99_ms=_latency_p99(raw_batch, settings.get("latency_column")),
        decision={
            "min_new_labels": get_number(params, "monitor.min_new_labels", integer=True, low=1),
            "model_age_days": _age_days(settings),
            "max_age_days": settings.get("max_age_days"),
            "rule_triggers": settings.get("rule_triggers") or {},
        },
    )
    result["quality"]["refused_by_contract"] = monitor.refused(raw_batch, schema, policy="reject")
    drift_result, perf, fired = result["drift"], result["performance"], result["alerts"]
    decision, prediction, target = (
        result["decision"],
        drift_result["prediction"],
        drift_result["target"],
    )

    log.info("Evidently report on up to %d rows of each side", sample_rows)
    html, snapshot = evidently_report.build(
        evidently_report.sample(reference, sample_rows, seed),
        evidently_report.sample(batch, sample_rows, seed),
        kinds,
        target=LABEL,
        prediction=PREDICTION,
        labelled=labelled,
        threshold=served,
        alpha=alpha,
        drift_share=drift_share,
    )

    dataset = drift_result["dataset"]
    html = evidently_report.with_verdict(
        html, monitor.verdict_lines(result, drift_share=drift_share)
    )
    summary = {
        "rows": len(batch),
        "labelled": bool(labelled),
        "drift_share": dataset["drift_share"],
        "drifted_columns": len(dataset["drifted_columns"]),
        "drifted_derived_features": result["observed"]["drifted_derived_features"][0],
        "dataset_drift": dataset["drifted"],
        "worst_effect_size": dataset["worst_effect_size"],
        "prediction_drift": prediction["drifted"],
        "target_drift": None if target is None else target["drifted"],
        "alerts": fired["counts"],
        "retrain": decision["retrain"],
        "performance": None
        if perf is None
        else {k: perf[k] for k in ("threshold", "accuracy", "precision", "recall", "roc_auc")},
    }
    out_dir = Path(args.out_dir)
    with staged_outputs() as out:
        out.write_json(out_dir / "metrics.json", summary)
        out.write_json(out_dir / "quality.json", result["quality"])
        out.write_json(out_dir / "drift.json", drift_result)
        out.write_json(
            out_dir / "alerts.json",
            {
                **fired,
                "observed": {
                    k: {"value": v, "columns": c} for k, (v, c) in result["observed"].items()
                },
            },
        )
        out.write_json(out_dir / "decision.json", decision)
        out.write_json(
            out_dir / "performance.json",
            perf or {"labelled": False, "note": "the batch has no labels"},
        )
        out.write_text(out_dir / "drift.html", html)
        out.write_text(out_dir / "evidently.json", snapshot + "\n")

    print(
        f"monitor: {len(batch)} rows; drifted columns: "
        f"{', '.join(dataset['drifted_columns']) or 'none'}; derived features: "
        f"{', '.join(result['observed']['drifted_derived_features'][1]) or 'none'}; alerts "
        + ", ".join(f"{k} {v}" for k, v in fired["counts"].items())
        + f"; retrain: {'yes' if decision['retrain'] else 'no'}"
        + (f" ({', '.join(decision['triggers'])})" if decision["triggers"] else "")
    )
    for alert in fired["alerts"]:
        print(
            f"monitor: {alert['level'].upper()}: {alert['rule']}: observed {alert['observed']} "
            f"{alert['condition']} {alert['columns']}"
        )
    if (
        fail_on != "none"
        and fired["level"] is not None
        and monitor.LEVELS.index(fired["level"]) >= monitor.LEVELS.index(fail_on)
    ):
        print(
            f"monitor: failing: alert level {fired['level']} >= monitor.fail_on={fail_on}",
            file=sys.stderr,
        )
        sys.exit(3)


def _latency_p99(batch, column) -> float | None:
    if not column or column not in batch:
        return None
    values = batch[column].dropna().to_numpy(dtype=float)
    return round(float(np.percentile(values, 99)), 3) if len(values) else None


def _age_days(settings) -> int | None:
    trained, as_of = settings.get("model_trained_on"), settings.get("as_of")
    if not trained or not as_of:
        return None
    try:
        start = datetime.date.fromisoformat(str(trained))
        end = datetime.date.fromisoformat(str(as_of))
    except ValueError as exc:
        raise ParamsError(
            f"monitor.model_trained_on/as_of must be ISO dates, got {trained!r}, {as_of!r}"
        ) from exc
    return (end - start).days


if __name__ == "__main__":
    run("monitor", main)
