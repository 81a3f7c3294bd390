"""End-to-end: the real `dvc repro` in a temporary git repository, on a stratified sample of
Telco (another domain's data: tests/test_pipeline_other_data.py)."""

from __future__ import annotations

import json
import re

import joblib
import numpy as np
import pandas as pd
import pytest
import yaml

from churnops.files import file_digest
from tests.pipeline_repo import run, served_from
from tests.servers import Receiver

pytestmark = pytest.mark.e2e

HEADLINE = {"roc_auc", "pr_auc", "accuracy", "precision", "recall", "f1", "log_loss", "brier"}


def _read(repo, path):
    return json.loads((repo / path).read_text())


def test_the_report_fixture_has_the_shape_of_the_pipeline_outputs(telco_repo_built):
    """The reporting tests read tests/fixtures/pipeline_outputs; this fails when the pipeline's
    outputs change shape (refresh the fixture with `python -m tests.report_fixture`)."""
    from tests.report_fixture import FILES, FIXTURE, shape

    for path in FILES:
        if path.endswith(".json"):
            assert shape(_read(FIXTURE, path)) == shape(_read(telco_repo_built, path)), path
        elif path.endswith(".csv"):
            fixture, real = pd.read_csv(FIXTURE / path), pd.read_csv(telco_repo_built / path)
            assert list(fixture.columns) == list(real.columns), path


def test_repro_writes_every_output(telco_repo):
    repo = telco_repo
    assert set(_read(repo, "reports/evaluate/metrics.json")) == HEADLINE
    for path in (
        "data/prepared/train.parquet",
        "data/prepared/schema.json",
        "reports/prepare/data_quality.md",
        "data/features/train.parquet",
        "reports/train/cv_results.csv",
        "reports/evaluate/plots/roc.csv",
        "reports/evaluate/figures/roc.png",
        "reports/evaluate/classification_report.json",
        "reports/evaluate/intervals.json",
        "reports/evaluate/figures/learning_curve.png",
        "reports/evaluate/figures/fairness.png",
        "reports/evaluate/plots/permutation_importance.csv",
        "reports/eda/index.html",
        "reports/model_card.md",
        "reports/index.html",
        "data/simulated/batch.parquet",
        "reports/monitor/metrics.json",
        "reports/monitor/alerts.json",
        "reports/monitor/decision.json",
        "reports/monitor/drift.html",
        "reports/monitor/evidently.json",
    ):
        assert (repo / path).is_file(), path
    meta = _read(repo, "models/model_meta.json")
    assert meta["model_sha256"] == file_digest(repo / "models/model.joblib")
    assert meta["train_data_md5"] == file_digest(repo / "data/prepared/train.parquet", "md5")
    assert "timestamp" not in json.dumps(meta).lower()
    cv = _read(repo, "reports/train/cv_results.json")
    assert cv["selection"]["chosen"] == meta["candidate"]
    assert set(cv["candidates"]) == {
        "logistic_regression",
        "knn",
        "svm",
        "random_forest",
        "gradient_boosting",
        "soft_voting",
    }
    diagnostics = _read(repo, "reports/evaluate/diagnostics.json")
    assert diagnostics["learning_curve"]["verdict"] in ("balanced", "high bias", "high variance")
    assert set(_read(repo, "reports/evaluate/fairness.json")["groups"]) == {
        "gender",
        "SeniorCitizen",
        "Partner",
    }
    assert "Data and pipelines are up to date" in run(repo, "dvc", "status").stdout
    assert "Stage 'train' didn't change, skipping" in run(repo, "dvc", "repro").stdout


def test_a_params_typo_stops_dvc_repro_first_and_removes_no_output(telco_repo):
    params_file = telco_repo / "params.yaml"
    params = yaml.safe_load(params_file.read_text())
    params["train"]["candidats"] = params["train"].pop("candidates")
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    result = run(telco_repo, "dvc", "repro", check=False)
    said = result.stdout + result.stderr
    assert result.returncode != 0
    assert [line for line in said.splitlines() if ": error:" in line] == [
        "check_params: error: params.yaml: train.candidats: unknown key "
        "(did you mean 'candidates'?)"
    ]
    assert said.count("Running stage") == 1
    # only check_params' own one-line output went; every other stage's outputs are in place
    changed = run(telco_repo, "git", "status", "--porcelain").stdout.splitlines()
    assert sorted(changed) == [" D reports/params/check.json", " M params.yaml"]
    for path in ("models/model.joblib", "data/prepared/train.parquet", "reports/index.html"):
        assert (telco_repo / path).is_file(), path


def test_decision_threshold_is_the_out_of_fold_profit_maximum(telco_repo):
    meta = _read(telco_repo, "models/model_meta.json")
    curve = pd.read_csv(telco_repo / "reports/train/profit_oof.csv")
    best = curve.loc[curve["expected_profit"].idxmax(), "threshold"]
    assert meta["decision_threshold"]["value"] == pytest.approx(best)
    assert "out-of-fold" in meta["decision_threshold"]["source"]
    assert _read(telco_repo, "reports/evaluate/business.json")["threshold"] == pytest.approx(best)


def test_model_takes_raw_rows(telco_repo):
    model = joblib.load(telco_repo / "models/model.joblib")
    rows = pd.read_parquet(telco_repo / "data/prepared/test.parquet")
    proba = model.predict_proba(rows)[:, 1]
    assert proba.shape == (len(rows),)
    assert np.all((proba >= 0) & (proba <= 1))


@pytest.mark.slow  # CI's run also reproduces the project itself from a fresh clone
def test_forced_rerun_reproduces_every_committed_file(telco_repo):
    run(telco_repo, "dvc", "repro", "--force")
    diff = run(telco_repo, "git", "diff", "--stat", check=False)
    assert diff.stdout == "", diff.stdout


