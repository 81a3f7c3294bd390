"""The prediction service: endpoints, the malformed-request corpus, a tampered model refused.

Uses a model trained here on a small Telco sample (not the project's outputs), written with its
metadata and schema the way the pipeline writes them."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3

import pytest
from fastapi.testclient import TestClient

from churnops.serving.app import create_app
from churnops.serving.settings import Settings


def _client(folder, **changes) -> TestClient:
    """A client of a fresh app; the caller enters it (`with`), which runs the app's lifespan."""
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


@pytest.fixture
def started():
    """Enter clients (running each app's lifespan) and leave them at the end of the test."""
    with contextlib.ExitStack() as stack:
        yield stack.enter_context


@pytest.fixture(scope="module")
def client(model_files):
    with _client(model_files[0], max_batch=5, max_body_bytes=50_000) as started:
        yield started


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
    assert prediction["customerID"] == "c-1"
    many = client.post("/predict", json=[record, {**record, "Contract": "Two year"}])
    assert [p["customerID"] for p in many.json()["predictions"]] == ["c-1", "c-1"]


def test_openapi_states_the_contract(client):
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    one = body["schema"]["anyOf"][0]
    assert one["properties"]["Contract"]["anyOf"][0]["enum"] == [
        "Month-to-month",
        "One year",
        "Two year",
    ]
    tenure = one["properties"]["tenure"]["anyOf"][0]
    assert (tenure["minimum"], tenure["maximum"]) == (0.0, 79.2)  # bound 0; band 10% of [0, 72]
    assert "customerID" in one["properties"]  # the data's own id column


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
        (lambda r: {**r, "tenure": [5]}, 422, "tenure must be a number"),
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
        (lambda r: _raw_json(json.dumps({**r, "customerID": "x" * 60_000})), 413, "too large"),
    ],
    ids=[
        "bad JSON",
        "wrong content type",
        "missing field",
        "extra field",
        "wrong type",
        "boolean for a number",
        "list for a number",
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


def test_flag_policy_accepts_and_warns(started, model_files):
    folder, record = model_files
    client = started(_client(folder, policy="flag"))
    response = client.post("/predict", json={**record, "Contract": "Lifetime", "tenure": 500})
    assert response.status_code == 200
    warnings = response.json()["predictions"][0]["warnings"]
    assert any("Contract='Lifetime' was not seen in training" in w for w in warnings)
    assert any("tenure=500 is outside the training range" in w for w in warnings)


def test_tampered_model_is_refused(started, model_files, tmp_path):
    folder, record = model_files
    for name in ("model.joblib", "meta.json", "schema.json"):
        shutil.copy(folder / name, tmp_path / name)
    with open(tmp_path / "model.joblib", "ab") as handle:
        handle.write(b"tampered")
    client = started(_client(tmp_path))
    assert client.get("/health").status_code == 200
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert "refusing to serve" in ready.json()["detail"]
    assert client.post("/predict", json=record).status_code == 503


def test_settings_from_environment(monkeypatch):
    from churnops.serving.settings import settings_from_env

    monkeypatch.setenv("CHURNOPS_MODEL", "/m/model.joblib")
    monkeypatch.setenv("CHURNOPS_POLICY", "flag")
    monkeypatch.setenv("CHURNOPS_MAX_BATCH", "7")
    settings = settings_from_env()
    assert str(settings.model_path) == "/m/model.joblib"
    assert (settings.policy, settings.max_batch) == ("flag", 7)
    assert str(settings.schema_path) == "data/prepared/schema.json"


def test_every_prediction_is_logged_with_its_request_id(started, model_files, tmp_path):
    folder, record = model_files
    client = started(_client(folder, log_path=tmp_path / "log.sqlite"))
    assert client.get("/model").json()["engine"] == "onnx"
    answer = client.post("/predict", json=[record, {**record, "customerID": "c-2"}]).json()
    from churnops.serving.prediction_log import PredictionLog

    logged = PredictionLog(tmp_path / "log.sqlite").read()
    assert logged["request_id"].tolist() == [answer["request_id"]] * 2
    assert logged["record_id"].tolist() == ["c-1", "c-2"]
    assert logged["probability"].tolist() == [p["probability"] for p in answer["predictions"]]
    assert (logged["latency_ms"] > 0).all()
    assert json.loads(logged["inputs"][0])["tenure"] == record["tenure"]
    assert "customerID" not in json.loads(logged["inputs"][0])


def test_rejected_requests_are_not_logged(started, model_files, tmp_path):
    folder, record = model_files
    client = started(_client(folder, log_path=tmp_path / "log.sqlite"))
    assert client.post("/predict", json={**record, "tenure": -1}).status_code == 422
    from churnops.serving.prediction_log import PredictionLog

    assert PredictionLog(tmp_path / "log.sqlite").count() == 0


def test_feedback_by_request_or_customer(started, model_files, tmp_path):
    folder, record = model_files
    client = started(_client(folder, log_path=tmp_path / "log.sqlite"))
    request_id = client.post("/predict", json=record).json()["request_id"]
    by_request = client.post("/feedback", json={"request_id": request_id, "Churn": "Yes"})
    assert by_request.status_code == 200
    assert by_request.json() == {"recorded": True, "predictions": 1, "outcomes": 1}
    by_customer = client.post("/feedback", json={"customerID": "c-1", "Churn": "No"})
    assert by_customer.json()["predictions"] == 1
    unknown = client.post("/feedback", json={"request_id": "nope", "Churn": "Yes"})
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "no logged prediction has request_id 'nope'"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"Churn": "Yes"}, "body"),
        ({"request_id": "a", "customerID": "b", "Churn": "Yes"}, "body"),
        ({"request_id": "a", "Churn": "maybe"}, "Churn"),
        ({"request_id": "a", "Churn": True}, "Churn"),
        ({"request_id": "a"}, "Churn"),
        ({"request_id": "a", "Churn": "Yes", "extra": 1}, "extra"),
    ],
)
def test_malformed_feedback_is_422_naming_the_field(client, body, field):
    answer = client.post("/feedback", json=body)
    assert answer.status_code == 422
    assert field in [p["field"] for p in answer.json()["detail"]]


