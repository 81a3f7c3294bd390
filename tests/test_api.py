"""The prediction service: endpoints, the malformed-request corpus, a tampered model refused.

Uses a model trained here on a small Telco sample (not the project's outputs), written with its
metadata and schema the way the pipeline writes them."""

from __future__ import annotations

import json
import shutil

import pytest
from fastapi.testclient import TestClient

from churnops.api.app import Settings, create_app


def _client(folder, **changes) -> TestClient:
    settings = Settings(
        **{
            "model_path": folder / "model.joblib",
            "meta_path": folder / "meta.json",
            "schema_path": folder / "schema.json",
            "compiled_path": folder / "compiled",
            "log_path": folder / "predictions.sqlite",
            **changes,
        }
    )
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def client(model_files):
    return _client(model_files[0], max_batch=5, max_body_bytes=50_000)


def test_health_ready_model(client):
    assert client.get("/health").json() == {"status": "alive"}
    assert client.get("/ready").json()["status"] == "ready"
    described = client.get("/model").json()
    assert described["decision_threshold"] == {"value": 0.33}
    assert "tenure" in described["input_schema"]


def test_predict_one_and_many(client, model_files):
    _, record = model_files
    one = client.post("/predict", json=record)
    assert one.status_code == 200
    body = one.json()
    assert body["threshold"] == 0.33
    (prediction,) = body["predictions"]
    assert 0 < prediction["probability"] < 1
    assert prediction["decision"] == (prediction["probability"] >= 0.33)
    assert prediction["customer_id"] == "c-1"
    many = client.post("/predict", json=[record, {**record, "Contract": "Two year"}])
    assert [p["customer_id"] for p in many.json()["predictions"]] == ["c-1", "c-1"]


def test_openapi_has_the_generated_fields(client):
    spec = client.get("/openapi.json").json()
    assert "tenure" in json.dumps(spec["components"]["schemas"])
    assert "Month-to-month" in json.dumps(spec["components"]["schemas"])


def _raw(client, body: str, content_type="application/json"):
    return client.post("/predict", content=body, headers={"content-type": content_type})


@pytest.mark.parametrize(
    ("make", "status", "needle"),
    [
        (lambda r: _raw_json('{"tenure": '), 400, "malformed JSON"),
        (lambda r: ("text", "tenure=3"), 415, "unsupported media type"),
        (lambda r: {k: v for k, v in r.items() if k != "tenure"}, 422, '"field": "tenure"'),
        (lambda r: {**r, "shoe_size": 42}, 422, '"field": "shoe_size"'),
        (lambda r: {**r, "tenure": "long"}, 422, '"value": "long"'),
        (lambda r: {**r, "tenure": True}, 422, '"value": true'),
        (lambda r: {**r, "tenure": "5"}, 422, '"value": "5"'),
        (
            lambda r: _raw_json(
                json.dumps(r).replace('"tenure": ' + json.dumps(r["tenure"]), '"tenure": NaN')
            ),
            422,
            '"field": "tenure"',
        ),
        (
            lambda r: _raw_json(
                json.dumps(r).replace('"tenure": ' + json.dumps(r["tenure"]), '"tenure": Infinity')
            ),
            422,
            "finite",
        ),
        (lambda r: {**r, "tenure": -5}, 422, '"value": -5'),
        (lambda r: {**r, "Contract": "Lifetime"}, 422, '"value": "Lifetime"'),
        (lambda r: [], 422, "empty"),
        (lambda r: [r] * 6, 422, "exceed the limit of 5"),
        (lambda r: _raw_json("[" * 20_000 + "]" * 20_000), 400, "malformed JSON"),
        (lambda r: _raw_json(json.dumps({**r, "customer_id": "x" * 60_000})), 413, "too large"),
    ],
    ids=[
        "bad JSON",
        "wrong content type",
        "missing field",
        "extra field",
        "wrong type",
        "boolean for a number",
        "number as text",
        "NaN",
        "Infinity",
        "negative tenure",
        "unseen category",
        "empty batch",
        "too-large batch",
        "deeply nested",
        "too-large body",
    ],
)
def test_malformed_requests_get_the_right_4xx_and_the_server_stays_up(
    client, model_files, make, status, needle
):
    _, record = model_files
    made = make(dict(record))
    if isinstance(made, tuple) and made[0] == "raw":
        response = _raw(client, made[1])
    elif isinstance(made, tuple):
        response = _raw(client, made[1], "text/plain")
    else:
        response = client.post("/predict", json=made)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"}
    assert needle in json.dumps(body), body
    assert "Traceback" not in response.text
    assert client.get("/health").status_code == 200
    assert client.post("/predict", json=record).status_code == 200


def _raw_json(text: str):
    return ("raw", text)


def test_flag_policy_accepts_and_warns(model_files):
    folder, record = model_files
    client = _client(folder, policy="flag")
    response = client.post("/predict", json={**record, "Contract": "Lifetime", "tenure": 500})
    assert response.status_code == 200
    warnings = response.json()["predictions"][0]["warnings"]
    assert any("Contract='Lifetime' was not seen in training" in w for w in warnings)
    assert any("tenure=500.0 is outside the training range" in w for w in warnings)


