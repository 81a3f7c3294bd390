"""Alert rules and the retraining decision: the rule table, levels, malformed rules, triggers."""

from __future__ import annotations

import pytest

from churnops.monitoring import alerts
from churnops.params import ParamsError
from tests.test_monitor import RULES


def _observed(**values):
    return {k: (v, [k]) for k, v in values.items()}


@pytest.mark.parametrize(
    ("observed", "fired"),
    [
        ({"accuracy_upper": 0.79}, ["acc"]),
        ({"accuracy_upper": 0.80}, []),  # strictly below
        ({"out_of_range_share": 0.06, "unseen_category_share": 0.0}, ["range"]),
        ({"latency_p99_ms": 120.0, "drifted_features": 2}, ["latency", "drift"]),
        ({"drifted_features": 0}, []),
    ],
)
def test_alert_rule_table(observed, fired):
    out = alerts.alerts(alerts.check_rules(RULES), _observed(**observed))
    assert [a["rule"] for a in out["alerts"]] == fired
    for alert in out["alerts"]:
        assert alert["observed"] == observed[alert["metric"]]
        assert alert["columns"] == [alert["metric"]]
    assert out["not_evaluated"] == [r["name"] for r in RULES if r["metric"] not in observed]


def test_alert_level_is_the_highest_fired():
    out = alerts.alerts(RULES, _observed(accuracy_upper=0.5, drifted_features=1))
    assert out["level"] == "critical"
    assert out["counts"] == {"info": 1, "warning": 0, "critical": 1}
    assert alerts.alerts(RULES, _observed(drifted_features=0))["level"] is None


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"name": "x", "metric": "m", "op": "==", "value": 1, "level": "info"},
            r"op must be one of",
        ),
        (
            {"name": "x", "metric": "m", "op": ">", "value": 1, "level": "severe"},
            r"level must be one",
        ),
        ({"name": "x", "metric": "m", "op": ">", "level": "info"}, r"needs key 'value'"),
    ],
)
def test_check_rules(rule, message):
    with pytest.raises(ParamsError, match=message):
        alerts.check_rules([rule])


TRIGGERS = {"acc": "performance_degradation", "drift": "data_drift"}


@pytest.mark.parametrize(
    ("observed", "labelled", "age", "expected"),
    [
        ({}, 0, None, {}),
        ({"accuracy_upper": 0.5}, 0, None, {"performance_degradation": ["acc"]}),
        ({"drifted_features": 1}, 0, 10, {"data_drift": ["drift"]}),
        ({}, 0, 120, {"scheduled_age": ["model is 120 days old (> 90)"]}),
        ({}, 6000, None, {"new_labelled_data": ["6000 labelled rows (>= 5000)"]}),
        ({"latency_p99_ms": 500.0}, 0, None, {}),  # an alert without a trigger
    ],
)
def test_decision_logic(observed, labelled, age, expected):
    fired = alerts.alerts(RULES, _observed(**observed))
    decision = alerts.decide(
        fired,
        labelled_rows=labelled,
        min_new_labels=5000,
        model_age_days=age,
        max_age_days=90,
        rule_triggers=TRIGGERS,
    )
    assert decision["triggers"] == expected
    assert decision["retrain"] is bool(expected)
