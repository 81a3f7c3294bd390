import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from churnops.modeling import importance, train
from churnops.modeling.features import build_featurizer

COLUMNS = {"months": "numeric", "plan": "categorical", "noise": "numeric"}
SETTINGS = {
    "numeric_impute": "median",
    "categorical_fill": "missing",
    "scale": "standard",
    "polynomial_degree": 1,
    "recipes": [{"kind": "log", "name": "log_months", "column": "months"}],
}


def _data(n=400):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "months": rng.integers(0, 60, n).astype(float),
            "plan": rng.choice(["a", "b", "c"], n),
            "noise": rng.normal(size=n),
        }
    )
    logit = 2.0 * (X["plan"] == "a") - 0.05 * X["months"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int).to_numpy()
    return X, y


def _fit(estimator):
    X, y = _data()
    model = train.make_pipeline(build_featurizer(COLUMNS, SETTINGS), estimator)
    return model.fit(X, y), X, y


def test_feature_sources_group_onehot_columns():
    model, _, _ = _fit(LogisticRegression())
    sources = importance.feature_sources(model.named_steps["features"])
    assert sources["cat__plan_a"] == sources["cat__plan_c"] == "plan"
    assert sources["num__months"] == "months"
    assert sources["num__log_months"] == "log_months"


@pytest.mark.parametrize(
    ("estimator", "kind"),
    [
        (LogisticRegression(), "abs_coefficient"),
        (RandomForestClassifier(n_estimators=20, random_state=0), "importance"),
    ],
)
def test_model_weights_are_summed_per_source(estimator, kind):
    model, _, _ = _fit(estimator)
    weights = importance.model_weights(model)
    assert set(weights["feature"]) == {"months", "log_months", "plan", "noise"}
    assert (weights["kind"] == kind).all()
    featurizer = model.named_steps["features"]
    names = featurizer.get_feature_names_out()
    raw = (
        np.abs(model.named_steps["model"].coef_.ravel())
        if kind == "abs_coefficient"
        else model.named_steps["model"].feature_importances_
    )
    plan_total = sum(w for n, w in zip(names, raw, strict=True) if n.startswith("cat__plan_"))
    assert weights.set_index("feature").loc["plan", "weight"] == pytest.approx(plan_total, abs=1e-6)


def test_model_weights_absent_for_knn():
    model, _, _ = _fit(KNeighborsClassifier())
    assert importance.model_weights(model) is None


def test_permutation_importance_is_per_raw_column_and_finds_the_signal():
    model, X, y = _fit(LogisticRegression())
    table = importance.permutation_table(
        model, X, y, scoring="roc_auc", repeats=3, seed=0, n_jobs=1
    )
    assert sorted(table["feature"]) == ["months", "noise", "plan"]
    assert table["feature"].iloc[-1] == "noise"
    assert table.set_index("feature").loc["plan", "importance"] > 0.05
