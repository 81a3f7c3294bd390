"""Sharing through the DVC remote: the project's default remote (a folder beside the work tree)
takes clone A's push, and a teammate's fresh clone B gets the prepared data, the model and the
reports with `dvc pull` alone - no training - and `dvc status` is clean."""

from __future__ import annotations

import shutil

import pytest

from churnops.files import file_digest
from tests.conftest import ROOT
from tests.pipeline_repo import commit, run

pytestmark = pytest.mark.e2e


def test_a_teammates_clone_pulls_what_a_pushed(telco_repo, tmp_path):
    a = telco_repo  # tmp_path/repo, where the pipeline ran
    shutil.copy2(ROOT / ".dvc" / "config", a / ".dvc" / "config")
    commit(a, "the project's default remote")
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
