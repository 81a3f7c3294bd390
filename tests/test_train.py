import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression

from churnops.modeling import train
from churnops.params import ParamsError

CANDIDATES = {
    "lr": {
        "type": "logistic_regression",
        "complexity": 1,
        "params": {"C": 1.0},
        "grid": {"C": [0.1, 1.0]},
    },
    "svm": {
        "type": "svm",
        "complexity": 3,
        "inner_folds": 4,
        "params": {"C": 1.0},
        "grid": {"C": [0.5]},
    },
    "hgb": {
        "type": "hist_gradient_boosting",
        "complexity": 5,
        "params": {"max_iter": 20},
        "grid": {},
    },
    "vote": {
        "type": "soft_voting",
        "complexity": 6,
        "members": ["lr", "hgb"],
        "params": {},
        "grid": {"weights": [[1, 1], [1, 2]]},
    },
    "stack": {
        "type": "stacking",
        "complexity": 7,
        "inner_folds": 6,
        "members": ["lr", "hgb"],
        "params": {},
        "grid": {},
    },
}


def _results(means_and_ses):
    return {n: {"mean": m, "se": se} for n, (m, se) in means_and_ses.items()}


@pytest.mark.parametrize(
    ("table", "rule", "chosen", "best"),
    [
        # best 0.851 ± 0.006: bar 0.845; simplest above it is lr
        (
            {"lr": (0.850, 0.006), "knn": (0.834, 0.006), "vote": (0.851, 0.006)},
            "one_standard_error",
            "lr",
            "vote",
        ),
        # lr falls below the bar: the next simplest eligible wins
        (
            {"lr": (0.840, 0.006), "rf": (0.848, 0.005), "vote": (0.851, 0.002)},
            "one_standard_error",
            "vote",
            "vote",
        ),
        ({"lr": (0.850, 0.006), "vote": (0.851, 0.006)}, "best", "vote", "vote"),
        # the bar is inclusive
        ({"lr": (0.5, 0.25), "vote": (0.75, 0.25)}, "one_standard_error", "lr", "vote"),
    ],
)
def test_select(table, rule, chosen, best):
    complexity = {"lr": 1, "knn": 2, "rf": 4, "vote": 6}
    picked = train.select(_results(table), complexity, rule)
    assert (picked["chosen"], picked["best"], picked["rule"]) == (chosen, best, rule)


def test_select_ties_on_complexity_prefer_higher_mean():
    picked = train.select(
        _results({"a": (0.80, 0.05), "b": (0.82, 0.05), "c": (0.83, 0.01)}),
        {"a": 1, "b": 1, "c": 2},
        "one_standard_error",
    )
    assert picked["chosen"] == "b"
    assert picked["eligible"] == ["b", "c"]


def test_select_rejects_unknown_rule():
    with pytest.raises(ParamsError, match=r"train\.selection must be one of .* got 'vote'"):
        train.select(_results({"a": (0.8, 0.1)}), {"a": 1}, "vote")


def test_build_each_estimator_type_with_the_seed():
    built = {n: train.build_estimator(n, CANDIDATES, seed=7) for n in CANDIDATES}
    assert isinstance(built["lr"], LogisticRegression)
    assert built["lr"].random_state == 7
    assert isinstance(built["svm"], CalibratedClassifierCV)
    assert built["svm"].estimator.random_state == 7
    assert built["svm"].cv.n_splits == 4  # inner_folds: the calibration's folds
    assert built["hgb"].random_state == 7
    assert isinstance(built["vote"], VotingClassifier)
    assert built["vote"].voting == "soft"
    assert [n for n, _ in built["vote"].estimators] == ["lr", "hgb"]
    assert isinstance(built["stack"], StackingClassifier)
    assert built["stack"].cv.n_splits == 6


