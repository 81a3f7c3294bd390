"""The repository operations of retraining: a refusal or an error puts everything back, a kept
release stays, and retraining starts only from a clean tree with a git identity."""

from __future__ import annotations

import subprocess

import pytest

from churnops.lifecycle import repository
from tests.pipeline_repo import commit, run


def _git(repo, *args):
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def small_repo(tmp_path):
    """A git + DVC repository with one committed file and a DVC-tracked one."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.name", "Retrain Tests")
    _git(repo, "config", "user.email", "retrain@tests.invalid")
    run(repo, "dvc", "init", "-q")
    (repo / "params.yaml").write_text("prepare: {raw_path: data/raw.csv}\n")
    (repo / "tracked.parquet").write_bytes(b"version 1")
    run(repo, "dvc", "add", "-q", "tracked.parquet")
    commit(repo, "start")
    return repo


def test_a_refusal_puts_back_the_branch_params_workspace_and_report(small_repo):
    repo = small_repo
    head = _git(repo, "rev-parse", "HEAD")
    (repo / "reports" / "gate").mkdir(parents=True)
    (repo / "reports" / "gate" / "decision.md").write_text("the user's own gate run")
    with pytest.raises(RuntimeError, match="the pipeline failed"):
        _change_then_fail(repo)
    assert _git(repo, "rev-parse", "HEAD") == head
    assert _git(repo, "status", "--porcelain") == "?? reports/\n"
    assert (repo / "params.yaml").read_text() == "prepare: {raw_path: data/raw.csv}\n"
    assert not (repo / "data" / "retrain").exists()
    assert (repo / "tracked.parquet").read_bytes() == b"version 1"
    assert (repo / "reports/gate/decision.md").read_text() == "the user's own gate run"


def _change_then_fail(repo):
    with repository.put_back_unless_kept(repo, data_dir="data/retrain", report_dir="reports/gate"):
        (repo / "params.yaml").write_text("prepare: {raw_path: elsewhere.parquet}\n")
        (repo / "data" / "retrain").mkdir(parents=True)
        (repo / "data" / "retrain" / "training.parquet").write_bytes(b"new")
        (repo / "tracked.parquet").unlink()
        (repo / "tracked.parquet").write_bytes(b"overwritten")
        (repo / "reports" / "gate" / "decision.md").write_text("the refused challenger's")
        raise RuntimeError("the pipeline failed")


def test_a_refusal_removes_files_the_run_added_to_output_folders_only(small_repo):
    repo = small_repo
    (repo / "dvc.yaml").write_text(
        "stages:\n  draw:\n    cmd: python draw.py\n    outs:\n"
        "      - out/figures:\n          cache: false\n"
    )
    (repo / "out" / "figures").mkdir(parents=True)
    (repo / "out" / "figures" / "volume.png").write_bytes(b"committed")
    commit(repo, "a pipeline with a git-tracked output folder")
    (repo / "notes.txt").write_text("the user's own, untracked")
    with pytest.raises(RuntimeError, match="refused"):
        _add_a_figure_then_fail(repo)
    assert sorted(p.name for p in (repo / "out" / "figures").iterdir()) == ["volume.png"]
    assert (repo / "notes.txt").read_text() == "the user's own, untracked"
    assert repository.stage_outputs(repo) == ["out/figures"]


def _add_a_figure_then_fail(repo):
    with repository.put_back_unless_kept(repo, data_dir="data/retrain", report_dir="r"):
        (repo / "out" / "figures" / "drift.png").write_bytes(b"made by the refused run")
        raise RuntimeError("refused")


def test_a_kept_release_is_left_in_place(small_repo):
    with repository.put_back_unless_kept(
        small_repo, data_dir="data/retrain", report_dir="reports/gate"
    ) as keep:
        (small_repo / "params.yaml").write_text("changed: true\n")
        keep()
    assert (small_repo / "params.yaml").read_text() == "changed: true\n"


def test_retraining_starts_from_a_clean_tree_and_a_git_identity(small_repo, monkeypatch):
    (small_repo / "params.yaml").write_text("edited: true\n")
    with pytest.raises(repository.RetrainError, match=r"uncommitted changes \(params\.yaml"):
        repository.check_ready(small_repo, "params.yaml")
    _git(small_repo, "checkout", "--", "params.yaml")
    (small_repo / "scratch.txt").write_text("an untracked file is no obstacle")
    repository.check_ready(small_repo, "params.yaml")
    _git(small_repo, "config", "--unset", "user.email")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")  # this machine's own identity
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    with pytest.raises(repository.RetrainError, match=r"user\.email is not set"):
        repository.check_ready(small_repo, "params.yaml")
