"""The A/B analysis on logs built with known counts: the guide's example is no-go at its planned
sample (and its chi-square p-value is reported), a clear win is go, a win that costs too many
offers is no-go, a sample-ratio mismatch is invalid, an early look keeps running, and customers
are counted once, in their arm, with their latest outcome."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from churnops.abtest import analysis
from churnops.cli import main
from churnops.serving.prediction_log import Prediction, PredictionLog
from tests.conftest import TEST_PARAMS

GUARDRAILS = {
    "max_offer_rate_increase": 0.05,
    "max_latency_ratio": 1.5,
    "max_error_rate_increase": 0.001,
}


def _arm(arm, customers, positives, *, offered=0.3, latency=1.0, prefix=None):
    """Log rows of one arm: `customers` ids, the first `positives` with outcome 1."""
    prefix = prefix or arm
    return pd.DataFrame(
        {
            "record_id": [f"{prefix}-{i}" for i in range(customers)],
            "arm": arm,
            "model_version": f"model-{arm}",
            "decision": [i < offered * customers for i in range(customers)],
            "latency_ms": latency,
            "logged_at": "2026-12-01T00:00:00+00:00",
            "outcome": [1.0 if i < positives else 0.0 for i in range(customers)],
        }
    )


def _analyze(rows, planned, better="lower", guardrails=GUARDRAILS, failures=None):
    return analysis.analyze(
        rows,
        failures=failures,
        arms=["control", "challenger"],
        shares=[0.5, 0.5],
        planned=planned,
        alpha=0.05,
        better=better,
        guardrails=guardrails,
    )


def test_the_guides_example_is_no_go_at_its_planned_sample():
    rows = pd.concat([_arm("control", 1000, 120), _arm("challenger", 1000, 140)])
    report = _analyze(rows, planned=1000, better="higher")
    assert report["chi_square"]["p_value"] == pytest.approx(0.2065, abs=1e-4)
    assert report["arms"]["challenger"]["rate"] == 0.14
    assert report["difference"]["value"] == pytest.approx(0.02)
    assert report["sequential"]["final"] is True
    assert report["verdict"] == "no-go"
    assert "no significant difference at the planned sample" in report["reason"]


def test_a_clear_win_is_go_and_its_interval_excludes_zero():
    rows = pd.concat([_arm("control", 1000, 300), _arm("challenger", 1000, 200)])
    report = _analyze(rows, planned=1000)
    assert report["verdict"] == "go", report["reason"]
    assert report["difference"]["high"] < 0
    assert report["relative_lift"]["value"] == pytest.approx(200 / 300 - 1, abs=1e-6)


def test_a_win_that_breaks_a_guardrail_is_no_go():
    rows = pd.concat(
        [_arm("control", 1000, 300, offered=0.3), _arm("challenger", 1000, 200, offered=0.5)]
    )
    report = _analyze(rows, planned=1000)
    assert report["verdict"] == "no-go"
    assert "offer_rate_increase" in report["reason"]


def test_a_win_whose_model_fails_more_often_is_no_go():
    rows = pd.concat([_arm("control", 1000, 300), _arm("challenger", 1000, 200)])
    failures = pd.DataFrame({"arm": ["challenger"] * 3 + ["control"]})
    report = _analyze(rows, planned=1000, failures=failures)
    challenger = report["arms"]["challenger"]
    assert (challenger["predictions"], challenger["errors"]) == (1000, 3)
    assert challenger["error_rate"] == pytest.approx(3 / 1003, abs=1e-6)
    (check,) = [g for g in report["guardrails"] if g["name"] == "error_rate_increase"]
    assert check["value"] == pytest.approx(3 / 1003 - 1 / 1001, abs=1e-6)
    assert check["passed"] is False
    assert report["verdict"] == "no-go"
    assert "error_rate_increase" in report["reason"]
    one_more = _analyze(rows, planned=1000, failures=failures.iloc[2:])  # 1 each: it holds
    assert one_more["verdict"] == "go", one_more["reason"]


def test_a_sample_ratio_mismatch_makes_the_result_invalid_not_a_loss():
    rows = pd.concat([_arm("control", 1000, 300), _arm("challenger", 850, 170)])
    report = _analyze(rows, planned=800)
    assert report["srm"]["p_value"] < 0.001
    assert report["verdict"] == "invalid"
    assert "sample-ratio mismatch" in report["reason"]


def test_an_early_look_keeps_running():
    rows = pd.concat([_arm("control", 500, 150), _arm("challenger", 500, 130)])
    report = _analyze(rows, planned=5000)
    assert report["verdict"] == "keep running"
    assert report["sequential"]["information"] == 0.1


def test_customers_count_once_in_their_arm_with_their_latest_outcome():
    rows = pd.DataFrame(
        {
            "record_id": ["a", "a", "b", "b", None],
            "arm": ["control", "control", "control", "challenger", "control"],
            "model_version": "m",
            "decision": [True, False, True, True, False],
            "latency_ms": 1.0,
            "logged_at": "t",
            "outcome": [None, 1.0, 0.0, 0.0, None],
        }
    )
    units, left_out = analysis.units(rows)
    assert units.to_dict("index") == {"a": {"arm": "control", "outcome": 1.0, "offered": False}}
    assert left_out == {"without_id": 1, "in_two_arms": 1}


def _log(path, arms, *, outcomes=True):
    log = PredictionLog(path)
    for arm, customers, positives in arms:
        log.record(
            [
                Prediction(
                    f"{arm}{i}",
                    0,
                    f"{arm}-{i}",
                    f"model-{arm}",
                    "onnx",
                    {"x": 1.0},
                    0.5,
                    i % 3 == 0,
                    1.0,
                    arm=arm,
                    experiment="exp",
                )
                for i in range(customers)
            ]
        )
        for i in range(customers if outcomes else 0):
            log.record_outcome(positive=i < positives, record_id=f"{arm}-{i}")
    log.close()


def _params(tmp_path, mde=-0.15):
    params = yaml.safe_load(TEST_PARAMS.read_text())
    params["abtest"].update(name="exp", mde=mde)  # -0.15 from 0.3: about 160 per arm
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def _args(tmp_path, baseline):
    return [
        *("abtest", "analyze", "--log", str(tmp_path / "log.sqlite")),
        *("--params", str(_params(tmp_path)), "--baseline", baseline),
        *("--out-dir", str(tmp_path / "out")),
    ]


def test_analyze_reads_a_served_log_and_writes_its_verdict(tmp_path, capsys):
    _log(tmp_path / "log.sqlite", [("control", 400, 120), ("challenger", 400, 60)])
    args = _args(tmp_path, "0.3")
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("churnops abtest analyze: GO - challenger")
    report = json.loads((tmp_path / "out" / "exp.json").read_text())
    assert report["arms"]["control"]["customers"] == 400
    assert report["arms"]["challenger"]["rate"] == 0.15
    page = (tmp_path / "out" / "exp.html").read_text()
    assert "<h1>A/B test exp: GO</h1>" in page
    assert "<table>" in page


def test_analyze_says_invalid_on_a_log_with_lost_rows(tmp_path, capsys):
    # a tenth of one arm's rows lost (a filter, a crashed logger): the result is not read at all
    _log(tmp_path / "log.sqlite", [("control", 5000, 0), ("challenger", 4500, 0)], outcomes=False)
    args = _args(tmp_path, "0.26")
    assert main(args) == 0
    assert "INVALID - sample-ratio mismatch" in capsys.readouterr().out
