"""The package installs alone: `pip install .` into a bare virtual environment gives the serving
dependencies only (no DVC, Evidently, matplotlib, GTO or skl2onnx), `churnops --help` answers,
and the container's entry point, run with the Dockerfile's environment, serves. Slow (a real
install): `make test-slow`."""

from __future__ import annotations

import os
import shutil
import subprocess
import venv
from pathlib import Path

import httpx
import pytest

from tests import test_container
from tests.conftest import ROOT
from tests.servers import free_port, wait_ready

pytestmark = pytest.mark.slow


# the project's own folders that a package build does not need (only at the top: the package
# has a `data` subpackage of its own)
_TOP = {
    *(".venv", ".venv-pycaret", ".venv-mlflow", ".git", ".dvc"),
    *("data", "reports", "models", "logs", ".tmp", ".churnops"),
}


def _leave_out(folder: str, names: list[str]) -> set[str]:
    top = {n for n in names if n in _TOP} if Path(folder) == ROOT else set()
    return top | {n for n in names if n.endswith(".egg-info") or n == "__pycache__"}


def test_the_package_installs_alone_and_serves(model_files, tmp_path):
    folder, record = model_files
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the work tree
    shutil.copytree(
        ROOT,
        source,
        ignore=_leave_out,
    )
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(source)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    churnops = env_dir / "bin" / "churnops"
    helped = subprocess.run([str(churnops), "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0, helped.stderr
    assert "serve" in helped.stdout
    # the container's entry point with the container's environment: the bundle "mounted" from
    # the fixture, the log in a folder of its own, a free port, and the token it requires
    bundle = tmp_path / "model"
    bundle.mkdir()
    for source, name in (
        ("model.joblib", "model.joblib"),
        ("meta.json", "model_meta.json"),
        ("schema.json", "schema.json"),
    ):
        shutil.copy(folder / source, bundle / name)
    shutil.copytree(folder / "compiled", bundle / "compiled")
    port = free_port()
    env = {
        name: value.replace("/srv/model", str(bundle)).replace("/srv/logs", str(tmp_path))
        for name, value in test_container.environment().items()
    }
    env.update(CHURNOPS_PORT=str(port), CHURNOPS_API_TOKEN="a-token-for-the-install-test")
    command = [str(env_dir / "bin" / test_container.entrypoint()[0]),
               *test_container.entrypoint()[1:]]  # fmt: skip
    server = subprocess.Popen(
        command,
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], **env},
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "server.log").open("wb"),
    )
    server.args_workdir = str(tmp_path)  # where _wait_ready finds its log
    try:
        wait_ready(f"http://127.0.0.1:{port}", server)
        answer = httpx.post(f"http://127.0.0.1:{port}/predict", json=record, timeout=10)
        assert answer.status_code == 200, answer.text
        assert httpx.get(f"http://127.0.0.1:{port}/ready").json()["engine"] == "onnx"
        health = test_container.instructions()
        assert any(k == "HEALTHCHECK" and ":8000/health" in rest for k, rest in health)
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert (tmp_path / "predictions.sqlite").is_file()  # the log went to the logs volume
    for pipeline_only in ("dvc", "evidently", "matplotlib", "gto", "skl2onnx"):
        found = subprocess.run([str(python), "-c", f"import {pipeline_only}"],
                               capture_output=True, timeout=60)  # fmt: skip
        assert found.returncode != 0, f"{pipeline_only} is not a serving dependency"
