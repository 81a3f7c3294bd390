"""Performance and latency of a batch from partition-wise sufficient statistics, so a batch of any
size is checked part by part (`partitioned`) with the in-process monitor's figures.

- Accuracy, precision, recall and the accuracy's Wilson bound: from the confusion counts at each
  threshold, summed over the parts; exactly the in-process figures (`performance.figures`).
- ROC-AUC: from each class's counts of predicted probabilities in ROC_BINS equal bins of [0, 1].
  Pairs of a positive and a negative in different bins are ordered exactly; a pair in one bin
  counts one half (as a tie does), so the answer is within `roc_auc_bound` =
  sum_b pos_b * neg_b / (2 * P * N) of the exact Mann-Whitney ROC-AUC.
- Latency p99: from counts in geometric bins, each LATENCY_RATIO times the one below. NumPy's
  percentile (linear interpolation) lies between two order statistics; the answer is the middle
  of the bins holding them (clipped to the smallest and largest values seen), and
  `latency_p99_bound_ms` is half that interval's width (about 0.5% when both are in one bin).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from churnops.monitoring.performance import Confusion

ROC_BINS = 1 << 16
LATENCY_RATIO = 1.01
LATENCY_FLOOR_MS = 1e-3  # values below it share the first bin
LATENCY_BINS = math.ceil(math.log(1e7 / LATENCY_FLOOR_MS) / math.log(LATENCY_RATIO)) + 2


@dataclass
class Outcomes:
    """Labelled rows: confusion counts at each threshold and each class's probability bins."""

    thresholds: tuple[float, ...]
    confusions: dict[float, Confusion] = field(default_factory=dict)
    bins: np.ndarray | None = None  # (2, ROC_BINS): negatives, positives

    @classmethod
    def of(cls, y: np.ndarray, proba: np.ndarray, thresholds: tuple[float, ...]) -> Outcomes:
        index = np.minimum((proba * ROC_BINS).astype(np.int64), ROC_BINS - 1)
        bins = np.stack([np.bincount(index[y == k], minlength=ROC_BINS) for k in (0, 1)])
        return cls(thresholds, {t: Confusion.of(y, proba, t) for t in thresholds}, bins)

    def __add__(self, other: Outcomes) -> Outcomes:
        if self.bins is None:
            return other
        if other.bins is None:
            return self
        return Outcomes(
            self.thresholds,
            {t: _add(self.confusions[t], other.confusions[t]) for t in self.thresholds},
            self.bins + other.bins,
        )

    @property
    def rows(self) -> int:
        return 0 if self.bins is None else int(self.bins.sum())

    def roc_auc(self) -> tuple[float | None, float | None]:
        """The ROC-AUC and the largest distance from the exact one (None with one class)."""
        negatives, positives = (self.bins[k].astype(float) for k in (0, 1))
        n, p = negatives.sum(), positives.sum()
        if not n or not p:
            return None, None
        below = np.cumsum(negatives) - negatives  # negatives in lower bins
        same = positives * negatives
        auc = float((positives * below).sum() + same.sum() / 2) / (n * p)
        return auc, float(same.sum() / 2 / (n * p))


def _add(a: Confusion, b: Confusion) -> Confusion:
    return Confusion(a.tp + b.tp, a.fp + b.fp, a.tn + b.tn, a.fn + b.fn)


@dataclass
class Latency:
    """Counts of latencies (ms) in geometric bins, with the smallest and largest seen."""

    counts: np.ndarray = field(default_factory=lambda: np.zeros(LATENCY_BINS, dtype=np.int64))
    low: float = math.inf
    high: float = -math.inf

    @classmethod
    def of(cls, values: np.ndarray) -> Latency:
        present = values[~np.isnan(values)]
        if not len(present):
            return cls()
        return cls(
            np.bincount(_latency_bin(present), minlength=LATENCY_BINS),
            float(present.min()),
            float(present.max()),
        )

    def __add__(self, other: Latency) -> Latency:
        return Latency(
            self.counts + other.counts, min(self.low, other.low), max(self.high, other.high)
        )

    def p99(self) -> tuple[float | None, float | None]:
        """NumPy's 99th percentile (linear), within the returned bound (both in ms)."""
        n = int(self.counts.sum())
        if not n:
            return None, None
        rank = 0.99 * (n - 1)
        cumulative = np.cumsum(self.counts)
        first, last = np.searchsorted(cumulative, [math.floor(rank), math.ceil(rank)], "right")
        start = max(_edge(int(first)), self.low)
        end = min(_edge(int(last) + 1), self.high)
        return (start + end) / 2, (end - start) / 2


def _latency_bin(values: np.ndarray) -> np.ndarray:
    """Bin 0: below the floor; bin i >= 1: [floor * r^(i-1), floor * r^i); the last: above."""
    with np.errstate(divide="ignore"):
        steps = np.log(np.maximum(values, 0) / LATENCY_FLOOR_MS) / math.log(LATENCY_RATIO)
    return np.clip(np.floor(steps) + 1, 0, LATENCY_BINS - 1).astype(np.int64)


def _edge(i: int) -> float:
    """The lower edge of bin i (0 for the first, infinity past the last)."""
    if i <= 0:
        return 0.0
    if i >= LATENCY_BINS:
        return math.inf
    return LATENCY_FLOOR_MS * LATENCY_RATIO ** (i - 1)
