"""Synthetic rows shaped like a data set, at any size: a Gaussian copula per class of the target.

The model (fitted on the training split; documented here rather than taken from a library, so
that 10M rows are sampled in seconds with NumPy alone):

1. The target's classes keep their shares. Each class has a model of its own, so whatever
   separates the classes (the churn signal) is kept, not only the columns' mutual dependence.
2. Within a class every column is mapped to a standard normal score: a numeric column by its
   rank ((rank - U) / n, ties broken at random), a categorical one by a uniform draw inside its
   category's slice of [0, 1] (categories in order of frequency). Missing values get the score 0
   and are left out of the correlations.
3. The scores' correlation matrix (Pearson, on the normal scores: a Gaussian copula) is
   estimated per class, then repaired to the nearest positive definite matrix.
4. Sampling draws correlated normal scores, maps them to uniforms and back through each
   column's own empirical distribution: numbers by interpolating between the class's order
   statistics (integer-valued columns pick an observed value), categories by their slice.
   Missing values appear at the class's missing share of each column.

So every column keeps its marginal distribution within each class (hence overall), pairs keep
their rank dependence, and the target stays learnable. What a copula cannot keep: exact
functional ties between columns (TotalCharges is about tenure x MonthlyCharges; the synthetic
rows only keep their correlation) and interactions of three or more columns.
Every draw comes from `numpy.random.default_rng((seed, part))`, so part `part` of a data set is
the same whichever process writes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from churnops.data.schema import DataError

_MIN_ROWS = 20  # per class: fewer cannot estimate a correlation matrix
_EIGEN_FLOOR = 1e-6


@dataclass(frozen=True)
class _Column:
    name: str
    kind: str  # numeric | categorical
    missing: float  # share of missing values
    values: np.ndarray  # numeric: sorted present values; categorical: categories by frequency
    cumulative: np.ndarray | None  # categorical: upper end of each category's slice
    integer: bool  # numeric: every value is a whole number


@dataclass(frozen=True)
class _Class:
    label: Any
    share: float
    columns: list[_Column]
    cholesky: np.ndarray  # of the normal scores' correlation matrix


@dataclass(frozen=True)
class Synthesizer:
    """A fitted copula per class; `sample` draws rows in the training data's columns."""

    target: str
    id_column: str | None
    columns: list[str]  # the output's columns, in the training data's order
    classes: list[_Class]

    def sample(self, rows: int, *, seed: int, part: int = 0, first_id: int = 0) -> pd.DataFrame:
        """`rows` synthetic rows, the draw fixed by (seed, part); ids from `first_id`."""
        rng = np.random.default_rng((seed, part))
        shares = np.array([c.share for c in self.classes])
        counts = rng.multinomial(rows, shares / shares.sum())
        pieces = []
        for model, n in zip(self.classes, counts, strict=True):
            if n:
                frame = _sample_class(model, int(n), rng)
                frame[self.target] = model.label
                pieces.append(frame)
        frame = pd.concat(pieces, ignore_index=True)
        frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
        if self.id_column:
            frame[self.id_column] = [f"SYN-{i:010d}" for i in range(first_id, first_id + rows)]
        return frame[self.columns]


def fit(
    rows: pd.DataFrame,
    kinds: Mapping[str, str],
    *,
    target: str,
    id_column: str | None,
    seed: int,
) -> Synthesizer:
    """Fit the copulas on `rows` (the training split), one per class of `target`.

    Args:
        kinds: feature column -> numeric | categorical.

    Raises:
        DataError: a column is missing, or a class has fewer than 20 rows.
    """
    absent = [c for c in [*kinds, target] if c not in rows]
    if absent:
        raise DataError(f"cannot fit synthetic data: column(s) {absent} not in {list(rows)}")
    rng = np.random.default_rng(seed)
    classes = []
    for label, group in rows.groupby(target, sort=True):
        if len(group) < _MIN_ROWS:
            raise DataError(
                f"cannot fit synthetic data: class {target}={label!r} has {len(group)} rows "
                f"(at least {_MIN_ROWS} needed)"
            )
        columns = [_fit_column(group[c], c, kinds[c]) for c in kinds]
        scores = np.column_stack([_scores(group[c.name], c, rng) for c in columns])
        classes.append(
            _Class(
                label=label,
                share=len(group) / len(rows),
                columns=columns,
                cholesky=np.linalg.cholesky(_positive_definite(_correlation(scores))),
            )
        )
    order = [c for c in rows.columns if c in kinds or c in (target, id_column)]
    return Synthesizer(target=target, id_column=id_column, columns=order, classes=classes)


