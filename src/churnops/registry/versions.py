"""The registry is the git repository: a version of the serving bundle is a GTO tag
`model@vX.Y.Z` on the commit whose `dvc.lock` holds it, a stage is a tag `model#stage#N`, and
the annotated tags say who did what, when and why. Versions are fetched from the DVC cache or
remote by their tag (`dvc artifacts get`) and checked file by file before use.

Version numbers follow a rule: the first is v1.0.0; a new input contract (features, kinds or
target differ from the previous version's schema) bumps the major number; a new model on the
same contract the minor; a bundle that differs only in packaging (threshold, compiled model) the
patch. A commit whose model is already registered is refused.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from churnops.registry import bundle

ARTIFACT = "model"
STAGES = ("staging", "prod")
META = "models/model_meta.json"
SCHEMA = "data/prepared/schema.json"
LOCK_OUT = "models/serving"


class RegistryError(RuntimeError):
    """A registry operation cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Event:
    """One registration or stage assignment, from its annotated tag."""

    when: str
    event: str
    version: str
    stage: str | None
    commit: str
    author: str
    message: str
    tag: str


def git(repo: Path, *args: str) -> str:
    """`git args` in `repo`; its output.

    Raises:
        RegistryError: git failed, with what it said.
    """
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if result.returncode:
        raise RegistryError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def _api() -> Any:
    import gto.api  # GTO reads the repository's tags; imported when the registry is used

    return gto.api


def check_identity(repo: Path) -> None:
    """GTO writes annotated tags: git needs a name and an email."""
    for key in ("user.name", "user.email"):
        found = subprocess.run(
            ["git", "config", key], cwd=repo, capture_output=True, text=True, check=False
        )
        if not found.stdout.strip():
            raise RegistryError(
                f"git {key} is not set: the registry's tags record who made them "
                f"(git config {key} ...)"
            )


def history(repo: Path) -> list[Event]:
    """Every registration and assignment, oldest first."""
    from gto.exceptions import ArtifactNotFound

    try:
        events = _api().history(str(repo), ARTIFACT, ascending=True)
    except ArtifactNotFound:
        return []
    # tags made within one second share a timestamp: then the tag's own order decides (a
    # version's number, an assignment's counter N in model#stage#N)
    events = sorted(events, key=lambda e: (e["timestamp"], *_order(e["ref"])))
    return [
        Event(
            when=e["timestamp"].isoformat(),
            event=e["event"],
            version=e["version"],
            stage=e["stage"],
            commit=e["commit"],
            author=f"{e['author']} <{e['author_email']}>",
            message=e["message"] or "",
            tag=e["ref"],
        )
        for e in events
        if e["event"] in ("registration", "assignment")
    ]


def _order(tag: str) -> tuple[int, tuple[int, ...]]:
    if "#" in tag:
        return 1, (int(tag.rsplit("#", 1)[1]),)
    return 0, _semver(tag.split("@", 1)[1])


def versions(repo: Path) -> dict[str, str]:
    """Registered version -> commit."""
    return {e.version: e.commit for e in history(repo) if e.event == "registration"}


def check_registered(repo: Path, version: str | None) -> None:
    """Raise RegistryError naming the registered versions unless `version` is one."""
    known = versions(repo)
    if version not in known:
        raise RegistryError(f"{version} is not registered; registered: {list(known)}")


def in_stage(repo: Path, stage: str) -> str | None:
    """The version a stage points to now (its latest assignment), or None."""
    assignments = [e for e in history(repo) if e.event == "assignment" and e.stage == stage]
    return max(assignments, key=lambda e: _order(e.tag)).version if assignments else None


def show(repo: Path) -> dict[str, Any]:
    """The latest version and the version in each stage."""
    known = versions(repo)
    return {
        "artifact": ARTIFACT,
        "latest": max(known, key=_semver) if known else None,
        "stages": {stage: in_stage(repo, stage) for stage in STAGES},
    }


def _at(repo: Path, commit: str, path: str) -> dict[str, Any]:
    return json.loads(git(repo, "show", f"{commit}:{path}"))


def next_version(repo: Path, commit: str) -> tuple[str, str]:
    """The version number the rule gives the bundle at `commit`, and why.

    Raises:
        RegistryError: the commit's model is already registered.
    """
    known = versions(repo)
    if not known:
        return "v1.0.0", "the first version"
    meta, schema = _at(repo, commit, META), _at(repo, commit, SCHEMA)
    digest = bundle_digest(repo, commit)
    for version, at in known.items():
        if bundle_digest(repo, at) == digest:
            raise RegistryError(
                f"this bundle (model {meta['model_sha256'][:12]}) is already registered as "
                f"{version} (commit {at[:8]})"
            )
    last = max(known, key=_semver)
    before_meta, before_schema = _at(repo, known[last], META), _at(repo, known[last], SCHEMA)
    major, minor, patch = _semver(last)
    if _contract(schema) != _contract(before_schema):
        return f"v{major + 1}.0.0", f"the input contract differs from {last}'s"
    if meta["model_sha256"] != before_meta["model_sha256"]:
        return f"v{major}.{minor + 1}.0", f"a new model on {last}'s input contract"
    return f"v{major}.{minor}.{patch + 1}", f"{last}'s model, packaged anew (threshold, compiled)"


def bundle_digest(repo: Path, commit: str) -> str:
    """The serving bundle's hash in the commit's dvc.lock."""
    import yaml

    lock = yaml.safe_load(git(repo, "show", f"{commit}:dvc.lock"))
    for stage in (lock.get("stages") or {}).values():
        for out in stage.get("outs") or []:
            if out.get("path") == LOCK_OUT:
                return str(out["md5"])
    raise RegistryError(f"commit {commit[:8]}'s dvc.lock has no {LOCK_OUT}: run the pipeline")


