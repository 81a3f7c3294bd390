"""The monitor over a partitioned batch: part by part, here or on a real 2-worker LocalCluster,
its quality, drift, performance, alerts and decision are those of the in-process monitor on the
whole batch (KS, chi-square, counts and confusion figures float for float; Wasserstein effect
sizes, ROC-AUC and latency p99 within their stated bounds); its Evidently sample does not depend
on the engine or the chunk size."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pandas as pd
import pytest

from churnops.data import parts
from churnops.monitoring import monitor, partitioned
from tests.conftest import TELCO

EFFECT = {"numeric": 0.1, "categorical": 0.1}
RULES = [
    {"name": "latency", "metric": "latency_p99_ms", "op": ">", "value": 50, "level": "warning"},
    {"name": "unseen", "metric": "unseen_category_share", "op": ">", "value": 0.001,
     "level": "warning"},
    {"name": "drift", "metric": "drifted_features", "op": ">", "value": 0, "level": "warning"},
    {"name": "accuracy", "metric": "accuracy_shortfall", "op": ">", "value": -1,
     "level": "critical"},
]  # fmt: skip
CHECKS = monitor.Checks(
    alpha=0.05, min_effect=EFFECT, drift_share=0.0, threshold=0.4,
    reference_metrics={"accuracy": 0.8}, confidence=0.95,
    beside=(0.5, {"accuracy": 0.81}), rules=RULES,
    decision={"min_new_labels": 5000, "model_age_days": None, "max_age_days": 90,
              "rule_triggers": {"drift": "data_drift"}},
)  # fmt: skip


@pytest.fixture(scope="module")
def month(model_files, tmp_path_factory):
    """Reference rows and a three-part labelled batch with a price rise, missing charges, an
    unseen contract and a latency column."""
    folder, _ = model_files
    schema = json.loads((folder / "schema.json").read_text())
    model = joblib.load(folder / "model.joblib")
    raw = pd.read_csv(TELCO, dtype=str, keep_default_na=False, na_values=[""])
    reference, batch = raw.iloc[:4000], raw.iloc[4000:7000].copy()
    charges = pd.to_numeric(batch["MonthlyCharges"])
    batch["MonthlyCharges"] = (charges * 1.15).round(2).astype(str)
    batch.loc[batch.index[::40], "TotalCharges"] = " "
    batch.loc[batch.index[::300], "Contract"] = "Decade"
    batch["latency_ms"] = np.random.default_rng(3).lognormal(3, 0.8, len(batch))
    parts = tmp_path_factory.mktemp("month")
    for i, rows in enumerate(np.array_split(batch, 3)):
        rows.to_parquet(parts / f"day-{i}.parquet", index=False)
    return schema, model, reference, batch, sorted(parts.glob("*.parquet"))


def _setup(schema, model, reference, sample_rows=500):
    return partitioned.setup(
        reference, schema, model, target="Churn", positive_label="Yes", thresholds=(0.4, 0.5),
        latency_column="latency_ms", sample_rows=sample_rows, seed=11,
    )  # fmt: skip


def _in_process(schema, model, reference, batch):
    def typed(rows):
        return monitor.scored_rows(rows, schema, model, target="Churn", positive_label="Yes")

    latency = round(float(np.percentile(batch["latency_ms"], 99)), 3)
    result = monitor.assess(typed(reference), typed(batch), schema, CHECKS, latency_p99_ms=latency)
    result["quality"]["refused_by_contract"] = monitor.refused(batch, schema, policy="reject")
    return result


@pytest.mark.parametrize("where", ["here", "cluster"])
def test_the_parts_give_the_monitors_answer(month, where, request):
    schema, model, reference, batch, files = month
    client = request.getfixturevalue("dask_client") if where == "cluster" else None
    prepared, _ = _setup(schema, model, reference)
    seen = []
    total = partitioned.summarize(files, prepared, client=client, progress=seen.append)
    assert sum(seen) == len(batch) == total.rows
    assert total.labelled
    got, want = (
        partitioned.assess(prepared, total, CHECKS),
        _in_process(schema, model, reference, batch),
    )
    for group in ("columns", "derived"):
        assert set(got["drift"][group]) == set(want["drift"][group])
        for column, result in got["drift"][group].items():
            expected = want["drift"][group][column]
            for key in ("statistic", "p_value", "p_value_adjusted", "drifted"):
                assert result[key] == expected[key], (column, key)
            bound = result.get("effect_bound") or 0.0
            assert abs(result["effect_size"] - expected["effect_size"]) <= bound + 1e-6, column
    for extra in ("prediction", "target"):
        assert got["drift"][extra]["statistic"] == want["drift"][extra]["statistic"]
        assert got["drift"][extra]["p_value"] == want["drift"][extra]["p_value"]
    assert got["drift"]["dataset"]["drifted_columns"] == want["drift"]["dataset"]["drifted_columns"]
    assert "MonthlyCharges" in got["drift"]["dataset"]["drifted_columns"]
    quality = got["quality"]
    latency_bound = quality.pop("latency_p99_bound_ms")
    assert 0 < latency_bound < 0.02 * got["observed"]["latency_p99_ms"][0]
    assert quality == want["quality"]
    assert quality["coerced_to_missing"]["TotalCharges"]["blank"] >= 75  # 1 in 40 made blank
    assert quality["refused_by_contract"]["rows"] >= 10  # 1 in 300 given "Decade"
    perf, expected = got["performance"], want["performance"]
    for key in ("rows", "accuracy", "accuracy_upper", "precision", "recall", "error_rate_increase"):
        assert perf[key] == expected[key], key
        assert perf["at_other_threshold"][key] == expected["at_other_threshold"][key], key
    assert abs(perf["roc_auc"] - expected["roc_auc"]) <= perf["roc_auc_bound"] + 1e-6
    latency = got["observed"]["latency_p99_ms"][0]
    assert abs(latency - want["observed"]["latency_p99_ms"][0]) <= latency_bound + 1e-3
    assert [a["rule"] for a in got["alerts"]["alerts"]] == [
        "latency",
        "unseen",
        "drift",
        "accuracy",
    ]
    assert [a["rule"] for a in want["alerts"]["alerts"]] == [
        a["rule"] for a in got["alerts"]["alerts"]
    ]
    assert got["decision"] == want["decision"]


def test_the_sample_is_the_same_on_any_engine_and_chunk_size(month, dask_client, monkeypatch):
    schema, model, reference, _, files = month
    prepared, _ = _setup(schema, model, reference, sample_rows=300)
    here = partitioned.summarize(files, prepared).sampled()
    there = partitioned.summarize(files, prepared, client=dask_client).sampled()
    monkeypatch.setattr(partitioned, "CHUNK_ROWS", 170)
    chunked = partitioned.summarize(files, prepared).sampled()
    assert len(here) == 300
    pd.testing.assert_frame_equal(here, there)
    pd.testing.assert_frame_equal(here, chunked)
    assert monitor.LABEL in here
    assert here[monitor.PREDICTION].between(0, 1).all()


def test_an_unlabelled_part_leaves_performance_and_target_out(month, tmp_path):
    schema, model, reference, batch, _ = month
    batch.iloc[:1000].to_parquet(tmp_path / "a.parquet", index=False)
    batch.iloc[1000:2000].drop(columns="Churn").to_parquet(tmp_path / "b.parquet", index=False)
    prepared, _ = _setup(schema, model, reference)
    total = partitioned.summarize(sorted(tmp_path.glob("*.parquet")), prepared)
    got = partitioned.assess(prepared, total, CHECKS)
    assert not total.labelled
    assert got["performance"] is None
    assert got["drift"]["target"] is None
    assert "accuracy" in got["alerts"]["not_evaluated"]
    assert monitor.LABEL not in total.sampled()


def _cli_args(folder, tmp_path, reference, batch_path, out):
    from tests.conftest import TEST_PARAMS

    evaluated = TEST_PARAMS.parent / "fixtures" / "pipeline_outputs" / "reports" / "evaluate"
    classes = {"accuracy": 0.75, "Yes": {"precision": 0.5, "recall": 0.7}}  # evaluate's shape
    (tmp_path / "classification.json").write_text(
        json.dumps({"at_decision_threshold": {"classes": classes}})
    )
    reference.to_parquet(tmp_path / "reference.parquet", index=False)
    return ["monitor", "--batch", str(batch_path), "--out-dir", str(out),
            "--reference", str(tmp_path / "reference.parquet"),
            "--schema", str(folder / "schema.json"), "--model", str(folder / "model.joblib"),
            "--meta", str(folder / "meta.json"),
            "--evaluation", str(evaluated / "metrics.json"),
            "--classification", str(tmp_path / "classification.json"),
            "--params", str(TEST_PARAMS), "--history", str(tmp_path / "history.jsonl"),
            "--delivery-log", str(tmp_path / "alerts.jsonl")]  # fmt: skip


def test_cli_monitor_writes_the_stages_reports(month, model_files, tmp_path, capsys):
    from churnops import cli
    from churnops.monitoring.batch_monitor import OUTPUT_FILES

    folder, _ = model_files
    _, _, reference, batch, _ = month
    parts_dir = tmp_path / "parts"
    parts_dir.mkdir()
    for i, rows in enumerate(np.array_split(batch, 2)):  # CSV parts, read as text
        rows.to_csv(parts_dir / f"day-{i}.csv", index=False)
    out = tmp_path / "monitor"
    args = _cli_args(folder, tmp_path, reference, parts_dir, out)
    assert cli.main(args) == 0
    said = capsys.readouterr()
    assert "churnops monitor: 3000 rows; drifted columns: " in said.out
    assert "MonthlyCharges" in said.out
    assert "2 part(s) from" in said.err
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["rows"] == 3000
    assert metrics["labelled"] is True
    assert metrics["dataset_drift"] is True
    assert json.loads((out / "performance.json").read_text())["threshold"] == 0.33
    assert "churnops verdict: dataset drift DETECTED" in (out / "drift.html").read_text()
    (line,) = (tmp_path / "history.jsonl").read_text().splitlines()  # the stage's history
    assert json.loads(line)["batch_sha256"] == parts.digest(sorted(parts_dir.iterdir()))
    assert "history" in said.out
    before = (out / "metrics.json").stat().st_mtime_ns
    assert cli.main(args) == 2
    assert "exists: pass --overwrite" in capsys.readouterr().err
    assert (out / "metrics.json").stat().st_mtime_ns == before


def test_cli_monitor_refuses_files_without_rows(month, model_files, tmp_path, capsys):
    from churnops import cli

    folder, _ = model_files
    _, _, reference, batch, _ = month
    batch.iloc[:0].to_parquet(tmp_path / "empty.parquet", index=False)
    out = tmp_path / "monitor"
    assert cli.main(_cli_args(folder, tmp_path, reference, tmp_path / "empty.parquet", out)) == 2
    assert "the batch's 1 file(s) hold no rows" in capsys.readouterr().err
    assert not out.exists()
