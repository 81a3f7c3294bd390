"""Held-out evaluation: headline metrics, classification report, and curve data for plots."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics

from churnops.params import ParamsError

_DIGITS = 6


def check_threshold(threshold: float) -> float:
    """Return a decision threshold strictly between 0 and 1."""
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not 0 < threshold < 1
    ):
        raise ParamsError(f"evaluate.threshold must be a number in (0, 1), got {threshold!r}")
    return float(threshold)


def headline_metrics(y: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float]:
    """ROC-AUC, PR-AUC, accuracy, precision, recall, F1, log loss and Brier score.

    Args:
        y: true labels, 1 = positive.
        proba: predicted probability of the positive class.
        threshold: predict positive when proba >= threshold.
    """
    pred = (proba >= threshold).astype(int)
    values = {
        "roc_auc": metrics.roc_auc_score(y, proba),
        "pr_auc": metrics.average_precision_score(y, proba),
        "accuracy": metrics.accuracy_score(y, pred),
        "precision": metrics.precision_score(y, pred, zero_division=0),
        "recall": metrics.recall_score(y, pred, zero_division=0),
        "f1": metrics.f1_score(y, pred, zero_division=0),
        "log_loss": metrics.log_loss(y, proba, labels=[0, 1]),
        "brier": metrics.brier_score_loss(y, proba),
    }
    return {k: round(float(v), _DIGITS) for k, v in values.items()}


def classification_report(
    y: np.ndarray, proba: np.ndarray, threshold: float, labels: list[str]
) -> dict[str, Any]:
    """Per-class precision/recall/F1/support at the threshold, with label names."""
    pred = (proba >= threshold).astype(int)
    report = metrics.classification_report(
        y, pred, labels=[0, 1], target_names=labels, output_dict=True, zero_division=0
    )
    return _rounded(report)


def _rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, _DIGITS)
    return value


def confusion_rows(
    y: np.ndarray, proba: np.ndarray, threshold: float, labels: list[str]
) -> pd.DataFrame:
    """One row per example (actual and predicted label): what DVC's confusion template reads."""
    pred = (proba >= threshold).astype(int)
    names = np.asarray(labels, dtype=object)
    return pd.DataFrame({"actual": names[y], "predicted": names[pred]})


def roc_points(y: np.ndarray, proba: np.ndarray) -> pd.DataFrame:
    """ROC curve points (fpr, tpr, threshold), thresholds clipped to [0, 1]."""
    fpr, tpr, thresholds = metrics.roc_curve(y, proba, drop_intermediate=True)
    return _points({"fpr": fpr, "tpr": tpr, "threshold": np.clip(thresholds, 0, 1)})


def pr_points(y: np.ndarray, proba: np.ndarray) -> pd.DataFrame:
    """Precision-recall curve points (recall, precision, threshold)."""
    precision, recall, thresholds = metrics.precision_recall_curve(y, proba, drop_intermediate=True)
    return _points(
        {"recall": recall, "precision": precision, "threshold": np.append(thresholds, 1.0)}
    )


def _points(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame({k: np.round(v.astype(float), _DIGITS) for k, v in columns.items()})


def bootstrap_intervals(
    y: np.ndarray,
    proba: np.ndarray,
    threshold: float,
    *,
    samples: int,
    seed: int,
    confidence: float,
) -> dict[str, list[float]]:
    """Percentile bootstrap intervals of the headline metrics (resampling test rows)."""
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 10:
        raise ParamsError(f"evaluate.bootstrap_samples must be an integer >= 10, got {samples!r}")
    if not 0 < confidence < 1:
        raise ParamsError(f"evaluate.confidence must be in (0, 1), got {confidence!r}")
    rng = np.random.default_rng(seed)
    names = ("roc_auc", "pr_auc", "accuracy", "precision", "recall", "f1", "brier")
    draws: dict[str, list[float]] = {k: [] for k in names}
    for _ in range(samples):
        idx = rng.integers(0, len(y), len(y))
        if len(np.unique(y[idx])) < 2:
            continue
        scores = headline_metrics(y[idx], proba[idx], threshold)
        for k in names:
            draws[k].append(scores[k])
    tail = (1 - confidence) / 2 * 100
    return {
        k: [round(float(v), _DIGITS) for v in np.percentile(draws[k], [tail, 100 - tail])]
        for k in names
    }
