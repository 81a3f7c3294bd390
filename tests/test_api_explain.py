"""POST /predict?explain=true: every prediction carries its reason codes - the baseline plus the
contributions is the log-odds of the served probability - `top` sets how many are listed, and a
model that cannot be explained gets a 422 that says why, before anything is scored or logged."""

from __future__ import annotations

import json
import math
import shutil

import joblib
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

from churnops.files import file_digest
from tests.test_api import _client, started  # noqa: F401  (the fixture)


def test_each_prediction_explains_its_log_odds(started, model_files):  # noqa: F811
    folder, record = model_files
    client = started(_client(folder))
    batch = [record, {**record, "Contract": "Two year", "tenure": 60}]
    answer = client.post("/predict?explain=true&top=3", json=batch)
    assert answer.status_code == 200, answer.text
    for prediction in answer.json()["predictions"]:
        explanation = prediction["explanation"]
        p = prediction["probability"]
        assert explanation["log_odds"] == pytest.approx(math.log(p / (1 - p)), abs=1e-5)
        listed = sum(c["contribution"] for c in explanation["contributions"])
        total = explanation["baseline"] + listed + explanation["others"]
        assert total == pytest.approx(explanation["log_odds"], abs=1e-9)
        assert len(explanation["contributions"]) == 3
        assert explanation["method"].startswith("exact")
    plain = client.post("/predict", json=record).json()["predictions"][0]
    assert plain.get("explanation") is None
    refused = client.post("/predict?explain=true&top=0", json=record)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == "top"


def test_a_model_that_cannot_be_explained_gets_a_clear_422(started, model_files, tmp_path):  # noqa: F811
    folder, record = model_files
    older = tmp_path / "older"  # a model trained before explanations existed: no baseline
    shutil.copytree(folder, older)
    meta = json.loads((older / "meta.json").read_text())
    del meta["encoded_mean"]
    (older / "meta.json").write_text(json.dumps(meta))
    client = started(_client(older, log_path=tmp_path / "log.sqlite"))
    answer = client.post("/predict?explain=true", json=record)
    assert answer.status_code == 422
    assert "no encoded_mean" in answer.json()["detail"]
    assert "dvc repro train" in answer.json()["detail"]
    assert client.post("/predict", json=record).status_code == 200


def test_a_forest_is_explained_by_shap_and_says_so(started, model_files, tmp_path):  # noqa: F811
    folder, record = model_files
    forest_folder = tmp_path / "forest"
    shutil.copytree(folder, forest_folder)
    pipeline = joblib.load(forest_folder / "model.joblib")
    features = pipeline.named_steps["features"]
    frame = pd.DataFrame([record] * 20).drop(columns="customerID")
    frame.loc[10:, "tenure"] = 60.0
    labels = [0, 1] * 10
    pipeline.set_params(model=RandomForestClassifier(n_estimators=3, random_state=0))
    pipeline.named_steps["model"].fit(features.transform(frame), labels)
    joblib.dump(pipeline, forest_folder / "model.joblib")
    meta = json.loads((forest_folder / "meta.json").read_text())
    meta["model_sha256"] = file_digest(forest_folder / "model.joblib")
    (forest_folder / "meta.json").write_text(json.dumps(meta))
    shutil.rmtree(forest_folder / "compiled")
    client = started(_client(forest_folder, engine="sklearn", log_path=tmp_path / "log.sqlite"))
    answer = client.post("/predict?explain=true&top=2", json=record)
    assert answer.status_code == 200, answer.text
    (prediction,) = answer.json()["predictions"]
    explanation = prediction["explanation"]
    assert "SHAP KernelExplainer" in explanation["method"]
    p = min(max(prediction["probability"], 1e-12), 1 - 1e-12)
    shown = sum(c["contribution"] for c in explanation["contributions"])
    total = explanation["baseline"] + shown + explanation["others"]
    assert total == pytest.approx(math.log(p / (1 - p)), abs=1e-6)