def _fit_column(values: pd.Series, name: str, kind: str) -> _Column:
    present = values.dropna()
    missing = 1 - len(present) / len(values)
    if kind == "numeric":
        numbers = np.sort(present.to_numpy(dtype=np.float64))
        if not len(numbers):
            numbers = np.array([np.nan])
        integer = bool(np.all(np.isnan(numbers) | (numbers == np.round(numbers))))
        return _Column(name, kind, missing, numbers, None, integer)
    counts = present.astype(str).value_counts(sort=True)
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    cumulative = np.cumsum(counts.to_numpy()) / max(counts.sum(), 1)
    return _Column(name, kind, missing, counts.index.to_numpy(dtype=object), cumulative, False)


def _scores(values: pd.Series, column: _Column, rng: np.random.Generator) -> np.ndarray:
    """Each row's normal score (0 where missing): rank-based, ties and categories spread by a
    uniform draw inside their slice."""
    out = np.zeros(len(values))
    present = values.notna().to_numpy()
    if not present.any():
        return out
    if column.kind == "numeric":
        x = values.to_numpy(dtype=np.float64)[present]
        low = np.searchsorted(column.values, x, side="left")
        high = np.searchsorted(column.values, x, side="right")
        u = (low + rng.uniform(size=len(x)) * (high - low)) / len(column.values)
    else:
        position = {v: i for i, v in enumerate(column.values)}
        index = np.array([position[v] for v in values[present].astype(str)])
        top = column.cumulative[index]
        bottom = np.where(index > 0, column.cumulative[np.maximum(index - 1, 0)], 0.0)
        u = bottom + rng.uniform(size=len(index)) * (top - bottom)
    out[present] = special.ndtri(np.clip(u, 1e-9, 1 - 1e-9))
    return out


def _correlation(scores: np.ndarray) -> np.ndarray:
    if scores.shape[1] == 1:
        return np.ones((1, 1))
    spread = scores.std(axis=0)
    safe = np.where(spread > 0, spread, 1.0)
    standard = (scores - scores.mean(axis=0)) / safe
    matrix = standard.T @ standard / len(scores)
    matrix[spread == 0, :] = 0.0
    matrix[:, spread == 0] = 0.0
    np.fill_diagonal(matrix, 1.0)
    return matrix


def _positive_definite(matrix: np.ndarray) -> np.ndarray:
    """The nearest correlation matrix with eigenvalues of at least _EIGEN_FLOOR."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    repaired = vectors @ np.diag(np.maximum(values, _EIGEN_FLOOR)) @ vectors.T
    scale = np.sqrt(np.diag(repaired))
    return repaired / np.outer(scale, scale)


def _sample_class(model: _Class, n: int, rng: np.random.Generator) -> pd.DataFrame:
    normal = rng.standard_normal((n, len(model.columns))) @ model.cholesky.T
    uniform = special.ndtr(normal)
    out = {}
    for j, column in enumerate(model.columns):
        u = uniform[:, j]
        if column.kind == "numeric":
            values = _numbers(column, u)
        else:
            index = np.minimum(
                np.searchsorted(column.cumulative, u, side="right"), len(column.values) - 1
            )
            values = column.values[index]
        missing = rng.uniform(size=n) < column.missing
        if missing.any():
            values = values.astype(object) if column.kind != "numeric" else values
            values[missing] = np.nan if column.kind == "numeric" else None
        out[column.name] = values
    return pd.DataFrame(out)


def _numbers(column: _Column, u: np.ndarray) -> np.ndarray:
    """The inverse of the column's empirical distribution at `u`."""
    sorted_values = column.values
    m = len(sorted_values)
    if column.integer:
        return sorted_values[np.minimum((u * m).astype(np.int64), m - 1)]
    position = u * m - 0.5  # order statistic k sits at (k + 0.5) / m
    return np.interp(position, np.arange(m), sorted_values)
