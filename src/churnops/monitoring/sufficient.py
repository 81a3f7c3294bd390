"""The monitor's per-column drift statistics from partition-wise sufficient statistics, so a
batch of any size is monitored part by part (in this process or on a Dask cluster) without
holding it in one place. Only the reference (the training split) is in memory.

Categorical columns: counts per category (missing as its own), summed over the parts; the
chi-square test and the Jensen-Shannon distance are then computed from the counts exactly as the
in-process monitor computes them (`drift.counts_drift`): the same numbers.

Numeric columns, against the reference's K distinct values u_0 < ... < u_K-1: per part, how many
values fall in each gap [u_i-1, u_i) (and below u_0, above u_K-1), their sum, and how many equal
each u_i; O(K) numbers whatever the part's size.
- Kolmogorov-Smirnov, exactly: both empirical distribution functions are constant between
  consecutive points, and between two reference values the reference's is constant while the
  batch's rises, so |F_ref - F_batch| is largest at a reference value or just before the next one,
  where the counts give F_batch. The statistic and its asymptotic p-value (SciPy's `ks_2samp`
  formula, `kstwo.sf(d, round(mn / (m + n)))`) are those of the in-process test, float for float.
- Wasserstein distance, integral of |F_ref - F_batch|: exact over every gap where the two do not
  cross (the gap's integral of F_batch comes from its count and sum), and within
  `wasserstein_bound` where they cross inside a gap (the answer is the middle of the bounds).
  Effect size: the distance over the reference's standard deviation, as in-process.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from churnops.monitoring import drift


@dataclass(frozen=True)
class NumericReference:
    values: np.ndarray  # the reference's distinct values, sorted
    cumulative: np.ndarray  # F_ref at each of them
    size: int
    std: float

    @classmethod
    def of(cls, values: np.ndarray) -> NumericReference:
        present = values[~np.isnan(values)]
        distinct, counts = np.unique(present, return_counts=True)
        return cls(distinct, np.cumsum(counts) / len(present), len(present), float(present.std()))


@dataclass
class NumericPart:
    """Sufficient statistics of one numeric column over some rows."""

    n: int = 0
    missing: int = 0
    gap_count: np.ndarray | None = None  # K+1: values with r = #{u <= x} reference values below
    gap_sum: np.ndarray | None = None
    equal: np.ndarray | None = None  # K: values equal to u_i

    @classmethod
    def of(cls, values: np.ndarray, reference: NumericReference) -> NumericPart:
        present = values[~np.isnan(values)]
        u, k = reference.values, len(reference.values)
        right = np.searchsorted(u, present, side="right")
        left = np.searchsorted(u, present, side="left")
        hit = right != left
        return cls(
            n=len(present),
            missing=len(values) - len(present),
            gap_count=np.bincount(right, minlength=k + 1),
            gap_sum=np.bincount(right, weights=present, minlength=k + 1),
            equal=np.bincount(left[hit], minlength=k),
        )

    def __add__(self, other: NumericPart) -> NumericPart:
        if self.gap_count is None:
            return other
        return NumericPart(
            self.n + other.n,
            self.missing + other.missing,
            self.gap_count + other.gap_count,
            self.gap_sum + other.gap_sum,
            self.equal + other.equal,
        )


def numeric_drift(reference: NumericReference, part: NumericPart) -> dict[str, float | None]:
    """KS statistic and p-value (exact, as in-process), the normalised Wasserstein distance and
    the bound on its error (`wasserstein_bound`, in the same unit)."""
    if reference.size < 2 or part.n < 2:
        return {"statistic": None, "p_value": None, "effect_size": None, "effect_bound": None}
    u, a, n = reference.values, reference.cumulative, part.n
    below = np.cumsum(part.gap_count)[: len(u)]  # #{x < u_i}
    at_or_below = below + part.equal  # #{x <= u_i}
    ends = [np.abs(a - at_or_below / n)]  # at each reference value
    ends.append(np.abs(a[:-1] - below[1:] / n))  # just before the next one
    ends.append(np.array([below[0] / n]))  # below the reference's smallest value
    d = float(max(e.max(initial=0.0) for e in ends))
    m, k = sorted([float(reference.size), float(n)], reverse=True)
    p = float(np.clip(stats.distributions.kstwo.sf(d, np.round(m * k / (m + k))), 0, 1))
    distance, bound = _wasserstein(reference, part, below, at_or_below)
    scale = reference.std or 1.0
    return {
        "statistic": d,
        "p_value": p,
        "effect_size": distance / scale,
        "effect_bound": bound / scale,
    }


def _wasserstein(
    reference: NumericReference, part: NumericPart, below: np.ndarray, at_or_below: np.ndarray
) -> tuple[float, float]:
    u, a, n = reference.values, reference.cumulative, part.n
    width = np.diff(u)
    # values strictly inside gap i = (u_i, u_i+1): those with r = i + 1 that do not equal u_i
    inside_count = part.gap_count[1:-1] - part.equal[:-1]
    inside_sum = part.gap_sum[1:-1] - part.equal[:-1] * u[:-1]
    low = at_or_below[:-1] / n  # F_batch at the gap's start
    high = below[1:] / n  # F_batch just before its end
    area = low * width + (inside_count * u[1:] - inside_sum) / n  # integral of F_batch
    level = a[:-1] * width
    exact_under = high <= a[:-1]  # F_batch stays at or below F_ref across the gap
    exact_over = low >= a[:-1]
    crossing = ~(exact_under | exact_over)
    lower = np.abs(level - area)
    upper = np.where(crossing, np.maximum(a[:-1] - low, high - a[:-1]) * width, lower)
    tails = (part.gap_count[0] * u[0] - part.gap_sum[0]) / n  # below u_0, F_ref = 0
    tails += (part.gap_sum[-1] - part.gap_count[-1] * u[-1]) / n  # above u_K-1, F_ref = 1
    middle = (lower + upper) / 2
    return float(tails + middle.sum()), float(((upper - lower) / 2).sum())


@dataclass
class ColumnsPart:
    """Sufficient statistics of every monitored column over some rows."""

    rows: int = 0
    numeric: dict[str, NumericPart] = field(default_factory=dict)
    counts: dict[str, pd.Series] = field(default_factory=dict)  # categorical: per category
    outside: dict[str, int] = field(default_factory=dict)  # numeric: outside [min, max]

    def __add__(self, other: ColumnsPart) -> ColumnsPart:
        """The statistics of both row sets; a column only one side has keeps that side's (so
        its total covers fewer rows than `rows`, which `partitioned` checks for the label)."""
        return ColumnsPart(
            self.rows + other.rows,
            _merge(self.numeric, other.numeric, operator.add),
            _merge(self.counts, other.counts, _add_counts),
            _merge(self.outside, other.outside, operator.add),
        )

    def quality(self, features: Mapping[str, Any]) -> dict[str, Any]:
        """`monitor.batch_quality`'s answer from these statistics."""
        out = {}
        for column, info in features.items():
            if info["kind"] == "numeric":
                part = self.numeric[column]
                missing, present = part.missing, part.n
                outside = self.outside.get(column, 0)
                entry: dict[str, Any] = {
                    "out_of_range_share": outside / present if present else 0.0
                }
            else:
                counts = self.counts[column]
                missing = int(counts.get(drift.MISSING, 0))
                present = int(counts.sum()) - missing
                unseen = counts.drop(drift.MISSING, errors="ignore")
                unseen = unseen[~unseen.index.isin(info["categories"])]
                entry = {
                    "unseen_share": float(unseen.sum() / present) if present else 0.0,
                    "unseen_values": sorted(map(str, unseen.index))[:10],
                }
            share = missing / max(self.rows, 1)
            entry = {
                "missing_share": share,
                "missing_increase": share - info["missing_share"],
                **entry,
            }
            out[column] = {
                k: round(v, drift.DIGITS) if isinstance(v, float) else v for k, v in entry.items()
            }
        return {"rows": self.rows, "columns": len(features), "by_column": out}


