"""`churnops audit`: registrations, promotions and a rollback from real GTO tags, and an erasure,
a purge and a retraining from the log's audit table, in one list with who, when and why."""

from __future__ import annotations

import json

from churnops.cli import main
from churnops.lifecycle import audit
from churnops.registry import versions
from churnops.serving import log_retention
from churnops.serving.prediction_log import Prediction, PredictionLog
from tests.test_registry import _commit_bundle, _register, repo  # noqa: F401  (the fixture)


def test_the_trail_names_promotions_rollbacks_erasures_and_purges(repo, monkeypatch, capsys):  # noqa: F811
    first = _register(repo, _commit_bundle(repo, model="aaaa"))
    second = _register(repo, _commit_bundle(repo, model="bbbb"))
    versions.promote(repo, first, "prod", message="first release")
    versions.promote(repo, second, "prod", message="gate passed")
    versions.rollback(repo, message="latency alert")
    log = repo / "logs" / "predictions.sqlite"
    opened = PredictionLog(log)
    opened.record([Prediction("r1", 0, "C-1", "v", "onnx", {"x": 1.0}, 0.4, False, 1.0)])
    opened.close()
    log_retention.erase(log, "C-1", opened.privacy, why="erasure request 12", by="dpo")
    log_retention.purge(log, "2000-01-01T00:00:00+00:00", why="retention", by="ops")
    log_retention.record_event(
        log, "retrain", why="the gate refused the challenger", by="ml",
        details={"status": "refused", "version": None},
    )  # fmt: skip

    trail = audit.trail(repo, log)
    assert [(e["action"], e["why"]) for e in trail] == [
        ("registration", "t"),
        ("registration", "t"),
        ("promotion", "first release"),
        ("promotion", "gate passed"),
        ("rollback", "latency alert"),
        ("erase", "erasure request 12"),
        ("purge", "retention"),
        ("retrain", "the gate refused the challenger"),
    ]
    assert trail[4]["what"] == "v1.0.0 -> prod (was v1.1.0)"
    assert trail[4]["who"] == "Registry Tests <registry@tests.invalid>"
    assert trail[5]["who"] == "dpo"
    assert "C-1" not in json.dumps(trail)

    monkeypatch.chdir(repo)
    assert main(["audit", "--log", str(log)]) == 0
    printed = capsys.readouterr().out
    assert "rollback" in printed
    assert "by dpo: erasure request 12" in printed
    assert main(["audit", "--log", str(log), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 8
