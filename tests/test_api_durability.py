"""A real `churnops serve` process killed with SIGKILL while it answers: every prediction it
acknowledged with 200 is in the prediction log."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx

from churnops.serving.prediction_log import PredictionLog
from tests.servers import start_server, wait_ready


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
        wait_ready(url, server)
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
