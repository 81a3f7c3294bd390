"""Fairness: per-group error rates with bootstrap intervals, and the parity gaps between groups.

Demographic-parity difference is the largest gap in selection rate between the values of a
group column; equalized-odds difference is the larger of the largest TPR gap and the largest FPR
gap (the definitions fairlearn uses).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

_DIGITS = 6
RATES = ("selection_rate", "tpr", "fpr", "precision", "roc_auc")


def _rates(y: np.ndarray, proba: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    positives, negatives, flagged = y == 1, y == 0, pred == 1
    return {
        "selection_rate": flagged.mean() if len(y) else np.nan,
        "tpr": (flagged & positives).sum() / positives.sum() if positives.any() else np.nan,
        "fpr": (flagged & negatives).sum() / negatives.sum() if negatives.any() else np.nan,
        "precision": (flagged & positives).sum() / flagged.sum() if flagged.any() else np.nan,
        "roc_auc": roc_auc_score(y, proba) if positives.any() and negatives.any() else np.nan,
    }


def group_rates(
    y: np.ndarray,
    proba: np.ndarray,
    threshold: float,
    *,
    samples: int,
    seed: int,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Counts and rates of one group, each rate with a percentile bootstrap interval."""
    pred = (proba >= threshold).astype(int)
    point = _rates(y, proba, pred)
    rng = np.random.default_rng(seed)
    draws = {k: [] for k in RATES}
    for _ in range(samples):
        idx = rng.integers(0, len(y), len(y))
        for k, v in _rates(y[idx], proba[idx], pred[idx]).items():
            draws[k].append(v)
    tail = (1 - confidence) / 2 * 100
    out: dict[str, Any] = {"count": len(y), "positives": int((y == 1).sum())}
    for k in RATES:
        values = np.asarray(draws[k], dtype=float)
        values = values[~np.isnan(values)]
        low, high = np.percentile(values, [tail, 100 - tail]) if len(values) else (np.nan, np.nan)
        out[k] = _num(point[k])
        out[f"{k}_ci"] = [_num(low), _num(high)]
    return out


def assess(
    rows: pd.DataFrame,
    y: np.ndarray,
    proba: np.ndarray,
    threshold: float,
    *,
    groups: Sequence[str],
    limits: Mapping[str, float],
    samples: int,
    seed: int,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Rates per value of each group column, the parity gaps, and flags where a gap exceeds its
    limit. Flags are reported, never raised."""
    report: dict[str, Any] = {
        "threshold": threshold,
        "limits": dict(limits),
        "confidence": confidence,
        "groups": {},
    }
    for column in groups:
        values = rows[column].astype(str).to_numpy()
        by_value = {
            value: group_rates(
                y[values == value],
                proba[values == value],
                threshold,
                samples=samples,
                seed=seed,
                confidence=confidence,
            )
            for value in sorted(set(values))
        }
        gaps = {
            "demographic_parity_difference": _gap(by_value, "selection_rate"),
            "equalized_odds_difference": _max(_gap(by_value, "tpr"), _gap(by_value, "fpr")),
            "roc_auc_difference": _gap(by_value, "roc_auc"),
        }
        flags = [
            k
            for k in ("demographic_parity_difference", "equalized_odds_difference")
            if gaps[k] is not None and gaps[k] > limits[f"max_{k}"]
        ]
        report["groups"][column] = {**gaps, "flags": flags, "by_value": by_value}
    report["flagged_groups"] = sorted(c for c, g in report["groups"].items() if g["flags"])
    return report


def _gap(by_value: Mapping[str, Mapping[str, Any]], rate: str) -> float | None:
    values = [v[rate] for v in by_value.values() if v[rate] is not None]
    return _num(max(values) - min(values)) if len(values) >= 2 else None


def _max(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _num(value: float) -> float | None:
    return None if value is None or np.isnan(value) else round(float(value), _DIGITS)


def rates_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """One row per (group column, value): count and each rate with its interval bounds."""
    rows = []
    for column, group in report["groups"].items():
        for value, rates in group["by_value"].items():
            row = {"group": column, "value": value, "count": rates["count"]}
            for k in RATES:
                row[k] = rates[k]
                row[f"{k}_low"], row[f"{k}_high"] = rates[f"{k}_ci"]
            rows.append(row)
    return pd.DataFrame(
        rows,
        columns=[
            "group",
            "value",
            "count",
            *[f"{k}{s}" for k in RATES for s in ("", "_low", "_high")],
        ],
    )


def headline(report: dict[str, Any]) -> dict[str, Any]:
    """Per group column, the two gaps `dvc metrics diff` shows (the per-value detail stays in
    fairness.json)."""
    return {
        column: {
            k: group[k] for k in ("demographic_parity_difference", "equalized_odds_difference")
        }
        for column, group in report.get("groups", {}).items()
    }
