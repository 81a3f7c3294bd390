"""The compiled (ONNX Runtime) fast path against the scikit-learn pipeline it came from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from churnops.config import load_params
from churnops.modeling.features import build_featurizer
from churnops.modeling.train import build_estimator
from churnops.serving import compile_check, compiled
from tests.conftest import TEST_PARAMS

COLUMNS = {"months": "numeric", "bill": "numeric", "plan": "categorical", "tv": "categorical"}
SETTINGS = {
    "numeric_impute": "median",
    "categorical_fill": "missing",
    "scale": "standard",
    "polynomial_degree": 1,
    "recipes": [
        {"name": "bill_bin", "kind": "bin", "column": "bill", "edges": [20, 60]},
        {"name": "per_month", "kind": "ratio", "numerator": "bill", "denominator": "months"},
        {"name": "bill_vs_plan", "kind": "group_relative", "column": "bill", "group": "plan"},
        {"name": "has_tv", "kind": "count_equal", "columns": ["tv"], "value": "Yes"},
    ],
}


def _rows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "months": rng.integers(0, 72, n).astype(float),
            "bill": rng.uniform(10, 120, n),
            "plan": rng.choice(np.array(["a", "b", "c"], dtype=object), n),
            "tv": rng.choice(np.array(["Yes", "No"], dtype=object), n),
        }
    )
    for column in frame:
        frame.loc[rng.random(n) < 0.1, column] = None if frame[column].dtype == object else np.nan
    return frame


def _fitted(estimator) -> tuple[Pipeline, pd.DataFrame]:
    rows = _rows(600, 0)
    y = ((rows["bill"].fillna(50) > 70) ^ (rows["plan"] == "c")).astype(int).to_numpy()
    pipeline = Pipeline(
        [("features", build_featurizer(COLUMNS, SETTINGS)), ("model", estimator)]
    ).fit(rows, y)
    return pipeline, _rows(500, 1)


def test_logistic_regression_compiles_with_parity_on_both_paths():
    pipeline, rows = _fitted(LogisticRegression(max_iter=1000))
    onnx_bytes, report = compile_check.compile_pipeline(pipeline, rows, tolerance=1e-5)
    assert report["compiled"], report
    assert onnx_bytes
    assert report["rows"] == 500
    assert report["max_abs_diff_batch"] <= 1e-5
    assert report["max_abs_diff_request"] <= 1e-5
    model = compiled.CompiledModel(onnx_bytes, pipeline)
    expected = pipeline.predict_proba(rows)[:, 1]
    np.testing.assert_allclose(model.predict_frame(rows), expected, atol=1e-5)
    # a row whose every value is missing goes through both paths too
    empty = {c: None for c in COLUMNS}
    got = model.predict_records([empty])
    want = pipeline.predict_proba(pd.DataFrame([empty], columns=list(COLUMNS)))[:, 1]
    np.testing.assert_allclose(got, want, atol=1e-5)


# k nearest neighbours is left on scikit-learn: ONNX Runtime computes distances in float32, so
# ties among neighbours break differently and probabilities differ by a neighbour's share
_COMPILED_CANDIDATE_TYPES = ["logistic_regression", "svm", "random_forest"]
_COMPILED_CANDIDATE_TYPES += ["hist_gradient_boosting", "soft_voting"]


@pytest.mark.parametrize("kind", _COMPILED_CANDIDATE_TYPES)
def test_every_candidate_type_but_knn_compiles_with_parity(kind):
    candidates = load_params(TEST_PARAMS)["train"]["candidates"]
    name = next(n for n, c in candidates.items() if c["type"] == kind)
    pipeline, rows = _fitted(build_estimator(name, candidates, seed=0))
    _, report = compile_check.compile_pipeline(pipeline, rows, tolerance=1e-5)
    assert report["compiled"], report
    assert report["max_abs_diff_batch"] <= 1e-5
    assert report["max_abs_diff_request"] <= 1e-5


def test_conversion_is_byte_for_byte_repeatable():
    pipeline, _ = _fitted(LogisticRegression(max_iter=1000))
    assert compiled.to_onnx(pipeline) == compiled.to_onnx(pipeline)


def test_parity_above_tolerance_is_not_compiled_and_says_why():
    # float32 split thresholds make a forest differ from scikit-learn's float64 comparisons
    pipeline, rows = _fitted(RandomForestClassifier(n_estimators=30, random_state=0))
    onnx_bytes, report = compile_check.compile_pipeline(pipeline, rows, tolerance=0.0)
    assert onnx_bytes is None
    assert not report["compiled"]
    assert "above the tolerance 0" in report["reason"]


class _Majority(ClassifierMixin, BaseEstimator):
    """An estimator skl2onnx has no converter for."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.tile([0.5, 0.5], (len(X), 1))


def test_unconvertible_estimator_is_not_compiled_and_says_why():
    pipeline, rows = _fitted(_Majority())
    onnx_bytes, report = compile_check.compile_pipeline(pipeline, rows, tolerance=1e-5)
    assert onnx_bytes is None
    assert report["reason"].startswith("skl2onnx cannot convert _Majority")


def test_unexpected_pipeline_shape_is_a_compile_error():
    with pytest.raises(compiled.CompileError, match="expected Pipeline"):
        compiled.layout(Pipeline([("model", LogisticRegression())]))


def test_manifest_records_the_source_model_and_the_onnx_digest():
    pipeline, rows = _fitted(LogisticRegression(max_iter=1000))
    onnx_bytes, report = compile_check.compile_pipeline(pipeline, rows, tolerance=1e-5)
    made = compile_check.manifest(onnx_bytes, report, source_model_sha256="abc")
    assert made["source_model_sha256"] == "abc"
    assert made["onnx_file"] == "model.onnx"
    assert len(made["onnx_sha256"]) == 64
    assert (
        compile_check.manifest(None, {"compiled": False}, source_model_sha256="abc")["onnx_sha256"]
        is None
    )


@pytest.mark.parametrize(
    "change", [{"polynomial_degree": 2}, {"scale": "minmax"}, {"scale": "none"}]
)
def test_every_encoder_setting_compiles_with_parity(change):
    rows = _rows(600, 0)
    y = ((rows["bill"].fillna(50) > 70) ^ (rows["plan"] == "c")).astype(int).to_numpy()
    pipeline = Pipeline(
        [
            ("features", build_featurizer(COLUMNS, {**SETTINGS, **change})),
            ("model", LogisticRegression(max_iter=2000)),
        ]
    ).fit(rows, y)
    onnx_bytes, report = compile_check.compile_pipeline(pipeline, _rows(300, 2), tolerance=1e-5)
    assert report["compiled"], report
    assert onnx_bytes
