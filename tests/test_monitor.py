import numpy as np
import pandas as pd
import pytest

from churnops.data.schema import DataError
from churnops.monitoring import monitor

SCHEMA = {
    "features": {
        "charge": {
            "kind": "numeric",
            "min": 10.0,
            "max": 100.0,
            "missing_share": 0.0,
            "bounds": {"min": 0, "max": None},
            "accept": {"reject": [1.0, 109.0], "flag": [0.0, 1000.0]},
        },
        "plan": {"kind": "categorical", "categories": ["a", "b"], "missing_share": 0.0},
    },
    "contract": {"coerce_tolerance": 0.3, "range_tolerance": 0.1, "range_limit": 10},
}
RULES = [
    {"name": "acc", "metric": "accuracy_upper", "op": "<", "value": 0.8, "level": "critical"},
    {"name": "range", "metric": "out_of_range_share", "op": ">", "value": 0.05, "level": "warning"},
    {
        "name": "unseen",
        "metric": "unseen_category_share",
        "op": ">",
        "value": 0.01,
        "level": "warning",
    },
    {"name": "latency", "metric": "latency_p99_ms", "op": ">", "value": 100, "level": "warning"},
    {"name": "drift", "metric": "drifted_features", "op": ">", "value": 0, "level": "info"},
]


def test_check_batch_cleans_raw_rows_as_prepare_does():
    batch = pd.DataFrame(
        {"charge": ["12.5", None, " ", "20"], "plan": [1.0, " b ", "a", "a"], "extra": [0] * 4}
    )
    out, coerced = monitor.check_batch(batch, SCHEMA)
    assert list(out.columns) == ["charge", "plan"]
    assert out["charge"].tolist()[0] == 12.5
    assert out["charge"].isna().tolist() == [False, True, True, False]
    assert out["plan"].tolist() == ["1", "b", "a", "a"]
    assert coerced == {"charge": {"blank": 2, "non_numeric": 0, "examples": []}}
    # one non-number in four is within the schema's tolerance (0.3): missing, and counted
    _, coerced = monitor.check_batch(batch.assign(charge=["cheap", "1", "2", "3"]), SCHEMA)
    assert coerced["charge"]["non_numeric"] == 1
    assert coerced["charge"]["examples"] == ["cheap"]
    with pytest.raises(DataError, match=r"missing feature column\(s\) \['plan'\]"):
        monitor.check_batch(batch.drop(columns="plan"), SCHEMA)
    with pytest.raises(DataError, match=r"batch column 'charge' .* 2 of 4 values .*'cheap'"):
        monitor.check_batch(batch.assign(charge=["cheap", "dear", "1", "2"]), SCHEMA)


def test_a_pooled_column_is_pooled_as_in_training_and_has_no_unseen_values():
    pooled = {"kind": "categorical", "categories": ["a", "b", "(other)"], "missing_share": 0.0}
    schema = {**SCHEMA, "features": {**SCHEMA["features"], "plan": {**pooled, "pooled": True}}}
    batch = pd.DataFrame({"charge": ["12", "13", "14", "15"], "plan": ["a", "zz", None, "q1"]})
    out, _ = monitor.check_batch(batch, schema)
    assert out["plan"].tolist()[:2] == ["a", "(other)"]
    assert pd.isna(out["plan"].iloc[2])
    quality = monitor.batch_quality(out, schema)
    assert quality["by_column"]["plan"]["unseen_share"] == 0.0


def test_refused_counts_what_the_serving_contract_would_refuse():
    batch = pd.DataFrame({"charge": [50.0, 500.0, 5.0], "plan": ["a", "z", "b"]})
    out = monitor.refused(batch, SCHEMA, policy="reject")
    assert (out["rows"], out["share"]) == (1, 0.333333)
    assert list(out["top_reasons"]) == [
        "charge=500.0 is outside the accepted range [1.0, 109.0] (training range [10.0, 100.0] "
        "widened by prepare.range_tolerance, within the declared bounds min 0)",
        "plan='z' was not seen in training (allowed: 'a', 'b')",
    ]


