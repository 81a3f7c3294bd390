"""Model diagnostics on the training split: learning curve with the bias/variance verdict,
KFold vs StratifiedKFold, and the calibration of predicted probabilities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score, learning_curve

from churnops.params import ParamsError

_DIGITS = 6


def check_train_sizes(sizes: Sequence[float]) -> list[float]:
    """Fractions of the training split for the learning curve: increasing, in (0, 1]."""
    if (
        not isinstance(sizes, list)
        or not sizes
        or any(
            isinstance(s, bool) or not isinstance(s, int | float) or not 0 < s <= 1 for s in sizes
        )
        or sorted(set(sizes)) != list(sizes)
    ):
        raise ParamsError(
            f"evaluate.learning_curve.train_sizes must be increasing fractions in (0, 1], "
            f"got {sizes!r}"
        )
    return [float(s) for s in sizes]


def learning_points(
    model: BaseEstimator,
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    sizes: Sequence[float],
    folds: int,
    scoring: str,
    seed: int,
    n_jobs: int,
) -> pd.DataFrame:
    """Mean and std of training and validation scores at each training-set size."""
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    n, train_scores, val_scores = learning_curve(
        clone(model),
        X,
        y,
        train_sizes=list(sizes),
        cv=cv,
        scoring=scoring,
        n_jobs=n_jobs,
        shuffle=True,
        random_state=seed,
    )
    return pd.DataFrame(
        {
            "train_size": n,
            "train_score": np.round(train_scores.mean(axis=1), _DIGITS),
            "train_std": np.round(train_scores.std(axis=1), _DIGITS),
            "validation_score": np.round(val_scores.mean(axis=1), _DIGITS),
            "validation_std": np.round(val_scores.std(axis=1), _DIGITS),
        }
    )


def verdict(train_score: float, validation_score: float, rules: Mapping[str, float]) -> str:
    """The guide's bias/variance verdict at the largest training size.

    high variance: train − validation > rules["high_variance_gap"];
    high bias: both scores below rules["high_bias_below"]; otherwise balanced.
    """
    if train_score - validation_score > rules["high_variance_gap"]:
        return "high variance"
    if train_score < rules["high_bias_below"] and validation_score < rules["high_bias_below"]:
        return "high bias"
    return "balanced"


def compare_cv_strategies(
    model: BaseEstimator,
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    folds: int,
    scoring: str,
    seed: int,
    n_jobs: int,
) -> dict[str, dict[str, float]]:
    """The same model scored with shuffled KFold and StratifiedKFold on the same data."""
    strategies = {
        "KFold": KFold(n_splits=folds, shuffle=True, random_state=seed),
        "StratifiedKFold": StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed),
    }
    out = {}
    for name, cv in strategies.items():
        scores = cross_val_score(clone(model), X, y, cv=cv, scoring=scoring, n_jobs=n_jobs)
        out[name] = {
            "mean": round(float(scores.mean()), _DIGITS),
            "std": round(float(scores.std()), _DIGITS),
        }
    return out


def calibration_points(y: np.ndarray, proba: np.ndarray, bins: int) -> tuple[pd.DataFrame, float]:
    """Reliability-curve points (quantile bins) and the Brier score."""
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
        raise ParamsError(f"evaluate.calibration_bins must be an integer >= 2, got {bins!r}")
    observed, predicted = calibration_curve(y, proba, n_bins=bins, strategy="quantile")
    points = pd.DataFrame(
        {
            "mean_predicted": np.round(predicted, _DIGITS),
            "fraction_positive": np.round(observed, _DIGITS),
        }
    )
    return points, round(float(brier_score_loss(y, proba)), _DIGITS)


def summary(points: pd.DataFrame, rules: Mapping[str, float]) -> dict[str, Any]:
    """The learning curve's last point and its verdict."""
    last = points.iloc[-1]
    return {
        "train_size": int(last["train_size"]),
        "train_score": float(last["train_score"]),
        "validation_score": float(last["validation_score"]),
        "gap": round(float(last["train_score"] - last["validation_score"]), _DIGITS),
        "verdict": verdict(float(last["train_score"]), float(last["validation_score"]), rules),
        "rules": dict(rules),
    }
