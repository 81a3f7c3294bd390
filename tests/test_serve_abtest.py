"""`churnops serve --abtest` on a real registry: params name the experiment and its arms by
registry version or stage; the service fetches and checks each arm's bundle, sends each customer
id to its arm, and says so in /model. Here an A/A test (both arms the same version), the
calibration run a team does before trusting the split."""

from __future__ import annotations

import collections
import json
import sys

import httpx
import pytest
import yaml

from churnops.registry import versions
from tests.pipeline_repo import commit, run
from tests.servers import serve, server_log, wait_ready

pytestmark = pytest.mark.e2e


def test_an_a_a_experiment_served_from_the_registry(telco_repo, tmp_path, telco):
    repo = telco_repo
    versions.register(repo, message="first release")
    versions.promote(repo, "v1.0.0", "prod")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["abtest"].update(
        name="a-a-check",
        arms=[
            {"name": "control", "stage": "prod", "share": 0.5},
            {"name": "same", "version": "v1.0.0", "share": 0.5},
        ],
    )
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    commit(repo, "an A/A experiment")
    settings = {"CHURNOPS_LOG": str(tmp_path / "ab.sqlite"), "CHURNOPS_PARAMS": "params.yaml"}
    server, url = serve(repo, tmp_path, settings, "--abtest")
    try:
        wait_ready(url, server, seconds=120)
        model = httpx.get(f"{url}/model", timeout=10).json()
        assert [a["registry_version"] for a in model["experiment"]["arms"]] == ["v1.0.0"] * 2
        rows = telco.drop(columns="Churn").head(200).to_dict("records")
        answer = httpx.post(f"{url}/predict", json=rows, timeout=60)
        assert answer.status_code == 200, server_log(server)
        arms = collections.Counter(p["arm"] for p in answer.json()["predictions"])
        assert set(arms) == {"control", "same"}
        assert answer.json()["model_version"] == model["model_version"]  # one model, both arms
        outcomes = telco.head(200)[["customerID", "Churn"]].to_dict("records")
        for outcome in outcomes:  # what the business observed, back through the service
            assert httpx.post(f"{url}/feedback", json=outcome, timeout=10).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert (repo / ".churnops/abtest/a-a-check.json").is_file()
    analyzed = run(
        repo, sys.executable, "-m", "churnops.cli", "abtest", "analyze",
        "--log", str(tmp_path / "ab.sqlite"), "--baseline", "0.265",
    )  # fmt: skip
    assert "churnops abtest analyze: KEEP RUNNING" in analyzed.stdout, analyzed.stdout
    report = json.loads((repo / "reports/abtest/a-a-check.json").read_text())
    assert sum(arm["n"] for arm in report["arms"].values()) == 200
    assert report["srm"]["p_value"] > 0.001