def test_batch_quality_against_the_schema():
    batch = pd.DataFrame({"charge": [5.0, 50.0, 150.0, np.nan], "plan": ["a", "z", "b", "a"]})
    quality = monitor.batch_quality(batch, SCHEMA)["by_column"]
    assert quality["charge"] == {
        "missing_share": 0.25,
        "missing_increase": 0.25,
        "out_of_range_share": 0.666667,
    }
    assert quality["plan"]["unseen_share"] == 0.25
    assert quality["plan"]["unseen_values"] == ["z"]


def _typed(n, rng, shift=0.0):
    frame = pd.DataFrame(
        {"charge": rng.uniform(20, 90, n) * (1 + shift), "plan": rng.choice(["a", "b"], n)}
    )
    frame[monitor.PREDICTION] = rng.random(n)
    return frame


def test_assess_a_shifted_batch_end_to_end():
    rng = np.random.default_rng(0)
    reference, calm, shifted = _typed(3000, rng), _typed(1000, rng), _typed(1000, rng, 0.5)
    checks = monitor.Checks(
        alpha=0.05,
        min_effect={"numeric": 0.1, "categorical": 0.1},
        drift_share=0.0,
        threshold=0.5,
        reference_metrics={},
        confidence=0.95,
        rules=RULES,
        decision={
            "min_new_labels": 5000,
            "model_age_days": None,
            "max_age_days": 90,
            "rule_triggers": {"acc": "performance_degradation", "drift": "data_drift"},
        },
    )
    quiet = monitor.assess(reference, calm, SCHEMA, checks)
    assert quiet["alerts"]["alerts"] == []
    assert quiet["performance"] is None
    loud = monitor.assess(reference, shifted, SCHEMA, checks)
    assert loud["drift"]["dataset"]["drifted_columns"] == ["charge"]
    assert {a["rule"] for a in loud["alerts"]["alerts"]} == {"range", "drift"}
    assert loud["decision"]["triggers"] == {"data_drift": ["drift"]}


def test_a_rise_lost_in_a_skewed_column_shows_in_the_derived_features(model_files):
    """TotalCharges x 1.1 hides in its own spread, but the model's ratio TotalCharges/tenure moves
    by 10%: the derived features are tested with the raw ones and named in the drift alert."""
    import json

    import joblib

    from tests.conftest import TELCO

    folder, _ = model_files
    schema = json.loads((folder / "schema.json").read_text())
    model = joblib.load(folder / "model.joblib")
    raw = pd.read_csv(TELCO, dtype=str, keep_default_na=False, na_values=[""])
    reference_rows, batch_rows = raw.iloc[:5000], raw.iloc[5000:6400].copy()
    charges = pd.to_numeric(batch_rows["TotalCharges"].str.strip(), errors="coerce")
    batch_rows["TotalCharges"] = (charges * 1.1).astype(str)

    def typed(rows):
        return monitor.scored_rows(rows, schema, model, target="Churn", positive_label="Yes")

    reference, batch = typed(reference_rows), typed(batch_rows)
    derived = batch.attrs["derived"]
    assert derived["avg_monthly_charge"] == {
        "kind": "numeric",
        "from": ["TotalCharges", "tenure"],
    }
    checks = monitor.Checks(
        alpha=0.05,
        min_effect={"numeric": 0.1, "categorical": 0.1},
        drift_share=0.0,
        threshold=0.5,
        reference_metrics={"accuracy": 0.8},
        confidence=0.95,
        rules=[RULES[-1] | {"level": "warning"}],
        decision={
            "min_new_labels": 5000,
            "model_age_days": None,
            "max_age_days": 90,
            "rule_triggers": {},
        },
    )
    result = monitor.assess(reference, batch, schema, checks)
    assert result["drift"]["derived"]["avg_monthly_charge"]["drifted"]
    (alert,) = result["alerts"]["alerts"]
    assert "avg_monthly_charge" in alert["columns"]