def _semver(version: str) -> tuple[int, int, int]:
    major, minor, patch = (int(p) for p in version.lstrip("v").split("."))
    return major, minor, patch


def _contract(schema: Mapping[str, Any]) -> Any:
    features = {n: f["kind"] for n, f in schema["features"].items()}
    return features, schema["target"]


def check_committed(repo: Path) -> str:
    """HEAD's commit, when its `dvc.lock` holds the workspace's pipeline (nothing to commit,
    nothing stale).

    Raises:
        RegistryError: naming what is uncommitted or stale.
    """
    dirty = git(repo, "status", "--porcelain", "--", "dvc.lock", "params.yaml", META, SCHEMA)
    if dirty.strip():
        raise RegistryError(
            f"uncommitted changes to {dirty.split()[-1]}: commit the pipeline's results first "
            "(a version is a commit)"
        )
    status = dvc(repo, "status", "--quiet", check=False)
    if status.returncode:
        raise RegistryError(
            "the workspace is not what dvc.lock says (dvc status): run `dvc repro` and commit"
        )
    return git(repo, "rev-parse", "HEAD").strip()


def register(repo: Path, *, version: str | None = None, message: str = "") -> tuple[str, str]:
    """Tag HEAD's bundle as a new version (by the rule, or `version`); returns it and why."""
    check_identity(repo)
    if version is not None and not re.fullmatch(r"v\d+\.\d+\.\d+", version):
        raise RegistryError(f"a version is vMAJOR.MINOR.PATCH, e.g. v1.2.0; got {version!r}")
    commit = check_committed(repo)
    why = "given"
    if version is None:
        version, why = next_version(repo, commit)
    elif version in versions(repo):
        raise RegistryError(f"{version} is already registered")
    meta = _at(repo, commit, META)
    note = f"{message}; " if message else ""
    text = f"{note}model {meta['model_sha256'][:12]} ({meta['candidate']}); version: {why}"
    gate = repo / "reports" / "gate" / "decision.json"
    if gate.is_file():
        from churnops.files import file_digest

        text += f"; gate report sha256 {file_digest(gate)}"
    _api().register(str(repo), ARTIFACT, commit, version=version, message=text)
    return version, why


def promote(repo: Path, version: str, stage: str, *, message: str = "") -> None:
    """Assign `stage` to `version` (a new tag; the stage's history is kept)."""
    check_identity(repo)
    if stage not in STAGES:
        raise RegistryError(f"stage must be one of {list(STAGES)}, got {stage!r}")
    check_registered(repo, version)
    if in_stage(repo, stage) == version:
        raise RegistryError(f"{version} is already in {stage}")
    # force: a version that held the stage before (a rollback) gets a new assignment tag
    _api().assign(
        str(repo),
        ARTIFACT,
        stage,
        version=version,
        message=message or f"promote to {stage}",
        force=True,
    )


def rollback(repo: Path, stage: str = "prod", *, message: str = "") -> tuple[str, str]:
    """Point `stage` back at the version it held before the current one; returns (from, to)."""
    current = in_stage(repo, stage)
    if current is None:
        raise RegistryError(f"no version is in {stage}: nothing to roll back")
    earlier = [
        e.version
        for e in history(repo)
        if e.event == "assignment" and e.stage == stage and e.version != current
    ]
    if not earlier:
        raise RegistryError(f"{current} is the only version {stage} has held: no earlier one")
    previous = earlier[-1]
    promote(repo, previous, stage, message=message or f"rollback from {current}")
    return current, previous


def dvc(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`dvc args` in `repo` (this interpreter's DVC, analytics off).

    Raises:
        RegistryError: DVC failed and `check` is set, with what it said.
    """
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    command = [sys.executable, "-m", "dvc", *args]
    result = subprocess.run(command, cwd=repo, capture_output=True, text=True, env=env, check=False)
    if check and result.returncode:
        raise RegistryError(f"dvc {' '.join(args)}: {(result.stderr or result.stdout).strip()}")
    return result


def fetch(repo: Path, *, version: str | None = None, stage: str | None = None) -> Path:
    """The bundle of a version (or of the version in a stage), from the DVC cache or remote,
    in `.churnops/registry/model@VERSION` of the repository, checked file by file.

    Raises:
        RegistryError: the version or stage is unknown, or it cannot be fetched.
        bundle.BundleError: a fetched file does not match its sha256.
    """
    if (version is None) == (stage is None):
        raise RegistryError("give a version or a stage")
    if stage is not None:
        version = in_stage(repo, stage)
        if version is None:
            raise RegistryError(f"no version is in stage {stage!r}: promote one first")
    check_registered(repo, version)
    target = repo / ".churnops" / "registry" / f"{ARTIFACT}@{version}"
    if target.is_dir():
        try:
            bundle.verify(target)
            return target
        except bundle.BundleError:
            shutil.rmtree(target)  # a partial or changed copy: fetch it again
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    dvc(repo, "artifacts", "get", ".", ARTIFACT, "--rev", version, "-o", str(partial))
    bundle.verify(partial)
    partial.rename(target)
    return target


def fetch_file(repo: Path, path: str, version: str, out: Path) -> Path:
    """A DVC-tracked file as it was at a registered version's commit (cache, else remote).

    Raises:
        RegistryError: the version is unknown or the file cannot be fetched.
    """
    check_registered(repo, version)
    out.unlink(missing_ok=True)
    dvc(repo, "get", ".", path, "--rev", f"{ARTIFACT}@{version}", "-o", str(out))
    return out
