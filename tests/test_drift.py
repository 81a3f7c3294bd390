import numpy as np
import pandas as pd
import pytest

from churnops.monitoring import drift

MIN_EFFECT = {"numeric": 0.1, "categorical": 0.1}


def _frames(shift=0.0, n=2000, seed=0):
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(["a", "b", "c"], n)})
    cur = pd.DataFrame({"x": rng.normal(loc=shift, size=n), "c": rng.choice(["a", "b", "c"], n)})
    return ref, cur


def test_numeric_drift_effect_is_normalised_wasserstein():
    ref, cur = _frames(shift=0.5)
    out = drift.numeric_drift(ref["x"].to_numpy(), cur["x"].to_numpy())
    assert out["p_value"] < 1e-10
    assert out["effect_size"] == pytest.approx(0.5, abs=0.08)


def test_numeric_drift_ignores_missing_and_handles_tiny_samples():
    out = drift.numeric_drift(np.array([1.0, 2.0, np.nan, 3.0]), np.array([np.nan, 2.0, 3.0]))
    assert out["p_value"] is not None
    assert drift.numeric_drift(np.array([1.0]), np.array([1.0, 2.0]))["p_value"] is None


def test_categorical_drift_counts_new_and_missing_categories():
    ref = pd.Series(["a"] * 50 + ["b"] * 50)
    same = drift.categorical_drift(ref, pd.Series(["a"] * 50 + ["b"] * 50))
    assert same["effect_size"] == pytest.approx(0.0)
    assert same["p_value"] == pytest.approx(1.0)
    new = drift.categorical_drift(
        ref, pd.Series(["a"] * 40 + ["b"] * 40 + ["z"] * 10 + [None] * 10)
    )
    assert new["p_value"] < 1e-3
    assert new["effect_size"] > 0.2


def test_benjamini_hochberg_matches_the_definition():
    adjusted = drift.benjamini_hochberg({"a": 0.01, "b": 0.04, "c": 0.03, "d": None})
    # sorted 0.01, 0.03, 0.04 -> 0.01*3/1, min(0.03*3/2, 0.04*3/3) ...
    assert adjusted["a"] == pytest.approx(0.03)
    assert adjusted["c"] == pytest.approx(0.04)
    assert adjusted["b"] == pytest.approx(0.04)
    assert adjusted["d"] is None


def test_no_shift_no_drift_and_big_shift_drifts():
    ref, cur = _frames(shift=0.0)
    calm = drift.column_drift(
        ref, cur, {"x": "numeric", "c": "categorical"}, alpha=0.05, min_effect=MIN_EFFECT
    )
    assert not calm["x"]["drifted"]
    assert not calm["c"]["drifted"]
    ref, cur = _frames(shift=1.0)
    moved = drift.column_drift(
        ref, cur, {"x": "numeric", "c": "categorical"}, alpha=0.05, min_effect=MIN_EFFECT
    )
    assert moved["x"]["drifted"]
    assert drift.dataset_verdict(moved, 0.0)["drifted_columns"] == ["x"]


def test_large_batches_decide_on_effect_size():
    # 200k rows: a 0.03-sd shift is "significant" but too small to call drift
    ref, cur = _frames(shift=0.03, n=200_000)
    out = drift.column_drift(ref, cur, {"x": "numeric"}, alpha=0.05, min_effect=MIN_EFFECT)["x"]
    assert out["p_value_adjusted"] < 0.05
    assert not out["drifted"]


def test_dataset_verdict_share_and_worst():
    columns = {
        "a": {"drifted": True, "effect_size": 0.4},
        "b": {"drifted": False, "effect_size": 0.05},
        "c": {"drifted": False, "effect_size": None},
    }
    verdict = drift.dataset_verdict(columns, 0.5)
    assert verdict == {
        "drifted": False,
        "drift_share": 0.333333,
        "drifted_columns": ["a"],
        "worst_effect_size": 0.4,
        "worst_column": "a",
    }
    assert drift.dataset_verdict(columns, 0.0)["drifted"]
