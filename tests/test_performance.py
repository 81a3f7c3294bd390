"""Performance at the served threshold: the Wilson bound by hand."""

from __future__ import annotations

import pytest

from churnops.monitoring import performance


def test_wilson_upper_bound():
    assert performance.wilson_upper(80, 100, 0.95) == pytest.approx(0.86663, abs=1e-4)  # by hand
    assert performance.wilson_upper(0, 0, 0.95) == 1.0


def test_figures_from_confusion_counts_are_scikit_learns():
    import numpy as np
    from sklearn import metrics

    rng = np.random.default_rng(2)
    y, proba = rng.integers(0, 2, 997), rng.random(997)
    got = performance.performance(
        y, proba, threshold=0.4, reference={"accuracy": 0.7}, confidence=0.95
    )
    decided = (proba >= 0.4).astype(int)
    assert got["accuracy"] == round(metrics.accuracy_score(y, decided), 6)
    assert got["precision"] == round(metrics.precision_score(y, decided), 6)
    assert got["recall"] == round(metrics.recall_score(y, decided), 6)
    assert got["roc_auc"] == round(metrics.roc_auc_score(y, proba), 6)
    none = performance.Confusion.of(np.zeros(3, int), np.zeros(3), 0.5)
    assert none == performance.Confusion(tp=0, fp=0, tn=3, fn=0)
