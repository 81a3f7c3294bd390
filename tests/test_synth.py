"""`churnops synth` end to end: parts of the asked size, a fidelity report, progress on stderr,
nothing overwritten unless asked, bad sizes refused by name."""

from __future__ import annotations

import json

import pandas as pd

from churnops import cli
from churnops.data import cleaning
from churnops.params import load_params
from tests.conftest import TEST_PARAMS


def test_synth_writes_parts_and_a_fidelity_report(model_files, telco, tmp_path, capsys):
    folder, _ = model_files
    spec = cleaning.DataSpec.from_params(load_params(TEST_PARAMS))
    rows, _ = cleaning.clean(telco, spec)
    rows.iloc[:5000].to_parquet(tmp_path / "train.parquet", index=False)
    rows.iloc[5000:].to_parquet(tmp_path / "test.parquet", index=False)
    out = tmp_path / "synthetic"
    args = ["synth", "--rows", "3000", "--part-rows", "1000", "--out", str(out),
            "--train", str(tmp_path / "train.parquet"), "--test", str(tmp_path / "test.parquet"),
            "--model", str(folder / "model.joblib"), "--params", str(TEST_PARAMS)]  # fmt: skip
    assert cli.main(args) == 0
    said = capsys.readouterr()
    assert "3,000 rows ->" in said.out
    assert "ROC-AUC on the real test split" in said.out
    assert "3 part(s) on in-process" in said.err
    assert sorted(p.name for p in out.iterdir()) == [f"part-0000{i}.parquet" for i in range(3)]
    assert len(pd.read_parquet(out)) == 3000
    report = json.loads((tmp_path / "synthetic.fidelity.json").read_text())
    assert set(report["columns"]) == set(spec.columns)
    assert report["roc_auc"]["training_rows"] == 1000  # the first part, all of it
    assert cli.main(args) == 2
    assert "exists: pass --overwrite" in capsys.readouterr().err
    assert cli.main([*args, "--overwrite", "--rows", "0"]) == 2
    assert "--rows and --part-rows must be >= 1, got 0" in capsys.readouterr().err