@pytest.mark.slow  # 34 s of `dvc exp run`: CI's slow step runs it
def test_experiment_then_metrics_diff(telco_repo):
    run(telco_repo, "dvc", "exp", "run", "-S", "train.cv_folds=4")
    shown = run(telco_repo, "dvc", "exp", "show", "--json").stdout
    assert "cv_folds" in shown
    diff = json.loads(run(telco_repo, "dvc", "metrics", "diff", "--json").stdout)
    assert "cv_mean" in diff["reports/train/metrics.json"]
    # metrics files hold headline numbers only, so the tables stay readable
    shown = json.loads(run(telco_repo, "dvc", "metrics", "show", "--json").stdout)
    numbers = [
        len(data.get("data", {}))
        for files in shown.values()
        for data in files.get("data", {}).values()
    ]
    assert numbers
    assert max(numbers) <= 25


@pytest.mark.slow  # 18 s of `dvc exp run`: CI's slow step runs it
def test_drift_scenario_experiment_shows_in_metrics_diff(telco_repo, monkeypatch):
    quiet = _read(telco_repo, "reports/monitor/metrics.json")
    assert quiet["drifted_columns"] == 0
    assert quiet["alerts"]["warning"] == 0
    assert _verdict(telco_repo) == "not detected"
    hook = Receiver()  # the team's alert webhook, given to the stage as a secret would be
    monkeypatch.setenv("CHURNOPS_ALERT_WEBHOOK", hook.url)
    try:
        run(telco_repo, "dvc", "exp", "run", "-S", "simulate.scenario=price_increase")
    finally:
        hook.close()
    (delivered,) = hook.bodies
    assert delivered["level"] == "warning"
    assert any(a["rule"] == "feature_drift" for a in delivered["alerts"])
    (recorded,) = (telco_repo / "logs" / "alerts.jsonl").read_text().splitlines()
    assert json.loads(recorded)["delivered"] is True
    # the Evidently page opens with the verdict that metrics.json holds
    assert _read(telco_repo, "reports/monitor/metrics.json")["dataset_drift"] is True
    assert _verdict(telco_repo) == "DETECTED"
    diff = json.loads(run(telco_repo, "dvc", "metrics", "diff", "--json").stdout)
    changed = diff["reports/monitor/metrics.json"]
    assert changed["drifted_columns"]["new"] >= 1
    assert changed["alerts.warning"]["new"] >= 1
    alerts = _read(telco_repo, "reports/monitor/alerts.json")["alerts"]
    assert any(a["rule"] == "feature_drift" and "MonthlyCharges" in a["columns"] for a in alerts)
    decision = _read(telco_repo, "reports/monitor/decision.json")
    assert decision["retrain"] is True
    assert "data_drift" in decision["triggers"]


def _verdict(repo) -> str:
    page = (repo / "reports/monitor/drift.html").read_text(encoding="utf-8")
    match = re.search(r"churnops verdict: dataset drift (DETECTED|not detected)", page)
    assert match, "drift.html does not open with the monitor's verdict"
    return match.group(1)


def test_served_predictions_run_through_the_monitor_stage(telco_repo, tmp_path, request):
    """Serve the test split, report the outcomes, export the log, and monitor it with
    `dvc exp run -S monitor.current_path=...`: what users do to watch the live model."""
    from fastapi.testclient import TestClient

    from churnops import cli
    from churnops.serving.app import create_app

    repo = telco_repo
    client = TestClient(create_app(served_from(repo, policy="flag")))
    client.__enter__()  # runs the app's lifespan: the model is loaded and the log opened
    request.addfinalizer(lambda: client.__exit__(None, None, None))
    assert client.get("/ready").json()["engine"] == "onnx"
    rows = pd.read_parquet(repo / "data/prepared/test.parquet")
    schema = _read(repo, "data/prepared/schema.json")
    features = list(schema["features"])
    for start in range(0, len(rows), 25):
        chunk = rows.iloc[start : start + 25]
        body = [
            {
                "customerID": row["customerID"],
                **{c: (None if pd.isna(row[c]) else row[c]) for c in features},
            }
            for _, row in chunk.iterrows()
        ]
        assert client.post("/predict", json=body).status_code == 200
    for _, row in rows.iterrows():
        outcome = {"customerID": row["customerID"], "Churn": row["Churn"]}
        assert client.post("/feedback", json=outcome).status_code == 200

    exported = repo / "data/production/batch.parquet"
    code = cli.main(
        [
            "log",
            "export",
            "--out",
            str(exported),
            "--log",
            str(repo / "logs/predictions.sqlite"),
            "--meta",
            str(repo / "models/model_meta.json"),
            "--schema",
            str(repo / "data/prepared/schema.json"),
        ]
    )
    assert code == 0
    batch = pd.read_parquet(exported)
    assert len(batch) == len(rows)
    assert batch["Churn"].tolist() == rows["Churn"].tolist()

    run(repo, "dvc", "exp", "run", "-S", "monitor.current_path=data/production/batch.parquet")
    monitored = _read(repo, "reports/monitor/metrics.json")
    expected_auc = _read(repo, "reports/evaluate/metrics.json")["roc_auc"]
    observed = _read(repo, "reports/monitor/alerts.json")["observed"]
    assert monitored["rows"] == len(rows)
    assert monitored["labelled"] is True
    # the served probabilities are the evaluated pipeline's: same ROC-AUC on the same rows
    assert monitored["performance"]["roc_auc"] == pytest.approx(expected_auc, abs=1e-4)
    assert observed["latency_p99_ms"]["value"] > 0
