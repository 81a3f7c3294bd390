"""Business impact: the expected profit of a retention campaign at each decision threshold, the
threshold that maximises it (chosen on out-of-fold training predictions, never on test), and
what that threshold means on held-out data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from churnops.params import ParamsError

_DIGITS = 6


@dataclass(frozen=True)
class Economics:
    """The economics of acting on a churn score, from the `business` params.

    Args:
        offer_cost: cost of one retention offer (paid for every flagged customer).
        retained_value: value of keeping a customer who would have churned.
        offer_success_rate: share of flagged churners the offer keeps.
    """

    offer_cost: float
    retained_value: float
    offer_success_rate: float

    def __post_init__(self) -> None:
        for key in ("offer_cost", "retained_value", "offer_success_rate"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ParamsError(f"business.{key} must be a number >= 0, got {value!r}")
        if self.offer_success_rate > 1:
            raise ParamsError(
                f"business.offer_success_rate must be at most 1, got {self.offer_success_rate!r}"
            )

    @classmethod
    def from_params(cls, business: Mapping[str, Any]) -> Economics:
        missing = [
            k for k in ("offer_cost", "retained_value", "offer_success_rate") if k not in business
        ]
        if missing:
            raise ParamsError(f"business section needs keys {missing}, got {sorted(business)}")
        return cls(
            business["offer_cost"], business["retained_value"], business["offer_success_rate"]
        )

    @property
    def gain_per_churner(self) -> float:
        """Expected net gain of offering to a customer who would churn."""
        return self.offer_success_rate * self.retained_value - self.offer_cost


def thresholds(grid: Mapping[str, Any]) -> np.ndarray:
    """Decision thresholds from `business.thresholds` ({start, stop, step}), inclusive."""
    try:
        start, stop, step = float(grid["start"]), float(grid["stop"]), float(grid["step"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ParamsError(
            f"business.thresholds needs numbers start, stop, step; got {grid!r}"
        ) from exc
    if not 0 < start <= stop < 1 or step <= 0:
        raise ParamsError(
            f"business.thresholds must satisfy 0 < start <= stop < 1 and step > 0, got {grid!r}"
        )
    return np.round(np.arange(start, stop + step / 2, step), 10)


def profit_curve(
    y: np.ndarray, proba: np.ndarray, economics: Economics, grid: np.ndarray
) -> pd.DataFrame:
    """Expected campaign profit, precision, recall and share flagged at each threshold.

    Profit = flagged churners × (success rate × retained value − offer cost)
             − flagged non-churners × offer cost.
    """
    y = np.asarray(y)
    flagged = proba[None, :] >= grid[:, None]
    tp = (flagged & (y == 1)).sum(axis=1)
    fp = (flagged & (y == 0)).sum(axis=1)
    n_flagged = tp + fp
    profit = tp * economics.gain_per_churner - fp * economics.offer_cost
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(n_flagged > 0, tp / np.maximum(n_flagged, 1), np.nan)
    recall = tp / max(int((y == 1).sum()), 1)
    return pd.DataFrame(
        {
            "threshold": grid,
            "expected_profit": np.round(profit.astype(float), _DIGITS),
            "profit_per_row": np.round(profit / len(y), _DIGITS),
            "precision": np.round(precision, _DIGITS),
            "recall": np.round(recall, _DIGITS),
            "flagged_share": np.round(n_flagged / len(y), _DIGITS),
        }
    )


def choose_threshold(curve: pd.DataFrame) -> float:
    """The threshold of highest expected profit (the lowest such threshold on ties)."""
    best = curve["expected_profit"].to_numpy().argmax()
    return float(curve["threshold"].iloc[best])


def impact(y: np.ndarray, proba: np.ndarray, threshold: float, economics: Economics) -> dict:
    """What acting at `threshold` means on a labelled set: who is flagged, how many of them
    churn, and the expected savings against doing nothing and against offering to everyone."""
    row = profit_curve(y, proba, economics, np.asarray([threshold])).iloc[0]
    everyone = profit_curve(y, proba, economics, np.asarray([0.0])).iloc[0]
    return {
        "threshold": round(threshold, _DIGITS),
        "rows": len(y),
        "flagged": int((proba >= threshold).sum()),
        "flagged_share": row["flagged_share"],
        "precision": None if pd.isna(row["precision"]) else row["precision"],
        "recall": row["recall"],
        "expected_savings": row["expected_profit"],
        "expected_savings_per_row": row["profit_per_row"],
        "savings_if_everyone_offered": everyone["expected_profit"],
    }
