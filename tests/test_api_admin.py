"""POST /admin/reload: disabled without a token, 401/403 on a missing or wrong one; a reload
swaps in the verified model, and a failed one keeps serving the old model and says why."""

from __future__ import annotations

import json
import shutil

import joblib

from tests.test_api import _client, started  # noqa: F401  (the fixture)

TOKEN = "a-long-enough-admin-token"


def _copy(model_files, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(model_files[0], folder)
    return folder


def another_model(folder):
    """Put another model in `folder` on the same contract: the same pipeline refitted with
    another C, its metadata updated, no compiled model (the old one belongs to the old model);
    returns the new metadata."""
    from churnops.files import file_digest

    pipeline = joblib.load(folder / "model.joblib")
    pipeline.set_params(model__C=0.01)
    joblib.dump(pipeline, folder / "model.joblib")
    meta = json.loads((folder / "meta.json").read_text())
    meta["model_sha256"] = file_digest(folder / "model.joblib")
    (folder / "meta.json").write_text(json.dumps(meta))
    shutil.rmtree(folder / "compiled")
    (folder / "compiled").mkdir()
    (folder / "compiled" / "manifest.json").write_text(json.dumps({"compiled": False}))
    return meta


def test_admin_routes_are_disabled_without_a_token(started, model_files, tmp_path):  # noqa: F811
    client = started(_client(_copy(model_files, tmp_path)))
    answer = client.post("/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 403
    assert "set CHURNOPS_ADMIN_TOKEN" in answer.json()["detail"]


def test_a_reload_needs_the_token_and_swaps_the_verified_model(started, model_files, tmp_path):  # noqa: F811
    folder = _copy(model_files, tmp_path)
    client = started(_client(folder, admin_token=TOKEN))
    record = model_files[1]
    assert client.post("/admin/reload").status_code == 401
    assert client.post("/admin/reload", headers={"Authorization": "Bearer nope"}).status_code == 403
    before = client.post("/predict", json=record).json()["model_version"]

    meta = another_model(folder)

    ok = client.post("/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200, ok.json()
    assert ok.json()["reloaded"] is True
    assert ok.json()["from"] == before
    after = client.post("/predict", json=record).json()["model_version"]
    assert after == meta["model_sha256"][:12] != before
    assert client.get("/model").json()["registry"]["last_reload"]["to"] == after

    (folder / "model.joblib").write_bytes(b"not a model")  # a broken release
    failed = client.post("/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert failed.status_code == 409
    assert failed.json()["detail"]["reloaded"] is False
    still = client.post("/predict", json=record)
    assert still.status_code == 200
    assert still.json()["model_version"] == after


def test_a_reload_is_refused_when_several_workers_serve(started, model_files, tmp_path):  # noqa: F811
    client = started(_client(_copy(model_files, tmp_path), admin_token=TOKEN, workers=2))
    answer = client.post("/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 409
    assert "runs 2 worker processes" in answer.json()["detail"]
    assert client.post("/predict", json=model_files[1]).status_code == 200
