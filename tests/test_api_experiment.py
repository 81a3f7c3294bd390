"""An A/B experiment in the service: each customer id meets the same arm on every request and
after a restart, the arms take their shares, each prediction and log row names its arm and
model, a request without an id goes to control, a list split between arms keeps its order, and
the arms' models are fixed while the experiment runs."""

from __future__ import annotations

import collections
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from churnops.abtest import stats
from churnops.serving import experiment
from tests.test_api import _client, started  # noqa: F401  (the fixture)
from tests.test_api_admin import another_model

TOKEN = "a-long-enough-admin-token"


def _challenger(model_files, tmp_path):
    """Another model on the control's contract (its pipeline refitted with another C)."""
    folder = tmp_path / "challenger"
    shutil.copytree(model_files[0], folder)
    another_model(folder)
    return folder


def _arm(name, share, folder, version):
    return {
        "name": name,
        "share": share,
        "registry_version": version,
        "model": str(folder / "model.joblib"),
        "meta": str(folder / "meta.json"),
        "schema": str(folder / "schema.json"),
        "compiled": str(folder / "compiled"),
    }


@pytest.fixture
def ab(model_files, tmp_path):
    control, record = model_files
    path = tmp_path / "experiment.json"
    arms = [
        _arm("control", 0.5, control, "v1.0.0"),
        _arm("challenger", 0.5, _challenger(model_files, tmp_path), "v1.1.0"),
    ]
    experiment.write(path, "retention-2026-12", "salt-1", arms)
    settings = {"experiment_path": path, "log_path": tmp_path / "log.sqlite", "admin_token": TOKEN}
    return control, record, settings


def test_each_customer_meets_one_arm_on_every_request_and_after_a_restart(started, ab):  # noqa: F811
    control, record, settings = ab
    ids = [f"{i:04d}-XYZ" for i in range(400)]
    first = started(_client(control, **settings))
    seen = {}
    for customer in ids:
        (p,) = first.post("/predict", json={**record, "customerID": customer}).json()["predictions"]
        seen[customer] = (p["arm"], p["model_version"])
    arms = first.get("/model").json()["experiment"]["arms"]
    version_of = {a["name"]: a["model_version"] for a in arms}
    assert all(version_of[arm] == version for arm, version in seen.values())
    counts = collections.Counter(arm for arm, _ in seen.values())
    assert stats.srm([counts["control"], counts["challenger"]], [0.5, 0.5])[1] > stats.SRM_ALPHA

    again = started(_client(control, **settings))  # a restarted service
    for customer in ids[:50]:
        (p,) = again.post("/predict", json={**record, "customerID": customer}).json()["predictions"]
        assert (p["arm"], p["model_version"]) == seen[customer]
    with sqlite3.connect(settings["log_path"]) as db:
        logged = db.execute(
            "SELECT record_id, arm, model_version, experiment FROM predictions"
        ).fetchall()
    assert len(logged) == 450
    assert all((arm, version) == seen[rid] for rid, arm, version, _ in logged)
    assert {name for *_, name in logged} == {"retention-2026-12"}


def test_no_id_goes_to_control_and_a_split_list_keeps_its_order(started, ab):  # noqa: F811
    control, record, settings = ab
    client = started(_client(control, **settings))
    anonymous = {k: v for k, v in record.items() if k != "customerID"}
    (p,) = client.post("/predict", json=anonymous).json()["predictions"]
    assert p["arm"] == "control"
    batch = [{**record, "customerID": f"c{i}"} for i in range(30)]
    answer = client.post("/predict", json=batch).json()
    assert [p["customerID"] for p in answer["predictions"]] == [f"c{i}" for i in range(30)]
    assert {p["arm"] for p in answer["predictions"]} == {"control", "challenger"}
    assert answer["model_version"] is None  # two models scored it: each prediction names its own
    with sqlite3.connect(settings["log_path"]) as db:
        rows = db.execute(
            "SELECT item, record_id FROM predictions WHERE request_id = ? ORDER BY item",
            (answer["request_id"],),
        ).fetchall()
    assert rows == [(i, f"c{i}") for i in range(30)]


