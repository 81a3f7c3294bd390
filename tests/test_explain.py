"""Reason codes: for every model the baseline plus the contributions is the model's own log-odds
(within 1e-9 for the linear model, 1e-6 for SHAP's), contributions are named by input column and
value, the largest come first, the answer names its method, the same request always gets the same
answer, and without SHAP a non-linear model is refused with its type named."""

from __future__ import annotations

import json
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

from churnops.modeling import model_meta
from churnops.serving import explain


def _records(telco, schema, n=60):
    rows = telco.head(n)
    out = []
    for _, row in rows.iterrows():
        record = {}
        for name, info in schema["features"].items():
            value = row[name]
            if info["kind"] == "numeric":
                value = pd.to_numeric(value, errors="coerce")
                value = None if pd.isna(value) else float(value)
            record[name] = value
        out.append(record)
    return out


def test_contributions_add_up_to_the_models_log_odds(model_files, telco):
    folder, _ = model_files
    pipeline = joblib.load(folder / "model.joblib")
    meta = json.loads((folder / "meta.json").read_text())
    schema = json.loads((folder / "schema.json").read_text())
    records = _records(telco, schema)
    explained = explain.explainer(pipeline, meta).explain(records, top=5)
    frame = pd.DataFrame(records)
    p = pipeline.predict_proba(frame)[:, 1]
    log_odds = np.log(p / (1 - p))
    for answer, expected in zip(explained, log_odds, strict=True):
        assert answer["log_odds"] == pytest.approx(expected, abs=1e-9)
        shown = sum(c["contribution"] for c in answer["contributions"])
        assert answer["baseline"] + shown + answer["others"] == pytest.approx(expected, abs=1e-9)
        sizes = [abs(c["contribution"]) for c in answer["contributions"]]
        assert sizes == sorted(sizes, reverse=True)
        assert len(sizes) == 5
    inputs = {c["input"] for a in explained for c in a["contributions"]}
    features = set(schema["features"])
    assert all(set(name.split(" & ")) <= features for name in inputs), inputs
    contract = next(c for a in explained for c in a["contributions"] if c["input"] == "Contract")
    assert contract["value"] in schema["features"]["Contract"]["categories"]


def test_every_input_is_accounted_for_when_all_are_shown(model_files, telco):
    folder, _ = model_files
    pipeline = joblib.load(folder / "model.joblib")
    meta = json.loads((folder / "meta.json").read_text())
    schema = json.loads((folder / "schema.json").read_text())
    (answer,) = explain.explainer(pipeline, meta).explain(_records(telco, schema, 1), top=1000)
    assert answer["others"] == 0
    covered = {c for item in answer["contributions"] for c in item["input"].split(" & ")}
    assert covered == set(schema["features"])


@pytest.mark.parametrize(
    ("estimator", "method"),
    [
        (HistGradientBoostingClassifier(max_iter=40, max_depth=3, random_state=0), "TreeExplainer"),
        (RandomForestClassifier(n_estimators=25, min_samples_leaf=5, random_state=0), "Kernel"),
    ],
    ids=["boosting", "forest"],
)
def test_other_models_are_explained_by_shap_naming_the_method(
    model_files, telco, estimator, method
):
    folder, _ = model_files
    schema = json.loads((folder / "schema.json").read_text())
    records = _records(telco, schema, 500)
    frame = pd.DataFrame(records)
    pipeline = joblib.load(folder / "model.joblib").set_params(model=estimator)
    pipeline.fit(frame, (telco["Churn"].head(500) == "Yes").astype(int))
    meta = {"encoded_mean": model_meta.encoded_mean(pipeline, frame), "seed": 7}
    explained = explain.explainer(pipeline, meta).explain(records[:4], top=3)
    p = np.clip(pipeline.predict_proba(frame.head(4))[:, 1], 1e-12, 1 - 1e-12)
    for answer, expected in zip(explained, np.log(p / (1 - p)), strict=True):
        assert method in answer["method"]
        shown = sum(c["contribution"] for c in answer["contributions"])
        assert answer["baseline"] + shown + answer["others"] == pytest.approx(expected, abs=1e-6)
        assert len(answer["contributions"]) == 3
        named = {col for c in answer["contributions"] for col in c["input"].split(" & ")}
        assert named <= set(schema["features"])
    assert explain.explainer(pipeline, meta).explain(records[:4], top=3) == explained


def test_without_shap_a_model_that_is_not_linear_is_refused_by_name(model_files, monkeypatch):
    folder, _ = model_files
    pipeline = joblib.load(folder / "model.joblib")
    meta = json.loads((folder / "meta.json").read_text())
    forest = pipeline.set_params(model=RandomForestClassifier(n_estimators=3))
    forest.named_steps["model"].classes_ = np.array([0, 1])
    monkeypatch.setitem(sys.modules, "shap", None)  # as if not installed: import fails
    with pytest.raises(explain.NoExplanation, match=r"explaining a RandomForestClassifier needs"):
        explain.explainer(forest, meta)
    with pytest.raises(explain.NoExplanation, match="no encoded_mean"):
        explain.explainer(joblib.load(folder / "model.joblib"), {})
