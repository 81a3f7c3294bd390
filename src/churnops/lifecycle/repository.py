"""The repository operations retraining is made of: checks before it starts, putting everything
back after a refusal, the pipeline as a DVC experiment, and the push of a release."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from churnops.registry import versions

Say = Callable[[str], None]


class RetrainError(RuntimeError):
    """Retraining cannot go on; the message says why and what to do. The repository is as it
    was before the command."""


def check_ready(repo: Path, params_file: str) -> None:
    """Retraining commits and tags: a git identity, no uncommitted changes to tracked files, and
    a workspace that is what `dvc.lock` says.

    Raises:
        RetrainError: naming what is not ready and what to do.
    """
    try:
        versions.check_identity(repo)
        changed = versions.git(repo, "status", "--porcelain", "--untracked-files=no")
    except versions.RegistryError as exc:
        raise RetrainError(str(exc)) from None
    if changed.strip():
        first = changed.splitlines()[0][3:]
        raise RetrainError(
            f"uncommitted changes ({first}, ...): retraining commits what it changes, so it "
            "starts from a clean work tree; commit or stash them first"
        )
    if not (repo / params_file).is_file():
        raise RetrainError(f"no params file at {repo / params_file}")
    if versions.dvc(repo, "status", "--quiet", check=False).returncode:
        raise RetrainError(
            "the workspace is not what dvc.lock says (dvc status): run `dvc repro` (or `dvc "
            "checkout`) and commit first, so that the champion and the baseline are what HEAD holds"
        )


@contextmanager
def put_back_unless_kept(
    repo: Path, *, data_dir: str, report_dir: str
) -> Iterator[Callable[[], None]]:
    """Put the branch, params.yaml, the workspace and the report folder (committed or not) back
    as they were when the block returns without calling `keep()` or raises. The tracked tree was
    clean at the start; `data_dir` holds git- and DVC-tracked files only, which `git reset` and
    `dvc checkout` restore, and is removed when it did not exist before."""
    kept = False
    created = not (repo / data_dir).exists()

    def keep() -> None:
        nonlocal kept
        kept = True

    with tempfile.TemporaryDirectory(prefix="churnops-retrain-") as saved:
        report = Path(saved) / "report"
        if (repo / report_dir).is_dir():
            shutil.copytree(repo / report_dir, report)
        try:
            yield keep
        finally:
            if not kept:
                versions.git(repo, "reset", "--quiet", "--hard", "HEAD")
                # files the run added inside git-tracked output folders (a figure that the new
                # data made possible): untracked, so `reset` leaves them
                outputs = [p for p in stage_outputs(repo) if (repo / p).exists()]
                if outputs:
                    versions.git(repo, "clean", "--quiet", "--force", "-d", "--", *outputs)
                if created:
                    shutil.rmtree(repo / data_dir, ignore_errors=True)
                shutil.rmtree(repo / report_dir, ignore_errors=True)
                if report.is_dir():
                    shutil.copytree(report, repo / report_dir)
                versions.dvc(repo, "checkout", "--quiet", "--force", check=False)


def stage_outputs(repo: Path) -> list[str]:
    """The paths `dvc.yaml` declares as stage outputs, metrics or plots (interpolated paths
    left out)."""
    if not (repo / "dvc.yaml").is_file():
        return []
    spec = yaml.safe_load((repo / "dvc.yaml").read_text(encoding="utf-8")) or {}
    paths = []
    for stage in (spec.get("stages") or {}).values():
        for key in ("outs", "metrics", "plots"):
            for entry in stage.get(key) or []:
                path = next(iter(entry)) if isinstance(entry, dict) else entry
                if "${" not in str(path):
                    paths.append(str(path))
    return paths


def run_pipeline(repo: Path, name: str, changes: list[str], say: Say) -> None:
    """`dvc exp run` with the params changes, each stage it runs said as it starts.

    Raises:
        RetrainError: the pipeline failed, with the end of its output.
    """
    command = [sys.executable, "-m", "dvc", "exp", "run", "-n", name]
    for change in changes:
        command += ["-S", change]
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    lines: list[str] = []
    with subprocess.Popen(
        command, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as run:
        assert run.stdout is not None
        for line in run.stdout:
            lines.append(line.rstrip())
            if line.startswith("Running stage"):
                say("  " + line.strip())
    if run.returncode:
        tail = "\n".join(lines[-15:])
        raise RetrainError(f"the pipeline failed on the new data version (dvc exp run):\n{tail}")


def push(repo: Path, say: Say) -> list[str]:
    """Data and models to the DVC remote; the commit and the registry's tags to the branch's
    upstream when it has one. A failure is a warning: the release is committed and tagged here."""
    warnings = []
    pushed = versions.dvc(repo, "push", check=False)
    if pushed.returncode:
        said = (pushed.stderr or pushed.stdout).strip().splitlines() or ["no message"]
        warnings.append(
            f"dvc push failed ({said[0][:300]}); the release is committed and tagged here: "
            "run `make push` once the remote is reachable"
        )
    else:
        say("pushed the data version and the model to the DVC remote")
    try:
        upstream = versions.git(repo, "rev-parse", "--abbrev-ref", "@{upstream}").strip()
    except versions.RegistryError:
        warnings.append(
            "the branch has no upstream: the commit and the registry's tags stay in this clone "
            "(git push --follow-tags to share them)"
        )
        return warnings
    try:
        versions.git(repo, "push", "--quiet", "--follow-tags")
        say(f"pushed the commit and the registry's tags to {upstream}")
    except versions.RegistryError as exc:
        warnings.append(f"git push to {upstream} failed: {exc}")
    return warnings
