"""A real `churnops serve` process killed with SIGKILL while it answers: every prediction it
acknowledged with 200 is in the prediction log."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from churnops.serving.prediction_log import PredictionLog


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(folder, workdir, settings: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """`churnops serve` on a free loopback port with the model in `folder` and `settings`
    (CHURNOPS_* variables) on top; returns the process and its URL."""
    port = _free_port()
    env = {
        **os.environ,
        "CHURNOPS_MODEL": str(folder / "model.joblib"),
        "CHURNOPS_META": str(folder / "meta.json"),
        "CHURNOPS_SCHEMA": str(folder / "schema.json"),
        "CHURNOPS_COMPILED": str(folder / "compiled"),
        "CHURNOPS_LOG": str(workdir / "predictions.sqlite"),
        "CHURNOPS_PARAMS": str(workdir / "no-params.yaml"),
        **settings,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "churnops.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        # a file, not a pipe: a pipe nobody reads would block the server once it fills
        stderr=(workdir / "server.log").open("wb"),
    )
    server.args_workdir = str(workdir)  # where its log is
    return server, f"http://127.0.0.1:{port}"


def server_log(server: subprocess.Popen) -> str:
    """The tail of what the server started by `start_server` wrote to stderr."""
    return (Path(server.args_workdir) / "server.log").read_text(errors="replace")[-3000:]


def _wait_ready(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"server exited: {server_log(server)}")
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become ready")


def test_no_acknowledged_prediction_is_lost_when_the_server_is_killed(model_files, tmp_path):
    folder, record = model_files
    log_path = tmp_path / "predictions.sqlite"
    server, url = start_server(folder, tmp_path, {"CHURNOPS_LOG": str(log_path)})
    acknowledged: list[str] = []
    lock, stop = threading.Lock(), threading.Event()

    def send() -> None:
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                try:
                    answer = client.post(f"{url}/predict", json=[record, record])
                except httpx.TransportError:
                    return
                if answer.status_code == 200:
                    with lock:
                        acknowledged.append(answer.json()["request_id"])

    try:
        _wait_ready(url, server)
        senders = [threading.Thread(target=send) for _ in range(4)]
        for sender in senders:
            sender.start()
        while len(acknowledged) < 300 and server.poll() is None:
            time.sleep(0.01)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        stop.set()
        if server.poll() is None:
            server.kill()
    for sender in senders:
        sender.join(timeout=10)

    assert len(acknowledged) >= 300
    logged = PredictionLog(log_path).read()
    counts = logged.groupby("request_id").size()
    missing = set(acknowledged) - set(counts.index)
    assert not missing, f"{len(missing)} acknowledged predictions are not in the log"
    assert (counts[acknowledged] == 2).all()  # both customers of each request