def test_inner_folds_are_required_where_an_estimator_fits_folds_itself():
    bad = {"svm": {k: v for k, v in CANDIDATES["svm"].items() if k != "inner_folds"}}
    with pytest.raises(ParamsError, match=r"train\.candidates\.svm\.inner_folds must be"):
        train.check_candidates(bad)


def test_grid_keys_address_the_pipeline_step():
    assert train.grid_for("lr", CANDIDATES) == {"model__C": [0.1, 1.0]}
    assert train.grid_for("svm", CANDIDATES) == {"model__estimator__C": [0.5]}
    assert train.grid_for("vote", CANDIDATES) == {"model__weights": [[1, 1], [1, 2]]}


def test_bad_estimator_params_name_the_candidate():
    bad = {"lr": {**CANDIDATES["lr"], "params": {"Cee": 1}}}
    with pytest.raises(ParamsError, match=r"train\.candidates\.lr\.params: .*Cee"):
        train.build_estimator("lr", bad, seed=0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lr": {"type": "xgboost", "complexity": 1}}, r"lr\.type must be one of .* got 'xgboost'"),
        ({"lr": {"type": "knn"}}, r"lr\.complexity must be a number"),
        (
            {"lr": {"type": "knn", "complexity": 1, "grid": {"n_neighbors": 5}}},
            r"grid\.n_neighbors must be a non-empty list",
        ),
        ({"vote": {**CANDIDATES["vote"], "members": ["lr"]}}, r"members must list at least two"),
        ({"vote": {**CANDIDATES["vote"], "members": ["lr", "ghost"]}}, r"names 'ghost'"),
    ],
)
def test_check_candidates(change, message):
    with pytest.raises(ParamsError, match=message):
        train.check_candidates({**CANDIDATES, **change})


def test_settings_to_try():
    grid = {"a": [1, 2, 3], "b": [0, 1]}
    assert len(train.settings_to_try(grid, search="grid", n_iter=2, seed=0)) == 6
    sampled = train.settings_to_try(grid, search="random", n_iter=2, seed=0)
    assert len(sampled) == 2
    assert sampled == train.settings_to_try(grid, search="random", n_iter=2, seed=0)
    assert train.settings_to_try({}, search="grid", n_iter=1, seed=0) == [{}]
    with pytest.raises(ParamsError, match=r"train\.search must be 'grid' or 'random', got 'bayes'"):
        train.settings_to_try(grid, search="bayes", n_iter=1, seed=0)


@pytest.mark.parametrize("value", [1, 0, "5", True])
def test_folds_reject_bad_counts(value):
    with pytest.raises(ParamsError, match=r"train\.cv_folds must be an integer >= 2"):
        train.folds(value, seed=0)


def test_check_scoring():
    assert train.check_scoring("roc_auc") == "roc_auc"
    with pytest.raises(ParamsError, match="got 'auroc'"):
        train.check_scoring("auroc")


def test_compare_and_tune_on_a_toy_problem():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=200), "noise": rng.normal(size=200)})
    y = (X["x"] + rng.normal(scale=0.5, size=200) > 0).astype(int).to_numpy()
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    featurizer = Pipeline([("scale", StandardScaler())])
    pipelines = {
        n: train.make_pipeline(featurizer, train.build_estimator(n, CANDIDATES, 0))
        for n in ("lr", "hgb")
    }
    cv = train.folds(4, seed=0)
    results = train.compare(pipelines, X, y, cv=cv, scoring="roc_auc", n_jobs=1)
    assert results["lr"]["mean"] > 0.85
    assert len(results["lr"]["scores"]) == 4
    assert results["lr"]["se"] == pytest.approx(np.std(results["lr"]["scores"], ddof=1) / 2)
    settings = train.settings_to_try(
        train.grid_for("lr", CANDIDATES), search="grid", n_iter=1, seed=0
    )
    best, tried = train.tune(pipelines["lr"], settings, X, y, cv=cv, scoring="roc_auc", n_jobs=1)
    assert len(tried) == 2
    assert best["mean"] == max(t["mean"] for t in tried)
