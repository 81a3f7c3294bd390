import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from churnops.modeling import diagnose
from churnops.params import ParamsError

RULES = {"high_variance_gap": 0.1, "high_bias_below": 0.7}


@pytest.mark.parametrize(
    ("train", "validation", "expected"),
    [
        (0.99, 0.80, "high variance"),
        (0.91, 0.80, "high variance"),
        (0.90, 0.80, "balanced"),  # gap exactly 0.1 is not above it
        (0.65, 0.60, "high bias"),
        (0.72, 0.65, "balanced"),  # only one score below 0.7
        (0.86, 0.85, "balanced"),
    ],
)
def test_verdict_rules(train, validation, expected):
    assert diagnose.verdict(train, validation, RULES) == expected


def _toy(n=300):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = (X["a"] + rng.normal(scale=0.7, size=n) > 0).astype(int).to_numpy()
    return X, y


def test_learning_points_and_summary():
    X, y = _toy()
    points = diagnose.learning_points(
        LogisticRegression(), X, y, sizes=[0.3, 1.0], folds=3, scoring="roc_auc", seed=0, n_jobs=1
    )
    assert points["train_size"].tolist() == [60, 200]
    out = diagnose.summary(points, RULES)
    assert out["verdict"] == "balanced"
    assert out["train_size"] == 200


def test_cv_strategies_both_reported():
    X, y = _toy()
    out = diagnose.compare_cv_strategies(
        LogisticRegression(), X, y, folds=3, scoring="roc_auc", seed=0, n_jobs=1
    )
    assert set(out) == {"KFold", "StratifiedKFold"}
    assert out["KFold"]["mean"] > 0.8


def test_calibration_points_of_a_calibrated_score():
    rng = np.random.default_rng(1)
    proba = rng.random(5000)
    y = (rng.random(5000) < proba).astype(int)
    points, brier = diagnose.calibration_points(y, proba, 5)
    np.testing.assert_allclose(points["mean_predicted"], points["fraction_positive"], atol=0.05)
    assert brier == pytest.approx(1 / 6, abs=0.01)


@pytest.mark.parametrize("sizes", [[0.5, 0.2], [0, 1.0], [1.5], [], "0.5"])
def test_train_sizes_validation(sizes):
    with pytest.raises(ParamsError, match="train_sizes must be increasing fractions"):
        diagnose.check_train_sizes(sizes)
