"""`churnops dashboard` on a log of three days of served predictions (a price rise on the third):
every table has its windows, the drift matrix shows the rise, segments come worst first, and the
page renders offline in headless Chromium with every figure loaded."""

from __future__ import annotations

import datetime
import json
import re

import numpy as np
import pandas as pd
import pytest

from churnops.cli import main
from churnops.lifecycle import dashboard
from churnops.serving.prediction_log import Prediction, PredictionLog
from tests.test_report import _chromium, _load

START = datetime.datetime(2026, 11, 23, tzinfo=datetime.UTC)


def _typed(telco, schema):
    rows = telco.copy()
    for name, info in schema["features"].items():
        if info["kind"] == "numeric":
            rows[name] = pd.to_numeric(rows[name], errors="coerce")
    return rows


@pytest.fixture
def served(model_files, telco, tmp_path):
    """A log of 1,440 predictions over three days, hourly, half of them in an A/B experiment;
    monthly charges 40% higher on the third day; outcomes known for the first two days."""
    folder, _ = model_files
    schema = json.loads((folder / "schema.json").read_text())
    rows = _typed(telco, schema).head(1440).reset_index(drop=True)
    rows.loc[960:, "MonthlyCharges"] *= 1.4
    rng = np.random.default_rng(0)
    log = PredictionLog(tmp_path / "log.sqlite")
    for i, row in rows.iterrows():
        inputs = {n: (None if pd.isna(row[n]) else row[n]) for n in schema["features"]}
        p = float(rng.random())
        arm = ("control", "challenger")[i % 2] if i % 4 < 2 else None
        log.record(
            [
                Prediction(
                    f"r{i}",
                    0,
                    row["customerID"],
                    "m1",
                    "onnx",
                    inputs,
                    p,
                    p >= 0.5,
                    1.0 + i % 7,
                    arm=arm,
                    experiment="exp" if arm else None,
                )
            ],
            logged_at=(START + datetime.timedelta(minutes=3 * i)).isoformat(
                timespec="microseconds"
            ),
        )
        if i < 960:
            log.record_outcome(positive=row["Churn"] == "Yes", record_id=row["customerID"])
    log.close()
    reference = tmp_path / "train.parquet"
    _typed(telco, schema).iloc[1440:3440].to_parquet(reference, index=False)
    return folder, tmp_path / "log.sqlite", reference, schema


def test_the_tables_cover_every_window_and_show_the_price_rise(served, telco):
    _, log, reference, schema = served
    from churnops.serving import log_export

    with log_export.LogReader(log) as reader:
        rows = pd.concat(reader.export(schema, positive_label="Yes", negative_label="No"))
    tables = dashboard.series(
        rows, pd.read_parquet(reference), schema, window="day", positive="Yes"
    )
    assert tables["volume"].sum(axis=1).tolist() == [480, 480, 480]
    assert set(tables["volume"].columns) == {"control", "challenger", "(no experiment)"}
    drifted = tables["drift"].loc["MonthlyCharges"]
    assert drifted.iloc[2] > 3 * max(drifted.iloc[0], drifted.iloc[1])  # the third day's rise
    assert len(tables["performance"]) == 2  # outcomes for two days only
    assert tables["segments"]["error_rate"].is_monotonic_decreasing
    assert "arms" in tables
    with pytest.raises(ValueError, match="window must be one of"):
        dashboard.series(rows, rows, schema, window="week", positive="Yes")
    with pytest.raises(ValueError, match="no prediction"):
        dashboard.series(rows.head(0), rows, schema, window="day", positive="Yes")


def test_the_page_renders_offline_with_every_figure(served, tmp_path, capsys):
    folder, log, reference, _ = served
    out = tmp_path / "dashboard"
    args = ["dashboard", "--log", str(log), "--schema", str(folder / "schema.json"),
            "--meta", str(folder / "meta.json"), "--reference", str(reference),
            "--out-dir", str(out), "--alerts", str(tmp_path / "none.jsonl"),
            "--history", str(tmp_path / "none.jsonl")]  # fmt: skip
    assert main(args) == 0
    assert "1,440 predictions in 3 day windows" in capsys.readouterr().out
    assert main(args) == 2  # the page exists: replaced only when asked
    assert "give --overwrite" in capsys.readouterr().err
    assert "No monitored batch and no alert delivery yet" in (out / "index.html").read_text()
    _history_and_alerts(tmp_path)
    assert main([*args[:-4], "--alerts", str(tmp_path / "alerts.jsonl"), "--history",
                 str(tmp_path / "history.jsonl"), "--overwrite"]) == 0  # fmt: skip
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == sorted(
        f"{k}.png"
        for k in (
            "volume",
            "latency",
            "scores",
            "performance",
            "arms",
            "drift",
            "by_hour",
            "by_weekday",
            "monitor_runs",
            "alerts",
        )
    )
    browser = _chromium()
    result, body = _load(browser, out / "index.html", tmp_path / "profile")
    assert 'data-broken=""' in body, body
    assert int(re.search(r'data-images="(\d+)"', body).group(1)) == len(figures)
    assert [line for line in result.stderr.splitlines() if ":CONSOLE" in line] == []


def _history_and_alerts(folder):
    """Two monitored batches (the second at warning) and two deliveries (one failed)."""
    runs = [
        {"at": "2026-11-24T06:00:00+00:00", "level": None, "drift_share": 0.0, "accuracy": 0.8},
        {"at": "2026-11-25T06:00:00+00:00", "level": "warning", "drift_share": 0.2,
         "accuracy": 0.74},
    ]  # fmt: skip
    sent = [
        {"at": "2026-11-25T06:00:01+00:00", "level": "warning", "delivered": True},
        {"at": "2026-11-25T07:00:01+00:00", "level": "critical", "delivered": False},
    ]
    for name, lines in (("history.jsonl", runs), ("alerts.jsonl", sent)):
        (folder / name).write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_the_alert_timeline_puts_batches_and_deliveries_on_their_levels(tmp_path):
    from churnops.monitoring import history

    _history_and_alerts(tmp_path)
    events = dashboard.timeline(
        history.frame(tmp_path / "history.jsonl"), dashboard.alerts(tmp_path / "alerts.jsonl")
    )
    assert events[["level", "kind"]].values.tolist() == [
        [dashboard.NO_ALERT, "monitored batch"],
        ["warning", "monitored batch"],
        ["warning", "delivered"],
        ["critical", "delivery failed"],
    ]
    assert dashboard.timeline(history.frame(None), dashboard.alerts(None)).empty
