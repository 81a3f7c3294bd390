"""The suite passes whatever a user sets in the project's params.yaml: tests build their own
params (tests/params.yaml and fixtures), never the project's."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.conftest import ROOT

# the one test that reads the project's params on purpose: it checks that they are valid
ALLOWED = {"test_config.py"}


def test_no_test_reads_the_projects_params():
    readers = sorted(
        path.name
        for path in (ROOT / "tests").glob("*.py")
        if path.name not in ALLOWED
        and re.search(r"ROOT\s*/\s*\"params\.yaml\"", path.read_text(encoding="utf-8"))
    )
    assert readers == []


@pytest.mark.slow
def test_the_suite_passes_after_the_user_edits_candidates_and_fairness_groups(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv*", ".git", ".tmp", "__pycache__", "*.egg-info", ".pytest_cache", "cache"
        ),
    )
    params = yaml.safe_load((copy / "params.yaml").read_text())
    candidates = params["train"]["candidates"]
    for name in ("knn", "soft_voting", "random_forest"):
        del candidates[name]
    candidates["logistic_regression"]["grid"] = {"C": [0.5, 2.0]}
    params["fairness"]["groups"] = ["gender", "Dependents"]
    (copy / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-n", "2", "--dist", "loadfile"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-4000:]
