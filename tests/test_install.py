"""The package installs alone: `pip install .` into a bare virtual environment (no dev tools, no
DVC), then `churnops --help` and `churnops serve` answer. Slow (a real install): `make
test-slow`."""

from __future__ import annotations

import shutil
import subprocess
import venv
from pathlib import Path

import httpx
import pytest

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
    dvc = subprocess.run([str(python), "-c", "import dvc"], capture_output=True, timeout=60)
    assert dvc.returncode != 0  # serving does not pull in the pipeline's tools
    port = free_port()
    server = subprocess.Popen(
        [
            str(churnops),
            "serve",
            "--port",
            str(port),
            "--model",
            str(folder / "model.joblib"),
            "--meta",
            str(folder / "meta.json"),
            "--schema",
            str(folder / "schema.json"),
            "--compiled",
            str(folder / "compiled"),
            "--log",
            str(tmp_path / "log.sqlite"),
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "server.log").open("wb"),
    )
    server.args_workdir = str(tmp_path)  # where _wait_ready finds its log
    try:
        wait_ready(f"http://127.0.0.1:{port}", server)
        answer = httpx.post(f"http://127.0.0.1:{port}/predict", json=record, timeout=10)
        assert answer.status_code == 200, answer.text
        assert httpx.get(f"http://127.0.0.1:{port}/ready").json()["engine"] == "onnx"
    finally:
        server.terminate()
        server.wait(timeout=30)
