"""`churnops retrain`: production feedback through a new data version, the pipeline and the gate
to a released model, or back to exactly where the repository was.

The end-to-end test is the issue's loop on real components: a service following the registry's
prod stage scores a drifted batch, outcomes come back through /feedback, retraining on shuffled
outcomes is refused (and changes nothing), retraining on the corrected outcomes is released to
prod and the service reloads it, and a third run finds nothing new."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml

from churnops.cli import main
from churnops.files import read_json
from churnops.lifecycle import retrain
from churnops.monitoring import simulate
from churnops.params import load_params
from churnops.registry import versions
from churnops.serving import log_retention
from churnops.serving.prediction_log import Prediction, PredictionLog
from tests.conftest import TELCO, TEST_PARAMS
from tests.pipeline_repo import commit, environment, run
from tests.servers import serve, server_log, wait_ready


def _git(repo, *args):
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def _log_with(path, rows, *, outcomes):
    log = PredictionLog(path)
    log.record(
        [
            Prediction(f"r{i}", 0, row.pop("customerID"), "v", "onnx", row, 0.5, False, 1.0)
            for i, row in enumerate(rows)
        ]
    )
    for i, outcome in enumerate(outcomes):
        log.record_outcome(positive=outcome, record_id=f"c{i}")
    log.close()
    return path


def test_labelled_rows_need_a_log_with_outcomes(model_files, tmp_path):
    folder, record = model_files
    schema, meta = read_json(folder / "schema.json"), read_json(folder / "meta.json")
    features = {k: v for k, v in record.items() if k in schema["features"]}
    rows = [{**features, "customerID": f"c{i}"} for i in range(3)]
    with pytest.raises(retrain.RetrainError, match=r"no prediction in .* has a known outcome"):
        retrain.labelled_rows(_log_with(tmp_path / "a.sqlite", rows, outcomes=[]), schema, meta)
    rows = [{**features, "customerID": f"c{i}"} for i in range(3)]
    path = _log_with(tmp_path / "b.sqlite", rows, outcomes=[True, False])
    labelled = retrain.labelled_rows(path, schema, meta)
    assert labelled["Churn"].tolist() == ["Yes", "No"]
    (tmp_path / "not-a-log.sqlite").write_bytes(b"plain text")
    with pytest.raises(retrain.RetrainError, match="cannot read the prediction log"):
        retrain.labelled_rows(tmp_path / "not-a-log.sqlite", schema, meta)


def test_rows_the_contract_refuses_are_left_out_up_to_a_share(model_files):
    folder, record = model_files
    schema = read_json(folder / "schema.json")
    params = load_params(TEST_PARAMS)
    rows = pd.DataFrame([{**record, "customerID": f"c{i}", "Churn": "No"} for i in range(20)])
    rows.loc[0, "tenure"] = -5.0  # below the declared bound
    accepted, refused = retrain.validate(rows, schema, params)
    assert (len(accepted), refused) == (19, 1)
    strict = {**params, "retrain": {**params["retrain"], "max_refused_share": 0.01}}
    with pytest.raises(retrain.RetrainError, match=r"refuses 1 of 20 .*tenure"):
        retrain.validate(rows, schema, strict)


def test_a_log_that_withholds_model_inputs_cannot_retrain(model_files, tmp_path):
    folder, _ = model_files
    (tmp_path / versions.SCHEMA).parent.mkdir(parents=True)
    (tmp_path / versions.SCHEMA).write_bytes((folder / "schema.json").read_bytes())
    params = load_params(TEST_PARAMS)
    params["governance"]["pii_columns"] = ["PaymentMethod"]
    with pytest.raises(retrain.RetrainError, match=r"withholds the model input\(s\) \['Paym"):
        retrain.feedback_data(tmp_path, params, tmp_path / "log.sqlite", print)


def test_reload_without_the_admin_token_changes_nothing(monkeypatch, capsys):
    monkeypatch.delenv("CHURNOPS_ADMIN_TOKEN", raising=False)
    assert main(["retrain", "--reload", "http://127.0.0.1:9"]) == 2
    assert "needs CHURNOPS_ADMIN_TOKEN" in capsys.readouterr().err


# ---- the loop, end to end ------------------------------------------------------------------

TOKEN = "retrain-tests-admin-token"


def _retrain(repo, log, *options):
    return subprocess.run(
        [sys.executable, "-m", "churnops.cli", "retrain", "--log", str(log), *options],
        cwd=repo,
        env={**environment(), "CHURNOPS_ADMIN_TOKEN": TOKEN},
        capture_output=True,
        text=True,
        check=False,
    )


def _state(repo):
    """What a refusal must leave unchanged: HEAD, the tags, the tree, params and the model."""
    return (
        _git(repo, "rev-parse", "HEAD"),
        _git(repo, "tag", "--list"),
        _git(repo, "status", "--porcelain"),
        (repo / "params.yaml").read_text(),
        (repo / "models" / "model_meta.json").read_text(),
    )


def _production_batch(repo):
    """Telco customers the repository's data does not hold, drifted: the population shifts
    towards fibre-optic customers (resampled, so ids repeat)."""
    telco = pd.read_csv(TELCO, dtype=str, keep_default_na=False)
    known = set(pd.read_csv(repo / "data/raw/sample.csv", dtype=str)["customerID"])
    unseen = telco[~telco["customerID"].isin(known)].sample(2000, random_state=1)
    settings = {"column": "InternetService", "value": "Fiber optic", "share": 0.7}
    return simulate.apply(
        unseen, "mix_shift", settings, target="Churn", labels=["No", "Yes"], seed=0
    )


def _feedback(client, batch, labels):
    for customer, label in zip(batch["customerID"], labels, strict=True):
        answer = client.post("/feedback", json={"customerID": customer, "Churn": label})
        assert answer.status_code == 200, answer.text


@pytest.mark.slow
@pytest.mark.e2e
def test_feedback_to_a_refused_then_a_released_model_that_the_service_reloads(telco_repo, tmp_path):
    repo = telco_repo
    params = yaml.safe_load((repo / "params.yaml").read_text())
    # test-sized margins: 600 rows make small test splits, and the retrained model may be of
    # another kind (test_gate covers each criterion at the project's own margins)
    params["gate"].update(max_auc_drop=0.03, max_latency_ratio=50, max_fairness_gap_increase=0.15)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(repo, "dvc", "repro")  # the gate stage judges by them
    commit(repo, "test-sized gate margins")
    versions.register(repo, message="first release")
    versions.promote(repo, "v1.0.0", "prod", message="first release")
    log = tmp_path / "predictions.sqlite"
    settings = {"CHURNOPS_LOG": str(log), "CHURNOPS_ADMIN_TOKEN": TOKEN, "CHURNOPS_POLICY": "flag"}
    server, url = serve(repo, tmp_path, settings, "--stage", "prod")
    try:
        wait_ready(url, server, seconds=120)
        batch = _production_batch(repo)
        records = batch.drop(columns="Churn").to_dict("records")
        with httpx.Client(base_url=url, timeout=60) as client:
            for start in range(0, len(records), 250):
                answer = client.post("/predict", json=records[start : start + 250])
                assert answer.status_code == 200, answer.text[:500]
            shuffled = np.random.default_rng(0).permutation(batch["Churn"].to_numpy())
            _feedback(client, batch, shuffled)

            before = _state(repo)
            refused = _retrain(repo, log, "--promote", "prod", "--reload", url)
            assert refused.returncode == 1, refused.stdout + refused.stderr
            assert "REFUSED" in refused.stderr
            assert "ROC-AUC" in refused.stderr
            assert _state(repo) == before
            assert run(repo, "dvc", "status", "-q", check=False).returncode == 0
            kept = list((repo / ".churnops" / "retrain").glob("retrain-*/decision.json"))
            assert len(kept) == 1
            assert json.loads(kept[0].read_text())["decision"] == "fail"
            assert kept[0].parent.name in run(repo, "dvc", "exp", "list").stdout
            assert client.get("/model").json()["registry"]["version"] == "v1.0.0"

            _feedback(client, batch, batch["Churn"])  # corrections: the latest outcome wins
            released = _retrain(repo, log, "--promote", "prod", "--reload", url)
            assert released.returncode == 0, released.stdout + released.stderr
            assert "model@v1.1.0 registered and promoted to staging and prod" in released.stdout
            assert "reloaded" in released.stdout
            served = client.get("/model").json()
            assert served["registry"]["version"] == "v1.1.0", server_log(server)
            assert (
                served["model_sha256"] == read_json(repo / "models/model_meta.json")["model_sha256"]
            )

        assert versions.in_stage(repo, "prod") == "v1.1.0"
        assert versions.in_stage(repo, "staging") == "v1.1.0"
        audited = [(r["action"], r["details"]["status"]) for r in log_retention.audit_rows(log)]
        assert audited == [("retrain", "refused"), ("retrain", "promoted")]
        assert _git(repo, "status", "--porcelain", "--untracked-files=no") == ""
        assert run(repo, "dvc", "status", "-q", check=False).returncode == 0
        committed = _git(repo, "show", "--name-only", "--format=%s", "HEAD")
        for path in ("data/retrain/training.parquet.dvc", "reports/gate/decision.json"):
            assert path in committed
        assert load_params(repo / "params.yaml")["prepare"]["raw_path"] == retrain.TRAINING
        recorded = json.loads((repo / "reports/gate/decision.json").read_text())  # the stage's
        assert (recorded["decision"], recorded["champion"]) == ("pass", "v1.0.0")
        assert recorded["rows_from"]["holdout"] > 100
        assert load_params(repo / "params.yaml")["gate"]["champion"] == "v1.0.0"
        assert read_json(repo / retrain.MANIFEST)["appended"] > 500

        head = _git(repo, "rev-parse", "HEAD")
        again = _retrain(repo, log)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "nothing to retrain" in again.stdout
        assert _git(repo, "rev-parse", "HEAD") == head
    finally:
        server.terminate()
        server.wait(timeout=30)
