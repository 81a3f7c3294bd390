"""Performance of a labelled batch at the served decision threshold, beside the evaluated
figures, with the accuracy's Wilson upper bound (so sampling noise alone fires no alert)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn import metrics

from churnops.abtest import stats

_DIGITS = 6


def wilson_upper(successes: int, n: int, confidence: float) -> float:
    """Upper bound of the Wilson interval of a proportion."""
    return stats.wilson(successes, n, confidence)[1] if n else 1.0


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
