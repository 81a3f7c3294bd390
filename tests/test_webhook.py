"""Alert delivery to a webhook, against a real local HTTP receiver: a warning arrives as generic
JSON or a Slack-compatible message, failures are retried with backoff up to the limit, a
refusal is not retried, a slow or absent receiver costs a bounded time and never raises."""

from __future__ import annotations

import json
import time

import pytest

from churnops.monitoring import webhook
from tests.servers import Receiver, free_port

FIRED = {
    "level": "warning",
    "counts": {"info": 0, "warning": 1, "critical": 0},
    "alerts": [
        {
            "rule": "feature_drift",
            "level": "warning",
            "metric": "drifted_columns",
            "condition": "> 0",
            "observed": 1,
            "columns": ["MonthlyCharges"],
        }
    ],
}
DECISION = {"retrain": True, "triggers": {"data_drift": "1 column drifted"}}
SETTINGS = {
    "url": None,
    "format": "json",
    "min_level": "warning",
    "timeout_seconds": 2,
    "retries": 2,
}
CONTEXT = {"batch": "data/simulated/batch.parquet", "model": "abc123"}


@pytest.fixture
def receiver():
    made = []

    def make(**kwargs):
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.mark.parametrize("fmt", ["json", "slack"])
def test_a_warning_reaches_the_webhook(receiver, fmt):
    hook = receiver()
    sent = webhook.notify(FIRED, DECISION, {**SETTINGS, "url": hook.url, "format": fmt}, CONTEXT)
    assert sent["delivered"] is True
    assert (sent["attempts"], sent["status"]) == (1, 200)
    assert "url" not in json.dumps(sent)  # a webhook URL may hold a token: never recorded
    (body,) = hook.bodies
    if fmt == "json":
        assert body["level"] == "warning"
        assert body["alerts"][0]["columns"] == ["MonthlyCharges"]
        assert body["retrain"] is True
        assert body["batch"] == CONTEXT["batch"]
    else:
        assert body["text"].startswith("*churnops monitor: WARNING* (1 warning; batch ")
        assert "feature_drift: drifted_columns 1 > 0 [MonthlyCharges]" in body["text"]


def test_the_url_may_come_from_the_environment(receiver, monkeypatch):
    hook = receiver()
    monkeypatch.setenv(webhook.URL_ENV, hook.url)
    assert webhook.notify(FIRED, DECISION, SETTINGS, CONTEXT)["delivered"] is True


def test_below_the_level_or_without_a_url_nothing_is_sent(receiver, monkeypatch):
    monkeypatch.delenv(webhook.URL_ENV, raising=False)
    hook = receiver()
    info = {**FIRED, "level": "info"}
    assert webhook.notify(info, DECISION, {**SETTINGS, "url": hook.url}, CONTEXT) is None
    assert (
        webhook.notify({**FIRED, "level": None}, DECISION, {**SETTINGS, "url": hook.url}, CONTEXT)
        is None
    )
    assert webhook.notify(FIRED, DECISION, SETTINGS, CONTEXT) is None
    assert hook.bodies == []


def test_server_errors_are_retried_with_backoff(receiver):
    hook = receiver(statuses=[503, 500])
    waits = []
    sent = webhook.deliver(hook.url, {"text": "x"}, timeout=2, retries=3, sleep=waits.append)
    assert (sent["delivered"], sent["attempts"], sent["status"]) == (True, 3, 200)
    assert waits == [0.5, 1.0]
    assert len(hook.bodies) == 3


def test_a_refusal_is_not_retried_and_gives_up_within_the_limit(receiver):
    hook = receiver(statuses=[400])
    sent = webhook.deliver(hook.url, {"text": "x"}, timeout=2, retries=3, sleep=lambda s: None)
    assert (sent["delivered"], sent["attempts"], sent["error"]) == (False, 1, "HTTP 400")
    always = receiver(statuses=[503] * 10)
    sent = webhook.deliver(always.url, {"text": "x"}, timeout=2, retries=2, sleep=lambda s: None)
    assert (sent["delivered"], sent["attempts"], sent["status"]) == (False, 3, 503)


def test_an_absent_or_slow_receiver_never_raises(receiver):
    closed = f"http://127.0.0.1:{free_port()}/hook"
    sent = webhook.deliver(closed, {"text": "x"}, timeout=1, retries=1, sleep=lambda s: None)
    assert sent["delivered"] is False
    assert "ConnectionRefused" in sent["error"] or "refused" in sent["error"]
    slow = receiver(delay=1.5)
    start = time.monotonic()
    sent = webhook.deliver(slow.url, {"text": "x"}, timeout=0.3, retries=0, sleep=lambda s: None)
    assert sent["delivered"] is False
    assert time.monotonic() - start < 1.4  # the timeout, not the receiver, set the wait


def test_deliveries_are_recorded_as_json_lines(tmp_path):
    log = tmp_path / "logs" / "alerts.jsonl"
    webhook.record({"level": "warning", "delivered": False, "error": "HTTP 500"}, log)
    webhook.record({"level": "critical", "delivered": True, "error": None}, log)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["level"] for line in lines] == ["warning", "critical"]
    assert all(line["at"].endswith("+00:00") for line in lines)
