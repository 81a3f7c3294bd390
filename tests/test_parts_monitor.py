"""The monitor stage's batch as one file or as a folder of parts: the same verdicts, alerts,
decision and performance (the parts' figures within their stated bounds), and the batch's digest
of the file or of the parts."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pandas as pd

from churnops.data import parts
from churnops.files import file_digest
from churnops.monitoring.batch_monitor import Trained
from churnops.monitoring.parts_monitor import monitor_path
from churnops.params import load_params
from tests.conftest import TELCO, TEST_PARAMS


def test_a_folder_of_parts_gives_the_single_files_verdicts(model_files, tmp_path):
    folder, _ = model_files
    raw = pd.read_csv(TELCO, dtype=str, keep_default_na=False, na_values=[""])
    reference, batch = raw.iloc[:3000], raw.iloc[3000:6000].copy()
    batch["tenure"] = (pd.to_numeric(batch["tenure"]) + 12).astype(str)
    whole = tmp_path / "batch.parquet"
    batch.to_parquet(whole, index=False)
    (tmp_path / "parts").mkdir()
    for i, rows in enumerate(np.array_split(batch, 4)):
        rows.to_parquet(tmp_path / "parts" / f"p{i}.parquet", index=False)
    evaluated = TEST_PARAMS.parent / "fixtures" / "pipeline_outputs" / "reports" / "evaluate"
    classes = {"accuracy": 0.75, "Yes": {"precision": 0.5, "recall": 0.7}}
    trained = Trained(
        reference,
        json.loads((folder / "schema.json").read_text()),
        joblib.load(folder / "model.joblib"),
        json.loads((folder / "meta.json").read_text()),
        json.loads((evaluated / "metrics.json").read_text()),
        {"at_decision_threshold": {"classes": classes}},
    )
    params = load_params(TEST_PARAMS)
    one, one_digest = monitor_path(str(whole), trained, params)
    many, many_digest = monitor_path(str(tmp_path / "parts"), trained, params)
    assert one_digest == file_digest(whole)
    assert many_digest == parts.digest(sorted((tmp_path / "parts").iterdir()))
    a, b = one.reports["metrics"], many.reports["metrics"]
    for key in ("rows", "labelled", "drifted_columns", "dataset_drift", "prediction_drift",
                "target_drift", "alerts", "retrain"):  # fmt: skip
        assert a[key] == b[key], key
    assert a["drifted_columns"] >= 1  # the tenure shift
    assert one.reports["decision"] == many.reports["decision"]
    assert one.lines == many.lines
    perf = many.reports["performance"]
    assert perf["accuracy"] == one.reports["performance"]["accuracy"]
    assert (
        abs(perf["roc_auc"] - one.reports["performance"]["roc_auc"]) <= perf["roc_auc_bound"] + 1e-6
    )
    assert "churnops verdict" in many.html
