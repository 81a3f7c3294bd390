"""The gate's rows: the test split less the champion's training rows, the held-out production
window appended, and that window typed by the input contract."""

from __future__ import annotations

import pandas as pd
import pytest

from churnops.registry import gate_rows


def test_the_held_out_production_window_joins_the_rows():
    rows = pd.DataFrame({"id": ["a"], "x": [1.0]})
    window = pd.DataFrame({"x": [2.0], "id": ["n"], "served_probability": [0.3]})
    assert gate_rows.with_holdout(rows, window).to_dict("records") == [
        {"id": "a", "x": 1.0},
        {"id": "n", "x": 2.0},
    ]
    assert gate_rows.with_holdout(rows, None) is rows
    with pytest.raises(ValueError, match=r"lack column\(s\) \['x'\]"):
        gate_rows.with_holdout(rows, window.drop(columns="x"))


def test_the_rows_compared_are_those_the_champion_did_not_train_on():
    test = pd.DataFrame({"id": ["a", "b", "c"], "x": [1, 2, 3]})
    trained = pd.DataFrame({"id": ["b", "z"], "x": [2, 9]})
    assert gate_rows.rows_neither_trained_on(test, trained, "id")["id"].tolist() == ["a", "c"]
    assert gate_rows.rows_neither_trained_on(test, trained, None)["id"].tolist() == ["a", "c"]
    assert gate_rows.rows_neither_trained_on(test, None, "id").equals(test)


def test_held_out_rows_are_typed_as_the_service_types_them(model_files):
    import json

    folder, record = model_files
    schema = json.loads((folder / "schema.json").read_text())
    raw = pd.DataFrame(
        [
            {**record, "tenure": "12", "MonthlyCharges": "70.5", "Churn": "Yes"},
            {**record, "tenure": "1e9", "Churn": "No"},  # far outside every band: refused
        ]
    ).astype(str)
    typed, refused = gate_rows.typed_holdout(raw, schema)
    assert refused == 1
    assert typed["tenure"].tolist() == [12.0]
    assert typed["MonthlyCharges"].tolist() == [70.5]
    assert typed[["customerID", "Churn"]].to_dict("records") == [
        {"customerID": "c-1", "Churn": "Yes"}
    ]