def test_settings_from_params_then_environment(monkeypatch, tmp_path):
    from churnops.serving.settings import settings_from_env

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
    with pytest.raises(ValueError, match=r"setting max_batch \(CHURNOPS_MAX_BATCH .*got '0'"):
        settings_from_env()
    monkeypatch.setenv("CHURNOPS_MAX_BATCH", "4")
    assert settings_from_env(max_batch=2).max_batch == 2  # the command's option wins
    monkeypatch.setenv("CHURNOPS_ENGINE", "gpu")
    with pytest.raises(ValueError, match=r"setting engine \(CHURNOPS_ENGINE\): .*got 'gpu'"):
        settings_from_env()


def test_a_prediction_that_cannot_be_logged_is_not_given(started, model_files, tmp_path):
    folder, record = model_files
    client = started(_client(folder, log_path=tmp_path / "log.sqlite"))
    client.app.state.service.log.close()  # as if the disk had gone away
    answer = client.post("/predict", json=record)
    assert answer.status_code == 503
    assert answer.json()["error"] == "prediction not logged"
    assert client.get("/health").status_code == 200


def test_a_raw_row_of_the_data_file_is_accepted(client):
    """A row of the Telco file as pandas reads it: its own `customerID`, `SeniorCitizen` as the
    number 0, `TotalCharges` as text, the `Churn` label present."""
    import pandas as pd

    from tests.conftest import TELCO

    rows = pd.read_csv(TELCO).iloc[[0, 488]]  # 488: a blank TotalCharges
    for row in rows.to_dict(orient="records"):
        answer = client.post("/predict", json=row)
        assert answer.status_code == 200, answer.text
        assert answer.json()["predictions"][0]["customerID"] == row["customerID"]


