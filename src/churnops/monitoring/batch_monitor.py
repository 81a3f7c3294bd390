"""The monitor stage's work as one call: a production batch against the training rows, with the
evaluated figures as reference; every report the stage writes, the Evidently page, the lines it
prints and whether it must fail (`monitor.fail_on`). Returns plain data; files are the stage's."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from churnops.data.cleaning import DataSpec
from churnops.files import read_json, read_table
from churnops.monitoring import evidently_report, history, monitor, webhook
from churnops.monitoring.alerts import LEVELS, check_rules
from churnops.params import ParamsError

log = logging.getLogger(__name__)


# the files the monitor writes: its JSON reports, the Evidently page and its snapshot
REPORTS = ("metrics", "quality", "drift", "alerts", "decision", "performance")
OUTPUT_FILES = (*(f"{name}.json" for name in REPORTS), "drift.html", "evidently.json")


@dataclass(frozen=True)
class Monitored:
    reports: dict[str, Any]  # file stem -> JSON content
    html: str  # the Evidently page, opened by the monitor's verdict
    snapshot: str  # Evidently's JSON snapshot
    lines: list[str]  # the summary the stage prints
    failing: str | None  # why the stage must exit non-zero (monitor.fail_on), or None

    def outputs(self) -> dict[str, Any]:
        """File name -> content (JSON data or text): every file the monitor writes."""
        files: dict[str, Any] = {f"{name}.json": report for name, report in self.reports.items()}
        return {**files, "drift.html": self.html, "evidently.json": self.snapshot}


def publish(
    monitored: Monitored,
    webhook_settings: Mapping[str, Any],
    *,
    batch: str,
    batch_sha256: str,
    model: str,
    history_path: Path,
    delivery_log: Path,
) -> list[str]:
    """After the reports are written: the batch's line in the monitor's history, and the alerts
    sent to the webhook (its delivery recorded). Neither fails the monitor; the lines say what
    happened."""
    lines = []
    try:
        line = history.entry(monitored.reports, batch=batch, batch_sha256=batch_sha256, model=model)
        lines.append(f"monitor: history {history_path} has {history.append(line, history_path)} "
                     "batch(es)")  # fmt: skip
    except (OSError, ValueError) as exc:
        lines.append(f"monitor: WARNING: history not updated: {exc}")
    sent = webhook.notify(
        monitored.reports["alerts"],
        monitored.reports["decision"],
        webhook_settings,
        {"batch": batch, "model": model},
    )
    if sent is not None:
        webhook.record(sent, delivery_log)
        how = "delivered" if sent["delivered"] else f"NOT delivered ({sent['error']})"
        lines.append(f"monitor: {sent['level']} alerts {how} after {sent['attempts']} attempt(s)")
    return lines


@dataclass(frozen=True)
class Trained:
    """What the pipeline gives the monitor: the training split (the reference), the schema, the
    model, its metadata (the served threshold), and the evaluate stage's metrics.json and
    classification_report.json (figures at evaluate.threshold and at the served threshold)."""

    reference_rows: pd.DataFrame
    schema: Mapping[str, Any]
    model: Any
    meta: Mapping[str, Any]
    evaluation: Mapping[str, Any]
    classification: Mapping[str, Any]

    @classmethod
    def read(cls, paths: Any) -> Trained:
        """Read the files that `paths` names in its attributes `reference`, `schema`, `model`,
        `meta`, `evaluation` and `classification`: the options of the monitor stage and of
        `churnops monitor`, which share these names."""
        return cls(
            read_table(paths.reference),
            read_json(paths.schema),
            joblib.load(paths.model),
            read_json(paths.meta),
            read_json(paths.evaluation),
            read_json(paths.classification),
        )

    def checks(self, params: Mapping[str, Any]) -> monitor.Checks:
        """`checks` with these figures."""
        positive = params["base"]["positive_label"]
        return checks(params, self.meta, self.evaluation, self.classification, positive)


def monitor_batch(
    raw_batch: pd.DataFrame, trained: Trained, spec: DataSpec, params: Mapping[str, Any]
) -> Monitored:
    """Check, score and compare the batch (see the module's docstring)."""
    schema, model = trained.schema, trained.model
    withheld = withheld_columns(params, schema)

    def scored(rows: pd.DataFrame) -> pd.DataFrame:
        return monitor.scored_rows(
            rows,
            schema,
            model,
            target=spec.target,
            positive_label=spec.positive_label,
            withheld=withheld,
        )

    batch, reference = scored(raw_batch), scored(trained.reference_rows)
    log.info(
        "batch: %d rows (predictions %s); reference: %d training rows",
        len(batch),
        batch.attrs["prediction"],
        len(reference),
    )
    seen = seen_schema(schema, withheld)
    settings = trained.checks(params)
    result = monitor.assess(
        reference,
        batch,
        seen,
        settings,
        latency_p99_ms=latency_p99(raw_batch, params["monitor"].get("latency_column")),
    )
    result["quality"]["refused_by_contract"] = monitor.refused(raw_batch, seen, policy="reject")
    sample_rows, seed = params["monitor"]["evidently_sample_rows"], params["base"]["seed"]
    return finish(
        result,
        evidently_report.sample(reference, sample_rows, seed),
        evidently_report.sample(batch, sample_rows, seed),
        seen,
        params,
        rows=len(batch),
        labelled=monitor.LABEL in batch,
        source=batch.attrs["prediction"],
        threshold=settings.threshold,
        withheld=withheld,
    )


def withheld_columns(params: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """The model inputs the service stores as null (governance.pii_columns)."""
    return [c for c in params["governance"]["pii_columns"] if c in schema["features"]]


def seen_schema(schema: Mapping[str, Any], withheld: Sequence[str]) -> dict[str, Any]:
    """The schema without the withheld inputs: they never reach the log, so nothing to compare."""
    return {
        **schema,
        "features": {c: f for c, f in schema["features"].items() if c not in withheld},
    }


def checks(
    params: Mapping[str, Any],
    meta: Mapping[str, Any],
    evaluation: Mapping[str, Any],
    classification: Mapping[str, Any],
    positive_label: Any,
) -> monitor.Checks:
    """What the batch is checked against: the drift rule, the served threshold and the evaluated
    figures at it and at evaluate.threshold, the alert rules and the decision's settings."""
    settings = params["monitor"]
    at_served = classification["at_decision_threshold"]["classes"]
    positive = at_served[str(positive_label)]
    return monitor.Checks(
        alpha=settings["alpha"],
        min_effect=settings["min_effect"],
        drift_share=settings["drift_share"],
        threshold=float(meta["decision_threshold"]["value"]),
        reference_metrics={
            "accuracy": at_served["accuracy"],
            "precision": positive["precision"],
            "recall": positive["recall"],
            "roc_auc": evaluation["roc_auc"],
        },
        confidence=params["evaluate"]["confidence"],
        beside=(
            params["evaluate"]["threshold"],
            {k: evaluation[k] for k in ("accuracy", "precision", "recall", "roc_auc")},
        ),
        rules=check_rules(settings["rules"]),
        decision={
            "min_new_labels": settings["min_new_labels"],
            "model_age_days": age_days(settings),
            "max_age_days": settings.get("max_age_days"),
            "rule_triggers": settings.get("rule_triggers") or {},
        },
    )


def finish(
    result: dict[str, Any],
    reference_sample: pd.DataFrame,
    batch_sample: pd.DataFrame,
    seen: Mapping[str, Any],
    params: Mapping[str, Any],
    *,
    rows: int,
    labelled: bool,
    source: str,
    threshold: float,
    withheld: Sequence[str],
) -> Monitored:
    """The reports, the Evidently page (on the samples, under the monitor's verdict), the
    printed lines and whether to fail, from `monitor.assess`'s result."""
    settings = params["monitor"]
    alpha, drift_share = settings["alpha"], settings["drift_share"]
    result["quality"]["withheld"] = {
        "columns": list(withheld),
        "why": "governance.pii_columns: stored as null by the service, so not monitored",
    }
    result["drift"]["prediction"]["source"] = source
    log.info("Evidently report on %d and %d sampled rows", len(reference_sample), len(batch_sample))
    html, snapshot = evidently_report.build(
        reference_sample,
        batch_sample,
        {c: f["kind"] for c, f in seen["features"].items()},
        target=monitor.LABEL,
        prediction=monitor.PREDICTION,
        labelled=labelled,
        threshold=threshold,
        alpha=alpha,
        drift_share=drift_share,
    )
    html = evidently_report.with_verdict(
        html, monitor.verdict_lines(result, drift_share=drift_share)
    )
    return Monitored(
        reports=reports(result, rows=rows, labelled=labelled),
        html=html,
        snapshot=snapshot + "\n",
        lines=summary_lines(result, rows=rows),
        failing=failing(result["alerts"]["level"], settings["fail_on"]),
    )


def reports(result: Mapping[str, Any], *, rows: int, labelled: bool) -> dict[str, Any]:
    """The stage's JSON files: the headline metrics.json and the detail beside it."""
    drift, perf, fired = result["drift"], result["performance"], result["alerts"]
    dataset, target = drift["dataset"], drift["target"]
    summary = {
        "rows": rows,
        "labelled": bool(labelled),
        "drift_share": dataset["drift_share"],
        "drifted_columns": len(dataset["drifted_columns"]),
        "drifted_derived_features": result["observed"]["drifted_derived_features"][0],
        "dataset_drift": dataset["drifted"],
        "worst_effect_size": dataset["worst_effect_size"],
        "prediction_drift": drift["prediction"]["drifted"],
        "target_drift": None if target is None else target["drifted"],
        "alerts": fired["counts"],
        "retrain": result["decision"]["retrain"],
        "performance": None
        if perf is None
        else {k: perf[k] for k in ("threshold", "accuracy", "precision", "recall", "roc_auc")},
    }
    observed = {k: {"value": v, "columns": c} for k, (v, c) in result["observed"].items()}
    return {
        "metrics": summary,
        "quality": result["quality"],
        "drift": drift,
        "alerts": {**fired, "observed": observed},
        "decision": result["decision"],
        "performance": perf or {"labelled": False, "note": "the batch has no labels"},
    }


def summary_lines(result: Mapping[str, Any], *, rows: int) -> list[str]:
    """What the stage prints: one line of verdicts, then one per alert."""
    dataset, fired, decision = result["drift"]["dataset"], result["alerts"], result["decision"]
    lines = [
        f"monitor: {rows} rows; drifted columns: "
        f"{', '.join(dataset['drifted_columns']) or 'none'}; derived features: "
        f"{', '.join(result['observed']['drifted_derived_features'][1]) or 'none'}; alerts "
        + ", ".join(f"{k} {v}" for k, v in fired["counts"].items())
        + f"; retrain: {'yes' if decision['retrain'] else 'no'}"
        + (f" ({', '.join(decision['triggers'])})" if decision["triggers"] else "")
    ]
    lines += [
        f"monitor: {a['level'].upper()}: {a['rule']}: observed {a['observed']} "
        f"{a['condition']} {a['columns']}"
        for a in fired["alerts"]
    ]
    return lines


def failing(level: str | None, fail_on: str) -> str | None:
    """Why the stage must fail, when the alert level reaches `monitor.fail_on`."""
    if fail_on == "none" or level is None or LEVELS.index(level) < LEVELS.index(fail_on):
        return None
    return f"alert level {level} >= monitor.fail_on={fail_on}"


def latency_p99(batch: pd.DataFrame, column: str | None) -> float | None:
    """The 99th percentile of the batch's latency column, when it has one."""
    if not column or column not in batch:
        return None
    values = batch[column].dropna().to_numpy(dtype=float)
    return round(float(np.percentile(values, 99)), 3) if len(values) else None


def age_days(settings: Mapping[str, Any]) -> int | None:
    """The model's age from monitor.model_trained_on and as_of, when both are set."""
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
