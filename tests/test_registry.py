"""The registry on real git tags (GTO): version numbers by rule, promotion, rollback with the
history kept, and a version fetched from the DVC cache by its tag, checked file by file."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from churnops.files import file_digest
from churnops.registry import bundle, versions
from tests.pipeline_repo import commit, run


def _git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _commit_bundle(repo, *, model, features=("a", "b"), bundle_md5=None, name="x"):
    """A commit as the pipeline leaves it: metadata, schema and dvc.lock's bundle hash."""
    (repo / "models").mkdir(exist_ok=True)
    (repo / "data" / "prepared").mkdir(parents=True, exist_ok=True)
    meta = {
        "model_sha256": model * 8,
        "candidate": "logistic_regression",
        "features": list(features),
    }
    schema = {
        "features": {f: {"kind": "numeric"} for f in features},
        "target": {"name": "y", "labels": ["0", "1"]},
    }
    lock = {
        "stages": {"package": {"outs": [{"path": "models/serving", "md5": bundle_md5 or model}]}}
    }
    (repo / versions.META).write_text(json.dumps(meta))
    (repo / versions.SCHEMA).write_text(json.dumps(schema))
    (repo / "dvc.lock").write_text(yaml.safe_dump(lock))
    _git(repo, "add", "-A")
    _git(repo, "commit", "--allow-empty", "-qm", name)
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


def _register(repo, commit_sha):
    version, _ = versions.next_version(repo, commit_sha)
    versions._api().register(str(repo), versions.ARTIFACT, commit_sha, version=version, message="t")
    return version


@pytest.fixture
def repo(tmp_path):
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "config", "user.name", "Registry Tests")
    _git(tmp_path, "config", "user.email", "registry@tests.invalid")
    return tmp_path


def test_version_numbers_follow_the_rule(repo):
    assert _register(repo, _commit_bundle(repo, model="aaaa")) == "v1.0.0"
    assert _register(repo, _commit_bundle(repo, model="bbbb")) == "v1.1.0"  # a new model
    repackaged = _commit_bundle(repo, model="bbbb", bundle_md5="other")
    assert _register(repo, repackaged) == "v1.1.1"  # same model, bundle differs
    new_contract = _commit_bundle(repo, model="cccc", features=("a", "b", "c"))
    assert _register(repo, new_contract) == "v2.0.0"
    same = _commit_bundle(repo, model="cccc", features=("a", "b", "c"), name="again")
    with pytest.raises(versions.RegistryError, match=r"already registered as v2\.0\.0"):
        versions.next_version(repo, same)


def test_promote_rollback_and_history(repo):
    first = _register(repo, _commit_bundle(repo, model="aaaa"))
    second = _register(repo, _commit_bundle(repo, model="bbbb"))
    with pytest.raises(versions.RegistryError, match="no version is in prod"):
        versions.rollback(repo)
    versions.promote(repo, first, "prod", message="first release")
    with pytest.raises(versions.RegistryError, match="only version prod has held"):
        versions.rollback(repo)
    versions.promote(repo, second, "prod", message="gate passed")
    assert versions.show(repo) == {
        "artifact": "model",
        "latest": "v1.1.0",
        "stages": {"staging": None, "prod": "v1.1.0"},
    }
    assert versions.rollback(repo, message="latency alert") == ("v1.1.0", "v1.0.0")
    assert versions.in_stage(repo, "prod") == "v1.0.0"
    events = [(e.event, e.version, e.stage, e.message) for e in versions.history(repo)]
    assert events[2:] == [
        ("assignment", "v1.0.0", "prod", "first release"),
        ("assignment", "v1.1.0", "prod", "gate passed"),
        ("assignment", "v1.0.0", "prod", "latency alert"),
    ]
    assert all(
        e.author == "Registry Tests <registry@tests.invalid>" for e in versions.history(repo)
    )
    with pytest.raises(versions.RegistryError, match=r"v9\.0\.0 is not registered"):
        versions.promote(repo, "v9.0.0", "prod")
    with pytest.raises(versions.RegistryError, match="stage must be one of"):
        versions.promote(repo, first, "production")
    with pytest.raises(versions.RegistryError, match=r"vMAJOR\.MINOR\.PATCH.*got '1\.2'"):
        versions.register(repo, version="1.2")


@pytest.mark.e2e
@pytest.mark.slow  # 18 s of dvc repro and GTO on a built repository: CI's slow step runs it
def test_register_and_fetch_in_a_pipeline_repository(telco_repo):
    repo = telco_repo
    assert versions.register(repo, message="first")[0] == "v1.0.0"
    with pytest.raises(versions.RegistryError, match=r"already registered as v1\.0\.0"):
        versions.register(repo)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["serve"]["compile"] = False  # the same model, packaged without the ONNX file
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    with pytest.raises(versions.RegistryError, match=r"uncommitted changes to params\.yaml"):
        versions.register(repo)
    run(repo, "dvc", "repro")
    commit(repo, "serve without the compiled model")
    assert versions.register(repo) == (
        "v1.0.1",
        "v1.0.0's model, packaged anew (threshold, compiled)",
    )
    versions.promote(repo, "v1.0.0", "prod")
    fetched = versions.fetch(repo, stage="prod")
    manifest = bundle.verify(fetched)
    assert "compiled/model.onnx" in manifest["files"]  # v1.0.0's bundle, not the workspace's
    assert file_digest(fetched / "model.joblib") == file_digest(repo / "models/model.joblib")
    # the gate: the workspace (v1.0.1, not compiled) against prod (v1.0.0, compiled)
    window = pd.read_parquet(repo / "data/prepared/test.parquet").head(30)
    window.assign(served_probability=0.5).to_parquet(repo / "window.parquet", index=False)
    gated = run(
        repo, sys.executable, "-m", "churnops.cli", "gate", "--holdout", "window.parquet",
        check=False,
    )  # fmt: skip
    assert gated.returncode == 1, gated.stdout + gated.stderr
    assert "FAIL - workspace" in gated.stderr
    assert "vs v1.0.0: compiled" in gated.stderr
    decision = json.loads((repo / ".churnops/gate/decision.json").read_text())
    test_rows = len(pd.read_parquet(repo / "data/prepared/test.parquet"))
    assert decision["rows_from"] == {
        "test_split": test_rows,
        "holdout": 30,
        "holdout_refused_by_contract": 0,
    }
    assert decision["rows"] == test_rows + 30
    assert decision["figures"]["challenger"]["roc_auc_difference"]["difference"] == 0.0
    shown = run(repo, "gto", "show")
    assert "v1.0.1" in shown.stdout
    assert "v1.0.0" in shown.stdout
