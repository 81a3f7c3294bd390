"""Real `churnops serve` processes for the tests: started on a free loopback port, waited for,
their stderr kept in a file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    folder, workdir, settings: dict[str, str], *options: str
) -> tuple[subprocess.Popen, str]:
    """`churnops serve [options]` on a free port (loopback unless `options` give --host) with the
    model in `folder` and `settings` (CHURNOPS_* variables) on top; the process and its URL."""
    return serve(workdir, workdir, {**model_settings(folder, workdir), **settings}, *options)


def model_settings(folder, workdir) -> dict[str, str]:
    """The CHURNOPS_* variables that serve the model in `folder`, logging in `workdir`."""
    return {
        "CHURNOPS_MODEL": str(folder / "model.joblib"),
        "CHURNOPS_META": str(folder / "meta.json"),
        "CHURNOPS_SCHEMA": str(folder / "schema.json"),
        "CHURNOPS_COMPILED": str(folder / "compiled"),
        "CHURNOPS_LOG": str(workdir / "predictions.sqlite"),
        "CHURNOPS_PARAMS": str(workdir / "no-params.yaml"),
    }


def serve(cwd, workdir, settings: dict[str, str], *options: str) -> tuple[subprocess.Popen, str]:
    """`churnops serve [options]` in `cwd` on a free loopback port, with `settings` (CHURNOPS_*
    variables) in its environment and its stderr in `workdir`/server.log; the process and URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "churnops.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         *options],
        cwd=cwd,
        env={**os.environ, **settings},
        stdout=subprocess.DEVNULL,
        # a file, not a pipe: a pipe nobody reads would block the server once it fills
        stderr=(workdir / "server.log").open("wb"),
    )  # fmt: skip
    server.args_workdir = str(workdir)  # where its log is
    return server, f"http://127.0.0.1:{port}"


def server_log(server: subprocess.Popen) -> str:
    """The tail of what the server started by `start_server` wrote to stderr."""
    return (Path(server.args_workdir) / "server.log").read_text(errors="replace")[-3000:]


def wait_ready(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
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


class Receiver:
    """A local HTTP endpoint that records the JSON bodies POSTed to it and answers each with the
    next status of `statuses` (then 200), after `delay` seconds: a webhook for the tests."""

    def __init__(self, statuses=(), delay: float = 0.0) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.bodies: list = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                time.sleep(delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
