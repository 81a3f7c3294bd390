import json

import pandas as pd
import pytest

from churnops import cli

DVC_YAML = """
stages:
  train:
    cmd: python stages/train.py
    outs:
      - models/model.joblib
      - reports/train/cv.csv:
          cache: false
    metrics:
      - reports/train/cv.json:
          cache: false
  evaluate:
    cmd: python stages/evaluate.py
    outs:
      - reports/evaluate/figures:
          cache: false
    metrics:
      - reports/evaluate/metrics.json:
          cache: false
"""


def test_pipeline_files_reads_dvc_yaml(tmp_path):
    (tmp_path / "dvc.yaml").write_text(DVC_YAML)
    metrics, reports = cli.pipeline_files(tmp_path / "dvc.yaml")
    assert [str(p) for p in metrics] == ["reports/train/cv.json", "reports/evaluate/metrics.json"]
    assert [str(p) for p in reports] == ["reports/train/cv.csv", "reports/evaluate/figures"]


def test_summary_prints_metrics_and_existing_reports(tmp_path, capsys):
    (tmp_path / "dvc.yaml").write_text(DVC_YAML)
    scores = dict.fromkeys(cli.HEADLINE, 0.5)
    (tmp_path / "reports/evaluate/figures").mkdir(parents=True)
    (tmp_path / "reports/evaluate/metrics.json").write_text(json.dumps(scores))
    assert cli.main(["summary", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "roc_auc    0.5000" in out
    assert "reports/train/cv.json: not produced yet (run `make repro`)" in out
    assert "  reports/evaluate/figures/" in out
    assert "cv.csv" not in out


def test_summary_without_dvc_yaml_fails_clearly(tmp_path, capsys):
    assert cli.main(["summary", "--root", str(tmp_path)]) == 2
    assert "no dvc.yaml in" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_log_export_writes_the_monitor_batch(model_files, tmp_path, capsys, suffix):
    from churnops.serving.prediction_log import Prediction, PredictionLog

    folder, record = model_files
    features = {k: v for k, v in record.items() if k != "customerID"}
    log = PredictionLog(tmp_path / "log.sqlite")
    for i in range(5):
        log.record(
            [Prediction(f"r{i}", 0, f"c{i}", "v1", "onnx", features, 0.25, False, 2.0)],
            logged_at=f"2026-11-0{i + 1}T00:00:00.000000+00:00",
        )
    log.record_outcome(positive=True, request_id="r4")
    log.close()
    out = tmp_path / f"batch{suffix}"
    common = ["--log", str(tmp_path / "log.sqlite"), "--out", str(out)]
    common += ["--meta", str(folder / "meta.json"), "--schema", str(folder / "schema.json")]
    version = ["--model-version", "v1"]
    assert cli.main(["log", "export", *common, *version, "--since", "2026-11-03"]) == 0
    assert "3 predictions of model v1 (1 with a known outcome)" in capsys.readouterr().out
    batch = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    assert batch["customerID"].tolist() == ["c2", "c3", "c4"]
    assert batch["Churn"].isna().tolist() == [True, True, False]
    assert batch["tenure"].tolist() == [record["tenure"]] * 3


def test_log_export_keeps_the_current_model_and_never_overwrites(model_files, tmp_path, capsys):
    from churnops.serving.prediction_log import Prediction, PredictionLog

    folder, record = model_files
    features = {k: v for k, v in record.items() if k != "customerID"}
    current = json.loads((folder / "meta.json").read_text())["model_sha256"][:12]
    log = PredictionLog(tmp_path / "log.sqlite")
    for i, version in enumerate([current, "old", current]):
        log.record([Prediction(f"r{i}", 0, f"c{i}", version, "onnx", features, 0.25, False, 2.0)])
    log.record([Prediction("x", 0, "c9", current, "onnx", {"age": 3}, 0.25, False, 2.0)])
    log.close()
    out = tmp_path / "batch.parquet"
    common = ["--log", str(tmp_path / "log.sqlite"), "--out", str(out)]
    common += ["--meta", str(folder / "meta.json"), "--schema", str(folder / "schema.json")]
    assert cli.main(["log", "export", *common]) == 0
    said = capsys.readouterr().out
    assert f"2 predictions of model {current}" in said
    assert "left out 1 of other model versions" in said
    assert "and 1 whose inputs do not match" in said
    assert pd.read_parquet(out)["request_id"].tolist() == ["r0", "r2"]
    assert cli.main(["log", "export", *common]) == 2
    assert "exists: pass --overwrite" in capsys.readouterr().err
    assert cli.main(["log", "export", *common, "--overwrite", "--model-version", "all"]) == 0
    assert len(pd.read_parquet(out)) == 3


def test_log_export_of_a_foreign_file_is_one_line_and_exit_2(tmp_path, capsys):
    import sqlite3

    foreign = tmp_path / "other.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE t (x)")
    args = ["log", "export", "--log", str(foreign), "--out", str(tmp_path / "x.parquet")]
    args += ["--meta", str(tmp_path / "m.json"), "--schema", str(tmp_path / "s.json")]
    (tmp_path / "m.json").write_text(
        '{"model_sha256": "abc", "positive_label": "1", "classes": ["0", "1"]}'
    )
    (tmp_path / "s.json").write_text('{"features": {"a": {"kind": "numeric"}}}')
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "is not a churnops prediction log" in err
    assert "Traceback" not in err


def test_log_export_errors_name_the_problem(tmp_path, capsys):
    missing = ["log", "export", "--log", str(tmp_path / "none.sqlite"), "--out", "x.parquet"]
    assert cli.main(missing) == 2
    assert "no prediction log at" in capsys.readouterr().err
