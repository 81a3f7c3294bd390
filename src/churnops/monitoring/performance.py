"""Performance of a labelled batch at the served decision threshold, beside the evaluated
figures, with the accuracy's Wilson upper bound (so sampling noise alone fires no alert). The
figures come from confusion counts, so a batch monitored part by part (`outcomes`) gets them
from its summed counts exactly."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn import metrics

from churnops.abtest import stats

_DIGITS = 6


@dataclass(frozen=True)
class Confusion:
    """Rows by (label, decision) at one threshold."""

    tp: int
    fp: int
    tn: int
    fn: int

    @classmethod
    def of(cls, y: np.ndarray, proba: np.ndarray, threshold: float) -> Confusion:
        decided, positive = proba >= threshold, y == 1
        return cls(
            int((decided & positive).sum()),
            int((decided & ~positive).sum()),
            int((~decided & ~positive).sum()),
            int((~decided & positive).sum()),
        )

    @property
    def rows(self) -> int:
        return self.tp + self.fp + self.tn + self.fn


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
    thresholds = [threshold] + ([beside[0]] if beside else [])
    return figures(
        {t: Confusion.of(y, proba, t) for t in thresholds},
        metrics.roc_auc_score(y, proba) if len(set(y)) == 2 else None,
        threshold=threshold,
        reference=reference,
        confidence=confidence,
        beside=beside,
    )


def figures(
    confusions: Mapping[float, Confusion],
    roc_auc: float | None,
    *,
    threshold: float,
    reference: Mapping[str, float],
    confidence: float,
    beside: tuple[float, Mapping[str, float]] | None = None,
) -> dict[str, Any]:
    """`performance`'s answer from the confusion counts at `threshold` (and at `beside`'s) and
    the ROC-AUC."""
    out = _performance_at(confusions[threshold], roc_auc, threshold, reference, confidence)
    if beside is not None:
        out["at_other_threshold"] = _performance_at(
            confusions[beside[0]], roc_auc, beside[0], beside[1], confidence
        )
    return out


def _performance_at(
    counts: Confusion,
    roc_auc: float | None,
    threshold: float,
    reference: Mapping[str, float],
    confidence: float,
) -> dict[str, Any]:
    correct, rows = counts.tp + counts.tn, counts.rows
    out = {
        "threshold": threshold,
        "rows": rows,
        "accuracy": correct / rows if rows else 0.0,
        "confidence": confidence,
        "accuracy_upper": wilson_upper(correct, rows, confidence),
        "precision": _share(counts.tp, counts.tp + counts.fp),
        "recall": _share(counts.tp, counts.tp + counts.fn),
        "roc_auc": roc_auc,
    }
    out["accuracy_shortfall"] = reference["accuracy"] - out["accuracy_upper"]
    error, ref_error = 1 - out["accuracy"], 1 - reference["accuracy"]
    out["error_rate_increase"] = (error - ref_error) / ref_error if ref_error else None
    out["reference"] = dict(reference)
    return {
        k: (round(float(v), _DIGITS) if isinstance(v, float | np.floating) else v)
        for k, v in out.items()
    }


def _share(part: int, whole: int) -> float:
    """part / whole, 0 when whole is 0 (scikit-learn's zero_division=0)."""
    return part / whole if whole else 0.0
