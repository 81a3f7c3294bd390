"""Production feedback merged into training data: one row per id with the latest outcome, the
base rows of those ids replaced, unlabelled rows left out, the newest window held out."""

from __future__ import annotations

import pandas as pd
import pytest

from churnops.data import production
from churnops.data.schema import DataError

BASE = pd.DataFrame(
    {"id": ["a", "b"], "tenure": ["1", "5"], "plan": ["x", "y"], "Churn": ["No", "Yes"]}
)


def _exported(rows):
    """Rows as `churnops log export` writes them: typed numbers, served columns, a time."""
    frame = pd.DataFrame(rows, columns=["id", "tenure", "plan", "Churn", "logged_at"])
    frame["served_probability"] = 0.5
    return frame


def test_latest_outcome_per_id_replaces_and_appends_and_holds_out_the_newest():
    exported = _exported(
        [
            ("b", 6.0, "y", "No", "2026-11-01T00:00:00+00:00"),
            ("c", 2.0, "x", "Yes", "2026-11-02T00:00:00+00:00"),
            ("c", 3.0, "x", "No", "2026-11-03T00:00:00+00:00"),  # c's latest
            ("d", 4.0, "y", None, "2026-11-04T00:00:00+00:00"),  # no outcome yet
            ("e", 9.5, "x", "Yes", "2026-11-05T00:00:00+00:00"),  # the newest
        ]
    )
    merged = production.merge(BASE, exported, target="Churn", id_column="id", holdout_share=0.34)
    assert merged.training.to_dict("records") == [
        {"id": "a", "tenure": "1", "plan": "x", "Churn": "No"},
        {"id": "b", "tenure": "6", "plan": "y", "Churn": "No"},
        {"id": "c", "tenure": "3", "plan": "x", "Churn": "No"},
    ]
    assert merged.holdout.to_dict("records") == [
        {"id": "e", "tenure": "9.5", "plan": "x", "Churn": "Yes"}
    ]
    assert merged.report == {
        "production_rows": 5,
        "labelled": 4,
        "duplicates_dropped": 1,
        "replaced_in_training_data": 1,
        "appended": 1,
        "held_out_newest": 1,
        "training_rows": 3,
        "filled_missing": [],
    }
    assert "1 appended, 1 replacing training rows, 1 newest held out" in production.counts_line(
        merged.report
    )


def test_production_rows_must_have_the_training_columns():
    with pytest.raises(DataError, match=r"lack column\(s\) \['plan'\]"):
        production.merge(
            BASE, _exported([]).drop(columns="plan"), target="Churn", id_column="id",
            holdout_share=0.1,
        )  # fmt: skip
    with pytest.raises(DataError, match="share must be in"):
        production.merge(BASE, _exported([]), target="Churn", id_column="id", holdout_share=1.0)


def test_a_column_the_model_does_not_use_is_left_missing_in_production_rows():
    base = BASE.assign(note=["kept", "kept"])
    exported = _exported([("c", 2.0, "x", "Yes", "2026-11-02T00:00:00+00:00")])
    merged = production.merge(
        base, exported, target="Churn", id_column="id", holdout_share=0.0,
        required=["id", "tenure", "plan", "Churn"],
    )  # fmt: skip
    assert merged.training["note"].tolist() == ["kept", "kept", None]
    assert merged.report["filled_missing"] == ["note"]


def test_new_rows_counts_appended_and_changed_rows_not_reordered_or_retyped_ones():
    training = pd.concat(
        [BASE.iloc[::-1], pd.DataFrame([{"id": "c", "tenure": "2", "plan": "x", "Churn": "No"}])]
    )
    assert production.new_rows(BASE, training) == 1  # c; a and b only moved
    changed = BASE.assign(Churn=["No", "No"])
    assert production.new_rows(BASE, changed) == 1  # b's outcome changed
    assert (
        production.new_rows(BASE.assign(tenure=[None, "5"]), BASE.assign(tenure=[None, 5.0])) == 0
    )
