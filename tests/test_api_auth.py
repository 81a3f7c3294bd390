"""Bearer tokens where data changes: /feedback needs the API token when one is set (401 without,
403 wrong), /predict too when asked; outcomes per id are limited; a token is never echoed in an
error; and `churnops serve` refuses to listen beyond loopback without a token unless --insecure."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from churnops.serving import auth
from churnops.serving.settings import settings_from_env
from tests.servers import free_port, model_settings, server_log, start_server, wait_ready
from tests.test_api import _client, started  # noqa: F401  (the fixture)

TOKEN = "an-api-token-of-some-length"


def _feedback(client, record, headers=None):
    return client.post(
        "/feedback", json={"customerID": record["customerID"], "Churn": "Yes"}, headers=headers
    )


def test_feedback_needs_the_api_token_when_one_is_set(started, model_files):  # noqa: F811
    folder, record = model_files
    client = started(_client(folder, api_token=TOKEN))
    assert client.post("/predict", json=record).status_code == 200  # /predict stays open
    missing = _feedback(client, record)
    assert missing.status_code == 401
    assert missing.json() == {
        "error": "unauthorized",
        "detail": "send Authorization: Bearer <API token>",
    }
    wrong = _feedback(client, record, {"Authorization": "Bearer not-the-token-at-all"})
    assert wrong.status_code == 403
    assert TOKEN not in wrong.text
    assert _feedback(client, record, {"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_without_a_token_feedback_is_open_on_loopback(started, model_files):  # noqa: F811
    folder, record = model_files
    client = started(_client(folder))
    assert client.post("/predict", json=record).status_code == 200
    assert _feedback(client, record).status_code == 200


def test_predict_can_need_the_token_too(started, model_files):  # noqa: F811
    folder, record = model_files
    client = started(_client(folder, api_token=TOKEN, predict_auth=True))
    assert client.post("/predict", json=record).status_code == 401
    ok = client.post("/predict", json=record, headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    with pytest.raises(ValueError, match=r"predict_auth .* no API token is set"):
        settings_from_env(None, predict_auth=True)
    with pytest.raises(ValueError, match=r"api_token .*got 5 characters") as raised:
        settings_from_env(None, api_token="short")
    assert "short" not in str(raised.value)


def test_outcomes_per_id_are_limited(started, model_files):  # noqa: F811
    folder, record = model_files
    client = started(_client(folder, max_outcomes_per_id=3))
    record = {**record, "customerID": "limited-1"}  # an id of its own in the shared log
    assert client.post("/predict", json=record).status_code == 200
    counts = [_feedback(client, record).json().get("outcomes") for _ in range(3)]
    assert counts == [1, 2, 3]
    refused = _feedback(client, record)
    assert refused.status_code == 429
    assert "3 outcomes are already recorded for this id, the limit is 3" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("host", "exposed"),
    [("127.0.0.1", False), ("::1", False), ("localhost", False), ("0.0.0.0", True),
     ("10.1.2.3", True), ("churn.example.com", True)],
)  # fmt: skip
def test_what_listens_beyond_this_machine(host, exposed):
    assert auth.exposed(host) is exposed


def test_serve_refuses_all_interfaces_without_a_token_unless_insecure(model_files, tmp_path):
    folder, record = model_files
    env = model_settings(folder, tmp_path)
    refused = subprocess.run(
        [sys.executable, "-m", "churnops.cli", "serve", "--host", "0.0.0.0",
         "--port", str(free_port())],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "--host 0.0.0.0 listens beyond this machine and no API token is set" in refused.stderr
    server, url = start_server(folder, tmp_path, {}, "--host", "0.0.0.0", "--insecure")
    try:
        wait_ready(url, server)
        assert httpx.post(f"{url}/predict", json=record, timeout=10).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "error" not in server_log(server).lower()
