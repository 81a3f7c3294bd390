"""Batch scoring: the API's validation rules, vectorised; chunking changes nothing; bad rows are
reported with their row number and reason, never dropped silently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnops import batch, cli
from churnops.api import serving
from churnops.schema import DataError

SCHEMA = {
    "features": {
        "charge": {"kind": "numeric", "min": 10.0, "max": 100.0, "missing_share": 0.0},
        "plan": {"kind": "categorical", "categories": ["a", "b"], "missing_share": 0.0},
    }
}


def test_validate_gives_each_row_its_reasons():
    rows = pd.DataFrame(
        {"charge": ["50", "cheap", "inf", "500", None], "plan": ["a", "z", "b", 1.0, None]}
    )
    typed, reasons = batch.validate(rows, SCHEMA, policy="reject")
    assert reasons.tolist() == [
        "",
        "charge=cheap is not a number; plan=z was not seen in training",
        "charge=inf is not finite",
        "charge=500 is outside the training range [10.0, 100.0]; plan=1.0 was not seen in training",
        "",
    ]
    assert typed["charge"].iloc[0] == 50.0
    _, flagged = batch.validate(rows, SCHEMA, policy="flag")
    assert flagged.tolist()[3] == ""  # out of range and unseen are accepted when flagging
    assert "not a number" in flagged.tolist()[1]


def test_validate_names_a_missing_column():
    with pytest.raises(DataError, match=r"missing feature column\(s\) \['plan'\]"):
        batch.validate(pd.DataFrame({"charge": [1.0]}), SCHEMA, policy="reject")


def _input(model_files, tmp_path, kind):
    folder, record = model_files
    rows = pd.DataFrame([record] * 25)
    rows["customer_id"] = [f"c{i}" for i in range(25)]
    rows.loc[4, "tenure"] = -3
    rows.loc[11, "Contract"] = "Lifetime"
    path = tmp_path / f"in.{kind}"
    if kind == "csv":
        rows.to_csv(path, index=False)
    else:
        rows.to_parquet(path, index=False)
    return folder, rows, path


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_score_writes_predictions_and_rejects_whatever_the_chunk_size(
    model_files,
    tmp_path,
    kind,
):
    folder, rows, path = _input(model_files, tmp_path, kind)
    model = serving.load(folder / "model.joblib", folder / "meta.json", folder / "schema.json")
    results = []
    for chunk in (4, 1000):
        out, rej = tmp_path / f"out{chunk}.parquet", tmp_path / f"rej{chunk}.parquet"
        counts = batch.score(
            batch.read_chunks(path, chunk),
            model,
            model.schema,
            policy="reject",
            id_column="customer_id",
            output=out,
            rejects=rej,
        )
        assert counts == {"rows": 25, "scored": 23, "rejected": 2}
        rejected = pd.read_parquet(rej)
        assert rejected["row"].tolist() == [4, 11]
        assert rejected["id"].tolist() == ["c4", "c11"]
        assert "tenure=-3" in rejected["reason"].iloc[0]
        results.append(pd.read_parquet(out))
    pd.testing.assert_frame_equal(results[0], results[1])
    scored = results[0]
    assert scored["row"].tolist() == [i for i in range(25) if i not in (4, 11)]
    expected = model.predict(rows.drop(index=[4, 11]).astype({"tenure": float}))["probability"]
    np.testing.assert_allclose(scored["probability"], expected.to_numpy(), atol=1e-12)


def test_cli_predict_end_to_end_and_errors(model_files, tmp_path, capsys):
    folder, _, path = _input(model_files, tmp_path, "csv")
    common = [
        "--model",
        str(folder / "model.joblib"),
        "--meta",
        str(folder / "meta.json"),
        "--schema",
        str(folder / "schema.json"),
    ]
    out = tmp_path / "scores.parquet"
    assert cli.main(["predict", "--input", str(path), "--output", str(out), *common]) == 0
    assert len(pd.read_parquet(out)) == 23
    assert len(pd.read_parquet(tmp_path / "scores.rejects.parquet")) == 2
    assert "25 rows, 23 scored" in capsys.readouterr().out
    missing = tmp_path / "none.csv"
    assert cli.main(["predict", "--input", str(missing), "--output", str(out), *common]) == 2
    assert "none.csv" in capsys.readouterr().err
