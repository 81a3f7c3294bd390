"""Performance and latency from summed parts: the ROC-AUC within its stated bound of
scikit-learn's (exact when no bin holds both classes), the latency p99 within its bound of
NumPy's percentile, and the same answer however the rows are split."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from churnops.monitoring.outcomes import ROC_BINS, Latency, Outcomes


def _split(*arrays, parts=3):
    return zip(*(np.array_split(a, parts) for a in arrays), strict=True)


@pytest.mark.parametrize("rows", [40, 3_000, 200_000])
def test_roc_auc_is_within_its_bound(rows):
    rng = np.random.default_rng(rows)
    y = rng.integers(0, 2, rows)
    proba = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1)
    total = sum((Outcomes.of(a, b, (0.5,)) for a, b in _split(y, proba)), Outcomes((0.5,)))
    auc, bound = total.roc_auc()
    assert total.rows == rows
    assert abs(auc - roc_auc_score(y, proba)) <= bound + 1e-12
    assert bound < 1e-3


def test_roc_auc_is_exact_when_no_bin_holds_both_classes():
    proba = np.array([0.1, 0.2, 0.2, 0.7, 0.9, 0.3])
    y = np.array([0, 0, 1, 1, 1, 0])
    auc, bound = Outcomes.of(y, proba, (0.5,)).roc_auc()
    assert bound == pytest.approx(1 / 9 / 2)  # the tie at 0.2: one pair of nine, half counted
    assert auc == pytest.approx(roc_auc_score(y, proba))
    apart = np.array([0.1, 0.2, 0.2 + 2 / ROC_BINS, 0.7, 0.9, 0.3])
    auc, bound = Outcomes.of(y, apart, (0.5,)).roc_auc()
    assert bound == 0
    assert auc == pytest.approx(roc_auc_score(y, apart), abs=1e-12)


def test_confusion_counts_sum_over_parts():
    rng = np.random.default_rng(5)
    y, proba = rng.integers(0, 2, 1000), rng.random(1000)
    whole = Outcomes.of(y, proba, (0.3, 0.5))
    parts = sum((Outcomes.of(a, b, (0.3, 0.5)) for a, b in _split(y, proba)), Outcomes((0.3, 0.5)))
    assert parts.confusions == whole.confusions
    assert (parts.bins == whole.bins).all()
    assert Outcomes.of(np.zeros(4, int), np.full(4, 0.5), (0.5,)).roc_auc() == (None, None)


@pytest.mark.parametrize("rows", [1, 7, 5_000, 100_000])
def test_latency_p99_is_within_its_bound(rows):
    values = np.random.default_rng(rows).lognormal(3, 1, rows)
    total = sum((Latency.of(v) for (v,) in _split(values)), Latency())
    p99, bound = total.p99()
    assert abs(p99 - np.percentile(values, 99)) <= bound + 1e-9
    if rows >= 5_000:
        assert bound <= 0.01 * p99


def test_latency_counts_zero_missing_and_huge_values():
    total = Latency.of(np.array([0.0, np.nan, 1e12, 5.0]))
    assert int(total.counts.sum()) == 3
    p99, bound = total.p99()
    assert abs(p99 - np.percentile([0.0, 1e12, 5.0], 99)) <= bound
    assert Latency().p99() == (None, None)