@pytest.mark.parametrize(
    "body",
    [
        '{"gender": "\\ud800"}',
        '{"customerID": "\\udfff", "gender": "Female"}',
        json.dumps({f"k{i}": i for i in range(2_000)}),
    ],
    ids=["surrogate", "surrogate id", "many keys"],
)
def test_hostile_bodies_get_a_small_json_4xx(client, body):
    answer = _raw(client, body)
    assert answer.status_code == 422
    assert len(answer.content) < 10_000
    answer.content.decode("utf-8")
    assert "detail" in answer.json()


def test_errors_are_capped_with_a_count(client, model_files):
    _, record = model_files
    many = [{**record, "tenure": "x", "Contract": "y", "gender": "z"}] * 5
    body = client.post("/predict", json=many).json()
    assert len(body["detail"]) == 15
    assert "omitted" not in body
    wide = client.post("/predict", json={**record, **{f"x{i}": 1 for i in range(8)}}).json()
    assert len(wide["detail"]) == 8
    many = [{**record, **{f"x{i}": 1 for i in range(8)}}] * 5
    capped = client.post("/predict", json=many).json()
    assert (len(capped["detail"]), capped["omitted"]) == (20, 20)


def test_a_chunked_body_over_the_limit_is_413(client):
    def chunks():
        for _ in range(100):
            yield b" " * 1_000

    answer = client.post("/predict", content=chunks(), headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["error"] == "request too large"


def test_an_unwritable_log_is_not_ready_and_feedback_is_503(started, model_files, tmp_path):
    folder, record = model_files
    # outcomes for one request fill the disk here: no limit on them
    client = started(_client(folder, log_path=tmp_path / "log.sqlite", max_outcomes_per_id=10**6))
    request_id = client.post("/predict", json=record).json()["request_id"]
    db = client.app.state.service.log._db
    (pages,) = db.execute("PRAGMA page_count").fetchone()
    db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full
    for _ in range(50):
        if client.post("/predict", json=[record] * 5).status_code == 503:
            break
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert (
        ready.json()["detail"] == "the prediction log cannot be written (the server log says why)"
    )
    for _ in range(1_000):  # fill the last free page
        feedback = client.post("/feedback", json={"request_id": request_id, "Churn": "Yes"})
        if feedback.status_code != 200:
            break
    assert feedback.status_code == 503, feedback.text
    assert "sqlite" not in feedback.text.lower()
    assert str(tmp_path) not in ready.text + feedback.text
    db.execute("PRAGMA max_page_count = 1073741823")  # space again: ready again
    assert client.get("/ready").status_code == 200


def test_answers_do_not_reveal_absolute_paths(started, model_files, tmp_path):
    folder, _ = model_files
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    (broken / "model.joblib").write_bytes(b"tampered")
    client = started(_client(broken, log_path=tmp_path / "log.sqlite"))
    answer = client.get("/ready")
    assert answer.status_code == 503
    assert str(tmp_path) not in answer.text
    assert "model.joblib" in answer.text


@pytest.mark.parametrize(
    "body", [{"request_id": "", "Churn": "Yes"}, {"customerID": "", "Churn": "Yes"}]
)
def test_an_empty_id_in_feedback_is_422(client, body):
    answer = client.post("/feedback", json=body)
    assert answer.status_code == 422
    assert "None" not in answer.text


def test_the_model_is_loaded_when_the_server_starts_and_the_log_closed_when_it_stops(
    model_files, tmp_path
):
    folder, record = model_files
    client = _client(folder, log_path=tmp_path / "log.sqlite")
    assert not hasattr(client.app.state, "service")  # building the app loads nothing
    with client:
        assert client.get("/ready").status_code == 200
        assert client.post("/predict", json=record).status_code == 200
        log = client.app.state.service.log
    with pytest.raises(sqlite3.ProgrammingError):  # closed by the lifespan's shutdown
        log.count()
