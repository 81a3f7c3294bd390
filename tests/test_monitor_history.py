"""The monitor's history: one line per batch and model, a batch monitored again replaces its
line, a damaged line is named, and the table the dashboard draws is ordered by time."""

from __future__ import annotations

import json

import pytest

from churnops.monitoring import history


def _reports(drift_share=0.0, level=None, accuracy=0.8):
    return {
        "metrics": {
            "rows": 100,
            "retrain": level == "critical",
            "drift_share": drift_share,
            "performance": {"accuracy": accuracy, "roc_auc": 0.84},
        },
        "alerts": {"level": level, "counts": {"critical": 0, "warning": int(bool(level))}},
        "drift": {
            "dataset": {"drifted_columns": ["tenure"] if drift_share else []},
            "columns": {"tenure": {"effect_size": 0.3}, "Contract": {"effect_size": 0.01}},
        },
    }


def test_a_batch_monitored_again_replaces_its_line_a_new_one_is_added(tmp_path):
    path = tmp_path / "logs" / "history.jsonl"
    first = history.entry(_reports(), batch="b.parquet", batch_sha256="aa", model="m1")
    assert first["effect_sizes"] == {"tenure": 0.3, "Contract": 0.01}
    assert (first["accuracy"], first["level"], first["rows"]) == (0.8, None, 100)
    assert history.append(first, path) == 1
    again = history.entry(_reports(accuracy=0.7), batch="b.parquet", batch_sha256="aa", model="m1")
    assert history.append(again, path) == 1  # same batch, same model: replaced
    assert history.read_lines(path)[0]["accuracy"] == 0.7
    other_model = history.entry(_reports(), batch="b.parquet", batch_sha256="aa", model="m2")
    drifted = history.entry(
        _reports(0.5, "warning"), batch="c.parquet", batch_sha256="bb", model="m1"
    )
    assert history.append(other_model, path) == 2
    assert history.append(drifted, path) == 3
    table = history.frame(path)
    assert table["drift_share"].tolist() == [0.0, 0.0, 0.5]
    assert table["level"].tolist()[-1] == "warning"
    assert table.index.is_monotonic_increasing
    assert not list(tmp_path.glob("logs/*.tmp"))


def test_no_history_is_an_empty_table_and_a_damaged_line_is_named(tmp_path):
    assert history.frame(tmp_path / "none.jsonl").empty
    assert history.frame(None).empty
    path = tmp_path / "history.jsonl"
    path.write_text(json.dumps({"at": "2026-11-30T00:00:00+00:00"}) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"history\.jsonl, line 2: not JSON"):
        history.read_lines(path)