def test_the_arms_are_fixed_while_the_experiment_runs(started, ab):  # noqa: F811
    control, _, settings = ab
    client = started(_client(control, **settings))
    answer = client.post("/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 409
    assert "restart the service" in answer.json()["detail"]["reason"]


def test_arms_that_take_other_features_leave_the_service_not_ready(started, ab, tmp_path):  # noqa: F811
    control, _, settings = ab
    spec = json.loads(settings["experiment_path"].read_text())
    other = tmp_path / "other"
    shutil.copytree(spec["arms"][1]["model"].rsplit("/", 1)[0], other)
    schema = json.loads((other / "schema.json").read_text())
    schema["features"].pop("tenure")
    (other / "schema.json").write_text(json.dumps(schema))
    spec["arms"][1] = _arm("challenger", 0.5, other, "v2.0.0")
    experiment.write(settings["experiment_path"], spec["name"], spec["salt"], spec["arms"])
    client = started(_client(control, **settings))
    answer = client.get("/ready")
    assert answer.status_code == 503
    assert "take other features" in answer.json()["detail"]


def test_a_split_request_is_logged_whole_or_not_at_all(ab, tmp_path):
    from churnops.serving.microbatch import Pending, ScoreError
    from churnops.serving.prediction_log import PredictionLog

    _, record, settings = ab
    log = PredictionLog(tmp_path / "split.sqlite")
    running = experiment.load(settings["experiment_path"], log, engine="sklearn")
    values = {k: v for k, v in record.items() if k != "customerID"}
    broken = {**values, "tenure": 1e308, "MonthlyCharges": 1e308}  # past what the model takes

    def split(records):
        return [
            ("control", Pending([records[0]], ["a"], "r1", 0.0, items=[0])),
            ("challenger", Pending([records[1]], ["b"], "r1", 0.0, items=[1])),
        ]

    with pytest.raises(ScoreError) as raised:
        experiment.score_split(running, log, split([values, broken]), 0.0)
    assert raised.value.args[0] == [1]  # its position in the request
    assert log.count() == 0  # the control's valid row was not logged either
    scored = experiment.score_split(running, log, split([values, values]), 0.0)
    assert [m.version for _, m in scored] == [a.model.version for a in running.arms.values()]
    assert log.count() == 2
    log.close()


def test_a_record_its_model_cannot_score_is_counted_against_its_arm(started, ab):  # noqa: F811
    import joblib
    import numpy as np

    from churnops.files import file_digest
    from churnops.serving.log_export import LogReader

    control, record, settings = ab
    spec = json.loads(settings["experiment_path"].read_text())
    broken = spec["arms"][1]  # the challenger's model scores NaN: a corrupted coefficient
    pipeline = joblib.load(broken["model"])
    pipeline[-1].coef_[0, 0] = np.nan
    joblib.dump(pipeline, broken["model"])
    meta_path = Path(broken["meta"])
    meta = json.loads(meta_path.read_text())
    meta["model_sha256"] = file_digest(broken["model"])
    meta_path.write_text(json.dumps(meta))

    client = started(_client(control, **settings))
    status = {
        f"c{i}": client.post("/predict", json={**record, "customerID": f"c{i}"}).status_code
        for i in range(30)
    }
    refused = sorted(c for c, code in status.items() if code == 422)
    assert 0 < len(refused) < 30
    with LogReader(settings["log_path"]) as reader:
        failures = reader.experiment_failures("retention-2026-12")
        served = reader.experiment_rows("retention-2026-12")
    assert sorted(failures["record_id"]) == refused
    assert set(failures["arm"]) == {"challenger"}
    assert set(served["arm"]) == {"control"}
    assert set(failures["reason"]) == {"not a finite probability"}
    assert set(failures["model_version"]) == {meta["model_sha256"][:12]}
    line = (
        'churnops_prediction_errors_total{arm="challenger",reason="not a finite probability"} '
        f"{float(len(refused))}"
    )
    assert line in client.get("/metrics").text