def test_tampered_model_is_refused(model_files, tmp_path):
    folder, record = model_files
    for name in ("model.joblib", "meta.json", "schema.json"):
        shutil.copy(folder / name, tmp_path / name)
    with open(tmp_path / "model.joblib", "ab") as handle:
        handle.write(b"tampered")
    client = _client(tmp_path)
    assert client.get("/health").status_code == 200
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert "refusing to serve" in ready.json()["detail"]
    assert client.post("/predict", json=record).status_code == 503


def test_settings_from_environment(monkeypatch):
    from churnops.api.app import settings_from_env

    monkeypatch.setenv("CHURNOPS_MODEL", "/m/model.joblib")
    monkeypatch.setenv("CHURNOPS_POLICY", "flag")
    monkeypatch.setenv("CHURNOPS_MAX_BATCH", "7")
    settings = settings_from_env()
    assert str(settings.model_path) == "/m/model.joblib"
    assert (settings.policy, settings.max_batch) == ("flag", 7)
    assert str(settings.schema_path) == "data/prepared/schema.json"


def test_every_prediction_is_logged_with_its_request_id(model_files, tmp_path):
    folder, record = model_files
    client = _client(folder, log_path=tmp_path / "log.sqlite")
    assert client.get("/model").json()["engine"] == "onnx"
    answer = client.post("/predict", json=[record, {**record, "customer_id": "c-2"}]).json()
    from churnops.prediction_log import PredictionLog

    logged = PredictionLog(tmp_path / "log.sqlite").read()
    assert logged["request_id"].tolist() == [answer["request_id"]] * 2
    assert logged["customer_id"].tolist() == ["c-1", "c-2"]
    assert logged["probability"].tolist() == [p["probability"] for p in answer["predictions"]]
    assert (logged["latency_ms"] > 0).all()
    assert json.loads(logged["inputs"][0])["tenure"] == record["tenure"]
    assert "customer_id" not in json.loads(logged["inputs"][0])


def test_rejected_requests_are_not_logged(model_files, tmp_path):
    folder, record = model_files
    client = _client(folder, log_path=tmp_path / "log.sqlite")
    assert client.post("/predict", json={**record, "tenure": -1}).status_code == 422
    from churnops.prediction_log import PredictionLog

    assert PredictionLog(tmp_path / "log.sqlite").count() == 0


def test_feedback_by_request_or_customer(model_files, tmp_path):
    folder, record = model_files
    client = _client(folder, log_path=tmp_path / "log.sqlite")
    request_id = client.post("/predict", json=record).json()["request_id"]
    by_request = client.post("/feedback", json={"request_id": request_id, "churned": True})
    assert by_request.status_code == 200
    assert by_request.json() == {"recorded": True, "predictions": 1}
    by_customer = client.post("/feedback", json={"customer_id": "c-1", "churned": False})
    assert by_customer.json()["predictions"] == 1
    unknown = client.post("/feedback", json={"request_id": "nope", "churned": True})
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "no logged prediction has request_id 'nope'"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"churned": True}, "body"),
        ({"request_id": "a", "customer_id": "b", "churned": True}, "body"),
        ({"request_id": "a", "churned": "yes"}, "churned"),
        ({"request_id": "a"}, "churned"),
        ({"request_id": "a", "churned": True, "extra": 1}, "extra"),
    ],
)
def test_malformed_feedback_is_422_naming_the_field(client, body, field):
    answer = client.post("/feedback", json=body)
    assert answer.status_code == 422
    assert field in [p["field"] for p in answer.json()["detail"]]


def test_settings_from_params_then_environment(monkeypatch, tmp_path):
    from churnops.api.app import settings_from_env

    params = tmp_path / "params.yaml"
    params.write_text("serve:\n  max_batch: 3\n  log_path: x/log.sqlite\n  policy: flag\n")
    monkeypatch.setenv("CHURNOPS_PARAMS", str(params))
    settings = settings_from_env()
    assert (settings.max_batch, str(settings.log_path), settings.policy) == (
        3,
        "x/log.sqlite",
        "flag",
    )
    monkeypatch.setenv("CHURNOPS_MAX_BATCH", "9")
    assert settings_from_env().max_batch == 9
    monkeypatch.setenv("CHURNOPS_MAX_BATCH", "0")
    with pytest.raises(ValueError, match="setting max_batch must be a positive integer, got '0'"):
        settings_from_env()


def test_a_prediction_that_cannot_be_logged_is_not_given(model_files, tmp_path):
    folder, record = model_files
    client = _client(folder, log_path=tmp_path / "log.sqlite")
    client.app.state.log.close()  # as if the disk had gone away
    answer = client.post("/predict", json=record)
    assert answer.status_code == 503
    assert answer.json()["error"] == "prediction not logged"
    assert client.get("/health").status_code == 200