@dataclass(frozen=True)
class Reference:
    """What the parts are compared with: per numeric column its distinct values, per
    categorical column its counts."""

    kinds: dict[str, str]
    numeric: dict[str, NumericReference]
    counts: dict[str, pd.Series]
    ranges: dict[str, tuple[float | None, float | None]]  # the schema's training range

    @classmethod
    def of(
        cls, rows: pd.DataFrame, kinds: Mapping[str, str], ranges: Mapping[str, tuple]
    ) -> Reference:
        return cls(
            dict(kinds),
            {c: NumericReference.of(rows[c].to_numpy(dtype=float)) for c in _numeric(kinds)},
            {c: drift.category_counts(rows[c]) for c, k in kinds.items() if k != "numeric"},
            dict(ranges),
        )

    def restricted(self, kinds: Mapping[str, str]) -> Reference:
        """The reference of the columns in `kinds` only."""
        return Reference(
            dict(kinds),
            {c: s for c, s in self.numeric.items() if c in kinds},
            {c: s for c, s in self.counts.items() if c in kinds},
            {c: r for c, r in self.ranges.items() if c in kinds},
        )

    def summarize(self, rows: pd.DataFrame) -> ColumnsPart:
        """One part's statistics (rows typed as the monitor types them)."""
        part = ColumnsPart(rows=len(rows))
        for column, kind in self.kinds.items():
            if kind == "numeric":
                values = rows[column].to_numpy(dtype=float)
                part.numeric[column] = NumericPart.of(values, self.numeric[column])
                low, high = self.ranges.get(column, (None, None))
                if low is not None:
                    present = values[~np.isnan(values)]
                    part.outside[column] = int(((present < low) | (present > high)).sum())
            else:
                part.counts[column] = drift.category_counts(rows[column])
        return part

    def column_drift(
        self, total: ColumnsPart, *, alpha: float, min_effect: Mapping[str, float]
    ) -> dict[str, dict[str, Any]]:
        """`drift.column_drift`'s answer from the summed parts (numeric columns also carry
        `effect_bound`, the largest error of their effect size)."""
        raw = {}
        for column, kind in self.kinds.items():
            if kind == "numeric":
                raw[column] = numeric_drift(self.numeric[column], total.numeric[column])
            else:
                raw[column] = drift.counts_drift(self.counts[column], total.counts[column])
            raw[column]["test"] = "ks" if kind == "numeric" else "chi-square"
            raw[column]["effect"] = "wasserstein_normed" if kind == "numeric" else "jensen_shannon"
            raw[column]["kind"] = kind
        return drift.decide(raw, alpha=alpha, min_effect=min_effect)


def _numeric(kinds: Mapping[str, str]) -> list[str]:
    return [c for c, k in kinds.items() if k == "numeric"]


def _add_counts(mine: pd.Series, other: pd.Series) -> pd.Series:
    return mine.add(other, fill_value=0).astype("int64")


def _merge(mine: dict, other: dict, add: Any) -> dict:
    """Both dicts' keys; where both have one, `add` of the two values."""
    return {
        k: add(mine[k], other[k]) if k in mine and k in other else mine.get(k, other.get(k))
        for k in {**mine, **other}
    }
