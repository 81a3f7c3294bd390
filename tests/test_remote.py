"""Sharing through the DVC remote: the project's default remote (a folder beside the work tree)
takes clone A's push, and a teammate's fresh clone B gets the prepared data, the model and the
reports with `dvc pull` alone - no training - and `dvc status` is clean; B serves the version A
promoted to prod, fetched by its registry tag."""

from __future__ import annotations

import shutil

import httpx
import pytest

from churnops.files import file_digest
from churnops.registry import versions
from tests.conftest import ROOT
from tests.pipeline_repo import commit, run
from tests.servers import serve, server_log, wait_ready

pytestmark = pytest.mark.e2e


def test_a_teammates_clone_pulls_what_a_pushed(telco_repo, tmp_path):
    a = telco_repo  # tmp_path/repo, where the pipeline ran
    shutil.copy2(ROOT / ".dvc" / "config", a / ".dvc" / "config")
    commit(a, "the project's default remote")
    assert versions.register(a, message="first release")[0] == "v1.0.0"
    versions.promote(a, "v1.0.0", "prod", message="the gate passed")
    pushed = run(a, "dvc", "push")
    assert (tmp_path / "churnops-dvc-remote").is_dir(), pushed.stdout  # beside the work tree
    b = tmp_path / "teammate"
    run(tmp_path, "git", "clone", "-q", str(a), str(b))
    assert not (b / "models" / "model.joblib").exists()
    pulled = run(b, "dvc", "pull")
    assert "Running stage" not in pulled.stdout + pulled.stderr
    status = run(b, "dvc", "status")
    assert "Data and pipelines are up to date" in status.stdout, status.stdout
    for path in (
        "models/model.joblib",
        "models/serving/bundle.json",
        "models/serving/compiled/model.onnx",
        "data/prepared/train.parquet",
        "reports/eda/figures/histograms.png",
    ):
        assert file_digest(b / path) == file_digest(a / path), path
    _serves_the_prod_version(b, tmp_path, model_sha=file_digest(a / "models/model.joblib"))


def _serves_the_prod_version(repo, tmp_path, *, model_sha):
    shutil.rmtree(repo / ".dvc" / "cache")  # fetched from the remote by its tag, not the cache
    server, url = serve(
        repo, tmp_path, {"CHURNOPS_LOG": str(tmp_path / "b.sqlite")}, "--stage", "prod"
    )
    try:
        wait_ready(url, server, seconds=120)
        model = httpx.get(f"{url}/model", timeout=5).json()
        assert model["model_sha256"] == model_sha, server_log(server)
        assert model["registry"] == {"version": "v1.0.0", "stage": "prod", "last_reload": None}
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert (repo / ".churnops/registry/model@v1.0.0/bundle.json").is_file()
