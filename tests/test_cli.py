import json

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
