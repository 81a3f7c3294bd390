import numpy as np
import pandas as pd
import pytest

from churnops.modeling import fairness

LIMITS = {"max_demographic_parity_difference": 0.1, "max_equalized_odds_difference": 0.1}


def _data():
    rows = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 4})
    y = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    proba = np.array([0.9, 0.8, 0.7, 0.1, 0.9, 0.2, 0.1, 0.1])
    return rows, y, proba


def test_rates_and_gaps_by_hand():
    rows, y, proba = _data()
    report = fairness.assess(rows, y, proba, 0.5, groups=["g"], limits=LIMITS, samples=50, seed=0)
    a, b = report["groups"]["g"]["by_value"]["a"], report["groups"]["g"]["by_value"]["b"]
    assert (a["selection_rate"], a["tpr"], a["fpr"], a["precision"]) == (0.75, 1.0, 0.5, 0.666667)
    assert (b["selection_rate"], b["tpr"], b["fpr"], b["precision"]) == (0.25, 0.5, 0.0, 1.0)
    gaps = report["groups"]["g"]
    assert gaps["demographic_parity_difference"] == 0.5
    assert gaps["equalized_odds_difference"] == 0.5  # max(TPR gap 0.5, FPR gap 0.5)
    assert gaps["flags"] == ["demographic_parity_difference", "equalized_odds_difference"]
    assert report["flagged_groups"] == ["g"]


def test_equal_groups_are_not_flagged():
    rows = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 4})
    y = np.array([1, 0, 1, 0, 1, 0, 1, 0])
    proba = np.array([0.9, 0.2, 0.8, 0.3, 0.9, 0.2, 0.8, 0.3])
    report = fairness.assess(rows, y, proba, 0.5, groups=["g"], limits=LIMITS, samples=20, seed=0)
    assert report["groups"]["g"]["flags"] == []
    assert report["flagged_groups"] == []


def test_bootstrap_intervals_bracket_the_estimate_and_are_seeded():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    proba = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)
    one = fairness.group_rates(y, proba, 0.5, samples=200, seed=3)
    two = fairness.group_rates(y, proba, 0.5, samples=200, seed=3)
    assert one == two
    for rate in fairness.RATES:
        low, high = one[f"{rate}_ci"]
        assert low <= one[rate] <= high


def test_single_class_group_has_no_auc():
    out = fairness.group_rates(
        np.array([0, 0, 0]), np.array([0.1, 0.6, 0.2]), 0.5, samples=10, seed=0
    )
    assert out["roc_auc"] is None
    assert out["tpr"] is None
    assert out["fpr"] == pytest.approx(1 / 3, abs=1e-6)


def test_rates_table_is_flat():
    rows, y, proba = _data()
    report = fairness.assess(rows, y, proba, 0.5, groups=["g"], limits=LIMITS, samples=10, seed=0)
    table = fairness.rates_table(report)
    assert table[["group", "value", "count"]].values.tolist() == [["g", "a", 4], ["g", "b", 4]]
    assert {"tpr_low", "tpr_high", "roc_auc"} <= set(table.columns)
