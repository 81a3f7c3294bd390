"""The evaluate stage's work as one call: the model scored on the held-out split at the headline
threshold and at the decision threshold, bootstrap intervals, calibration, business impact,
fairness by group; on the training split the learning curve and the CV-strategy comparison;
permutation importance and the model's own weights. Returns plain data; files are the stage's."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from churnops.data.cleaning import DataSpec, binary_target
from churnops.data.words import Words
from churnops.modeling import business, diagnose, evaluate, fairness, importance
from churnops.params import ParamsError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evaluation:
    """Everything the evaluate stage writes: reports (JSON), tables (CSV) and what the figures
    are drawn from."""

    reports: dict[str, Any]  # file stem -> JSON content
    tables: dict[str, pd.DataFrame]  # file stem -> plot data
    weights: pd.DataFrame | None  # the model's own weights, when it has any
    brier: float
    scoring: str
    decision: float
    labels: list[str]


def evaluate_model(
    model: Pipeline,
    meta: Mapping[str, Any],
    train_rows: pd.DataFrame,
    test_rows: pd.DataFrame,
    spec: DataSpec,
    params: Mapping[str, Any],
) -> Evaluation:
    """Score and diagnose `model` (see the module's docstring)."""
    settings = params["evaluate"]
    threshold = evaluate.check_threshold(settings["threshold"])
    decision = float(meta["decision_threshold"]["value"])
    scoring = meta["cv"]["scoring"]
    features = list(meta["features"])

    y = binary_target(test_rows[spec.target], spec.positive_label)
    proba = model.predict_proba(test_rows[features])[:, 1]
    scores = evaluate.headline_metrics(y, proba, threshold)
    calibration, brier = diagnose.calibration_points(y, proba, settings["calibration_bins"])
    impact, profit = business_impact(params, y, proba, decision, meta)
    fair = fairness_by_group(params, test_rows, y, proba, decision)

    X_train = train_rows[features]
    y_train = binary_target(train_rows[spec.target], spec.positive_label)
    learning, diagnostics = training_diagnostics(model, X_train, y_train, meta, params)
    diagnostics["calibration"] = {"brier": brier, "bins": len(calibration)}
    log.info("permutation importance of %d input columns", len(features))
    permutation = importance.permutation_table(
        model, test_rows[features], y, scoring=scoring, repeats=settings["permutation_repeats"],
        seed=params["base"]["seed"], n_jobs=params["base"]["n_jobs"],
    )  # fmt: skip
    weights = importance.model_weights(model)
    reports = {
        "metrics": scores,
        **_threshold_reports(y, proba, threshold, decision, spec.labels, params),
        "business": impact,
        "fairness": fair,
        "fairness_metrics": fairness.headline(fair),
        "diagnostics": diagnostics,
    }
    tables = {
        "confusion": evaluate.confusion_rows(y, proba, threshold, spec.labels),
        "roc": evaluate.roc_points(y, proba),
        "pr": evaluate.pr_points(y, proba),
        "calibration": calibration,
        "learning_curve": learning,
        "permutation_importance": permutation,
        "profit_test": profit,
        "fairness_rates": fairness.rates_table(fair),
        "model_weights": pd.DataFrame(columns=["feature", "weight", "kind"])
        if weights is None
        else weights,
    }
    return Evaluation(reports, tables, weights, brier, scoring, decision, spec.labels)


def _threshold_reports(
    y: pd.Series,
    proba: np.ndarray,
    threshold: float,
    decision: float,
    labels: list[str],
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """Bootstrap intervals of the headline metrics at `threshold`, and the per-class report at
    `threshold` and at the decision threshold."""
    samples, confidence = params["evaluate"]["bootstrap_samples"], params["evaluate"]["confidence"]
    seed = params["base"]["seed"]
    return {
        "intervals": {
            "confidence": confidence,
            "samples": samples,
            "threshold": threshold,
            "intervals": evaluate.bootstrap_intervals(
                y, proba, threshold, samples=samples, seed=seed, confidence=confidence
            ),
        },
        "classification_report": {
            "threshold": threshold,
            "rows": len(y),
            "classes": evaluate.classification_report(y, proba, threshold, labels),
            "at_decision_threshold": {
                "threshold": decision,
                "classes": evaluate.classification_report(y, proba, decision, labels),
            },
        },
    }


def training_diagnostics(
    model: Pipeline,
    X_train: pd.DataFrame,
    y_train: pd.Series,
    meta: Mapping[str, Any],
    params: Mapping[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The learning curve's points, and its summary with the CV-strategy comparison, computed
    on the training split with the folds and the scoring the model was selected with."""
    log.info("diagnosing on the training split: learning curve, CV strategies")
    seed, n_jobs = params["base"]["seed"], params["base"]["n_jobs"]
    scoring, folds = meta["cv"]["scoring"], meta["cv"]["folds"]
    curve_rules = params["evaluate"]["learning_curve"]
    learning = diagnose.learning_points(
        model,
        X_train,
        y_train,
        sizes=diagnose.check_train_sizes(curve_rules.get("train_sizes")),
        folds=folds,
        scoring=scoring,
        seed=seed,
        n_jobs=n_jobs,
    )
    rules = {k: curve_rules[k] for k in ("high_variance_gap", "high_bias_below")}
    return learning, {
        "learning_curve": diagnose.summary(learning, rules),
        "cv_strategies": diagnose.compare_cv_strategies(
            model, X_train, y_train, folds=folds, scoring=scoring, seed=seed, n_jobs=n_jobs
        ),
    }


def business_impact(
    params: Mapping[str, Any],
    y: np.ndarray,
    proba: np.ndarray,
    decision: float,
    meta: Mapping[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Expected savings at the decision threshold and the profit curve on the test rows; "not
    assessed" without a `business` section."""
    settings = params.get("business")
    if not settings:
        return {
            "threshold": decision,
            "note": "no business section in params: not assessed",
        }, pd.DataFrame(columns=["threshold", "profit_per_row"])
    economics = business.Economics.from_params(settings)
    curve = business.profit_curve(
        y, proba, economics, business.thresholds(settings.get("thresholds"))
    )
    return {
        **business.impact(y, proba, decision, economics),
        "threshold_source": meta["decision_threshold"]["source"],
    }, curve


def fairness_by_group(
    params: Mapping[str, Any],
    rows: pd.DataFrame,
    y: np.ndarray,
    proba: np.ndarray,
    decision: float,
) -> dict[str, Any]:
    """Rates and gaps per `fairness.groups` column; "not assessed" without groups.

    Raises:
        ParamsError: a group column is not in the data.
    """
    settings = params.get("fairness") or {}
    groups = list(settings.get("groups") or [])
    unknown = [g for g in groups if g not in rows.columns]
    if unknown:
        raise ParamsError(f"fairness.groups names column(s) {unknown} that the data lacks")
    if not groups:
        return {
            "threshold": decision,
            "groups": {},
            "flagged_groups": [],
            "note": "no fairness groups in params: not assessed",
        }
    limits = {
        k: settings[k]
        for k in ("max_demographic_parity_difference", "max_equalized_odds_difference")
    }
    evaluation = params["evaluate"]
    return fairness.assess(
        rows,
        y,
        proba,
        decision,
        groups=groups,
        limits=limits,
        samples=evaluation["bootstrap_samples"],
        seed=params["base"]["seed"],
        confidence=evaluation["confidence"],
    )


def summary_lines(result: Evaluation, rows: int, words: Words) -> list[str]:
    """What the stage prints at the end."""
    scores, impact = result.reports["metrics"], result.reports["business"]
    lines = ["evaluate: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items())]
    if impact.get("precision") is not None:
        lines.append(
            f"evaluate: at the business threshold {result.decision:.2f}, "
            f"{impact['precision']:.0%} of flagged {words.entities} {words.verb} and "
            f"{impact['recall']:.0%} of {words.positives} are flagged; expected savings "
            f"{impact['expected_savings']:,.0f} on {rows} test {words.entities}"
        )
    verdict = result.reports["diagnostics"]["learning_curve"]["verdict"]
    flagged = result.reports["fairness"]["flagged_groups"] or "none"
    lines.append(f"evaluate: learning curve verdict: {verdict}; fairness flags: {flagged}")
    return lines
