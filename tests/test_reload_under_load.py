"""Hot reload under load, on a real server serving the registry's prod stage: 16 clients keep
predicting through a promotion (reloaded by `churnops registry promote --reload`) and a rollback
(reloaded by SIGHUP); no request fails, every answer names the old or the new model, and the
prediction log names the same model for the same request."""

from __future__ import annotations

import signal
import sys
import threading
import time

import httpx
import pandas as pd
import pytest
import yaml

from churnops.files import read_json
from churnops.registry import versions
from churnops.serving.prediction_log import PredictionLog
from tests.pipeline_repo import commit, run
from tests.servers import serve, server_log, wait_ready

pytestmark = pytest.mark.slow
TOKEN = "reload-test-admin-token"


def _version(repo) -> str:
    return read_json(repo / "models/model_meta.json")["model_sha256"][:12]


def _record(repo) -> dict:
    row = pd.read_parquet(repo / "data/prepared/test.parquet").iloc[0]
    features = list(read_json(repo / "data/prepared/schema.json")["features"])
    return {c: (None if pd.isna(row[c]) else row[c]) for c in features}


def test_no_request_fails_through_a_promotion_and_a_rollback(telco_repo, tmp_path, monkeypatch):
    monkeypatch.setenv("CHURNOPS_ADMIN_TOKEN", TOKEN)
    repo = telco_repo
    versions.register(repo)
    versions.promote(repo, "v1.0.0", "prod")
    old = _version(repo)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["prepare"]["test_size"] = 0.25  # other training rows: another model
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(repo, "dvc", "repro")
    commit(repo, "retrained")
    assert versions.register(repo)[0] == "v1.1.0"
    new = _version(repo)
    assert new != old

    log_path = tmp_path / "log.sqlite"
    settings = {"CHURNOPS_ADMIN_TOKEN": TOKEN, "CHURNOPS_LOG": str(log_path)}
    server, url = serve(repo, tmp_path, settings, "--stage", "prod")
    answers: list[tuple[int, str | None, str | None]] = []
    stop = threading.Event()
    body = _record(repo)

    def client():
        with httpx.Client(base_url=url, timeout=30) as http:
            while not stop.is_set():
                try:
                    r = http.post("/predict", json=body)
                    ok = r.status_code == 200
                    answers.append(
                        (r.status_code, r.json().get("model_version") if ok else r.text,
                         r.json().get("request_id") if ok else None)
                    )  # fmt: skip
                except httpx.HTTPError as exc:
                    answers.append((0, repr(exc), None))

    try:
        wait_ready(url, server, seconds=120)
        threads = [threading.Thread(target=client) for _ in range(16)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        promoted = run(
            repo, sys.executable, "-m", "churnops.cli", "registry", "promote", "v1.1.0",
            "--stage", "prod", "--reload", url,
        )  # fmt: skip
        assert f"{old} -> {new}" in promoted.stdout, promoted.stdout + promoted.stderr
        time.sleep(1.5)
        versions.rollback(repo, message="drill")
        server.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while httpx.get(f"{url}/model").json()["registry"]["version"] != "v1.0.0":
            assert time.monotonic() < deadline, server_log(server)
            time.sleep(0.2)
        time.sleep(1.0)
        stop.set()
        for t in threads:
            t.join()
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)

    failed = [a for a in answers if a[0] != 200]
    assert failed == [], (failed[:5], server_log(server))
    seen = [a[1] for a in answers]
    assert set(seen) == {old, new}
    assert seen[-1] == old  # rolled back
    logged = PredictionLog(log_path).read().set_index("request_id")["model_version"]
    assert all(logged[request] == version for _, version, request in answers)
    assert len(answers) > 100
    print(
        f"\n{len(answers)} answers, {len(failed)} failed; old {old}: {seen.count(old)}, "
        f"new {new}: {seen.count(new)}; every one logged under the model that answered"
    )
