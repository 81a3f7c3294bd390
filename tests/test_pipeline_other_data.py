"""End-to-end on a made-up data set of another domain, set up by `churnops init` alone: the real
`dvc repro` in a temporary git repository, and nothing in the reports or the API speaks of
customers or churn; a planted leak is warned about, and refused under `prepare.leakage: error`."""

from __future__ import annotations

import json
import re
import sys

import numpy as np
import pandas as pd
import pytest

from tests.pipeline_repo import (
    commit,
    make_repo,
    project_params,
    run,
    served_from,
    small_training,
)
from tests.test_pipeline import HEADLINE, _read

pytestmark = pytest.mark.e2e


def _made_up_accounts(n: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    age = rng.integers(18, 80, n)
    segment = rng.choice(["retail", "sme", "private"], n)
    balance = rng.gamma(2.0, 5000.0, n).round(2)
    products = rng.integers(1, 5, n)
    logit = -1.5 + 0.05 * (age - 45) - 0.8 * (segment == "private") + 0.6 * (products == 1)
    exited = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "account": [f"A{i}" for i in range(n)],
            "age": age,
            "segment": segment,
            "balance": balance,
            "products": products,
            "adviser_note": [
                f"called on day {i} about the {s} offer" for i, s in enumerate(segment)
            ],
            "closing_fee": (exited * 25 + rng.normal(0, 1, n)).round(2),  # planted leak
            "exited": exited,
        }
    )


DOMAIN_WORDS = re.compile(r"churn(?!ops)|customer", re.IGNORECASE)


@pytest.mark.slow  # 30 s of a full `dvc repro`: CI's slow step runs it
def test_another_data_set_runs_after_churnops_init_alone(tmp_path):
    """A bank's accounts, written with ';' and decimal commas: `churnops init` writes every
    param, `dvc repro` runs it end to end, and nothing speaks of customers or churn."""
    repo = make_repo(tmp_path / "repo", pd.DataFrame({"x": [1]}), "unused.csv", project_params())
    _made_up_accounts().to_csv(repo / "data/raw/accounts.csv", sep=";", decimal=",", index=False)
    (repo / "data/raw/unused.csv").unlink()
    init = run(
        repo, sys.executable, "-m", "churnops.cli", "init", "--data", "data/raw/accounts.csv",
        "--target", "exited", "--force",
    )  # fmt: skip
    assert "prepare.csv: separator ';', decimal mark ','" in init.stdout
    assert "base.id_column 'account'" in init.stdout
    assert "left out adviser_note (free_text)" in init.stdout
    assert "left out closing_fee: alone it predicts the target" in init.stdout
    commit(repo, "params from churnops init")
    run(repo, "dvc", "repro")
    metrics = _read(repo, "reports/evaluate/metrics.json")
    assert set(metrics) == HEADLINE
    assert metrics["roc_auc"] > 0.6
    schema = _read(repo, "data/prepared/schema.json")
    assert schema["target"] == {"name": "exited", "labels": ["0", "1"]}
    assert set(schema["features"]) == {"age", "segment", "balance", "products"}
    assert schema["features"]["segment"]["categories"] == ["private", "retail", "sme"]
    # the no-drift batch raises no warning or critical alert
    assert _read(repo, "reports/monitor/alerts.json")["counts"] == {
        "info": 0,
        "warning": 0,
        "critical": 0,
    }
    # without business economics or fairness groups those parts say so rather than fail
    assert "not assessed" in _read(repo, "reports/evaluate/business.json")["note"]
    assert "not assessed" in _read(repo, "reports/evaluate/fairness.json")["note"]
    assert "purpose and intended use are not stated" in (repo / "reports/model_card.md").read_text()
    spoken = [
        (path.relative_to(repo).as_posix(), DOMAIN_WORDS.findall(path.read_text()))
        for path in (repo / "reports").rglob("*")
        if path.suffix in (".md", ".html", ".json", ".csv")
    ]
    assert [(p, w) for p, w in spoken if w] == []
    openapi = _openapi(repo)
    assert DOMAIN_WORDS.findall(openapi) == []
    assert '"account"' in openapi  # the id field is the data's own id column
    # raw rows of the user's file as pandas reads it, every column (the free text and the leak
    # that init left out, the target), are scored by the service as they are
    raw = pd.read_csv(repo / "data/raw/accounts.csv", sep=";", decimal=",").head(3)
    answered = _post(repo, json.loads(raw.to_json(orient="records")))
    assert answered.status_code == 200, answered.text
    assert len(answered.json()["predictions"]) == 3


def _openapi(repo) -> str:
    from churnops.serving.app import create_app
    from churnops.serving.settings import Settings

    app = create_app(Settings(schema_path=repo / "data/prepared/schema.json"))
    return json.dumps(app.openapi())


def test_a_planted_leak_is_warned_about_and_refused_under_leakage_error(tmp_path):
    params = small_training(project_params())
    params["base"].update(target="exited", positive_label=1, negative_label=0, id_column="account")
    columns = {"age": "numeric", "segment": "categorical", "closing_fee": "numeric"}
    params["prepare"].update(sha256=None, bounds=None, columns=columns, strict_schema=False)
    params["featurize"]["recipes"] = []
    params.update(problem=None, business=None)
    params["fairness"]["groups"] = []
    repo = make_repo(tmp_path / "repo", _made_up_accounts(), "accounts.parquet", params)
    warned = run(repo, "dvc", "repro", "prepare")
    assert "LEAKAGE? column 'closing_fee' alone gives cross-validated ROC-AUC" in warned.stderr
    assert "closing_fee" in _read(repo, "reports/prepare/data_quality.json")["leakage"]["suspects"]
    refused = run(repo, "dvc", "exp", "run", "-S", "prepare.leakage=error", check=False)
    assert refused.returncode != 0
    assert "leakage: column(s) 'closing_fee'" in refused.stdout + refused.stderr


def _post(repo, records):
    from fastapi.testclient import TestClient

    from churnops.serving.app import create_app

    with TestClient(create_app(served_from(repo))) as client:
        return client.post("/predict", json=records)
