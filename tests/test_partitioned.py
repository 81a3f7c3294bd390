"""The monitor over a partitioned batch: part by part, here or on a real 2-worker LocalCluster,
its column, derived-feature, prediction and target tests and the dataset verdict are those of the
in-process monitor on the whole batch (KS and chi-square float for float; Wasserstein effect
sizes within their stated bound), and so are the missing and out-of-range shares."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pandas as pd
import pytest

from churnops.monitoring import monitor, partitioned
from tests.conftest import TELCO

EFFECT = {"numeric": 0.1, "categorical": 0.1}


@pytest.fixture(scope="module")
def month(model_files, tmp_path_factory):
    """Reference rows and a three-part batch with a price rise and missing charges."""
    folder, _ = model_files
    schema = json.loads((folder / "schema.json").read_text())
    model = joblib.load(folder / "model.joblib")
    raw = pd.read_csv(TELCO, dtype=str, keep_default_na=False, na_values=[""])
    reference, batch = raw.iloc[:4000], raw.iloc[4000:7000].copy()
    charges = pd.to_numeric(batch["MonthlyCharges"])
    batch["MonthlyCharges"] = (charges * 1.15).round(2).astype(str)
    batch.loc[batch.index[::40], "TotalCharges"] = " "
    parts = tmp_path_factory.mktemp("month")
    for i, rows in enumerate(np.array_split(batch, 3)):
        rows.to_parquet(parts / f"day-{i}.parquet", index=False)
    return schema, model, reference, batch, sorted(parts.glob("*.parquet"))


def _in_process(schema, model, reference, batch):
    def typed(rows):
        return monitor.scored_rows(rows, schema, model, target="Churn", positive_label="Yes")

    return monitor.assess(
        typed(reference), typed(batch), schema, alpha=0.05, min_effect=EFFECT, drift_share=0.0,
        threshold=0.5, reference_metrics={"accuracy": 0.8}, confidence=0.95, rules=[],
        latency_p99_ms=None,
        decision={"min_new_labels": 5000, "model_age_days": None, "max_age_days": 90,
                  "rule_triggers": {}},
    )  # fmt: skip


@pytest.mark.parametrize("where", ["here", "cluster"])
def test_the_parts_give_the_monitors_statistics(month, where, request):
    schema, model, reference, batch, files = month
    client = request.getfixturevalue("dask_client") if where == "cluster" else None
    prepared = partitioned.setup(reference, schema, model, target="Churn", positive_label="Yes")
    seen = []
    total = partitioned.summarize(files, prepared, client=client, progress=seen.append)
    assert sum(seen) == len(batch) == total.rows
    got = partitioned.verdict(
        partitioned.assess(prepared, total, alpha=0.05, min_effect=EFFECT), drift_share=0.0
    )
    want = _in_process(schema, model, reference, batch)
    for group in ("columns", "derived"):
        assert set(got[group]) == set(want["drift"][group])
        for column, result in got[group].items():
            expected = want["drift"][group][column]
            for key in ("statistic", "p_value", "p_value_adjusted", "drifted"):
                assert result[key] == expected[key], (column, key)
            bound = result.get("effect_bound") or 0.0
            assert abs(result["effect_size"] - expected["effect_size"]) <= bound + 1e-6, column
    for extra in ("prediction", "target"):
        assert got[extra]["statistic"] == want["drift"][extra]["statistic"]
        assert got[extra]["p_value"] == want["drift"][extra]["p_value"]
    assert got["dataset"]["drifted_columns"] == want["drift"]["dataset"]["drifted_columns"]
    assert "MonthlyCharges" in got["dataset"]["drifted_columns"]
    quality = want["quality"]["by_column"]
    for column, entry in got["quality"].items():
        for key, value in entry.items():
            assert value == pytest.approx(quality[column][key], abs=1e-6), (column, key)


def test_cli_monitor_writes_drift_and_quality(month, model_files, tmp_path, capsys):
    from churnops import cli
    from tests.conftest import TEST_PARAMS

    folder, _ = model_files
    _, _, reference, _, files = month
    reference.to_parquet(tmp_path / "reference.parquet", index=False)
    out = tmp_path / "monitor"
    args = ["monitor", "--batch", str(files[0].parent / "day-*.parquet"), "--out-dir", str(out),
            "--reference", str(tmp_path / "reference.parquet"),
            "--schema", str(folder / "schema.json"), "--model", str(folder / "model.joblib"),
            "--params", str(TEST_PARAMS)]  # fmt: skip
    assert cli.main(args) == 0
    said = capsys.readouterr()
    assert "3,000 rows; drifted columns: " in said.out
    assert "MonthlyCharges" in said.out
    assert "3 part(s) from" in said.err
    drift = json.loads((out / "drift.json").read_text())
    assert drift["dataset"]["drifted"] is True
    assert json.loads((out / "quality.json").read_text())["rows"] == 3000
    assert cli.main(args) == 2
    assert "exists: pass --overwrite" in capsys.readouterr().err
