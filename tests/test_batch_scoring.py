"""Batch scoring: the input contract, vectorised; chunking changes nothing; bad rows are reported
with their row number and reason, never dropped silently; no score is NaN; outputs never
destroy data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from churnops import cli, files
from churnops.data.contract import Contract
from churnops.serving import artifact, batch_scoring


def _input(model_files, tmp_path, kind):
    folder, record = model_files
    rows = pd.DataFrame([record] * 25)
    rows["customerID"] = [f"c{i}" for i in range(25)]
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
    model = artifact.load(folder / "model.joblib", folder / "meta.json", folder / "schema.json")
    results = []
    for chunk in (4, 1000):
        out, rej = tmp_path / f"out{chunk}.parquet", tmp_path / f"rej{chunk}.parquet"
        counts = batch_scoring.score(
            files.read_chunks(path, chunk),
            model,
            Contract(model.schema, "reject"),
            output=out,
            rejects=rej,
        )
        assert counts == {"rows": 25, "scored": 23, "rejected": 2, "flagged": 0}
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


def test_the_compiled_path_reads_parquet_text_as_categories_and_scores_the_same(
    model_files, tmp_path
):
    folder, _, parquet = _input(model_files, tmp_path, "parquet")
    _, _, csv = _input(model_files, tmp_path, "csv")
    model = artifact.load(
        folder / "model.joblib",
        folder / "meta.json",
        folder / "schema.json",
        compiled_dir=folder / "compiled",
    )
    assert model.engine == "onnx"
    (first,) = files.read_chunks(parquet, 100, categories=model.categorical_features)
    assert isinstance(first["Contract"].dtype, pd.CategoricalDtype)
    assert first["customerID"].dtype == object  # not a category: ids are not
    outputs = []
    for path, categories in ((parquet, model.categorical_features), (csv, ())):
        out, rej = tmp_path / f"out-{path.suffix}.parquet", tmp_path / f"rej-{path.suffix}.parquet"
        batch_scoring.score(
            files.read_chunks(path, 7, categories=categories),
            model,
            Contract(model.schema, "reject"),
            output=out,
            rejects=rej,
        )
        outputs.append((pd.read_parquet(out), pd.read_parquet(rej)))
    pd.testing.assert_frame_equal(outputs[0][0], outputs[1][0])
    pd.testing.assert_frame_equal(outputs[0][1], outputs[1][1])
    assert outputs[0][1]["row"].tolist() == [4, 11]


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


def test_a_non_finite_score_is_a_reject_never_a_nan_probability(model_files, tmp_path):
    folder, record = model_files
    model = artifact.load(folder / "model.joblib", folder / "meta.json", folder / "schema.json")
    schema = json.loads((folder / "schema.json").read_text())
    for info in schema["features"].values():  # a contract that lets absurd numbers through
        if info["kind"] == "numeric":
            info["accept"]["flag"] = [None, None]
    rows = pd.DataFrame([record] * 3)
    rows["tenure"] = [1.0, 1e308, 2.0]
    rows["MonthlyCharges"] = [20.0, 1e308, 30.0]
    path = tmp_path / "in.parquet"
    rows.to_parquet(path, index=False)
    out, rej = tmp_path / "out.parquet", tmp_path / "rej.parquet"
    counts = batch_scoring.score(
        files.read_chunks(path, 10),
        model,
        Contract(schema, "flag"),
        output=out,
        rejects=rej,
    )
    assert counts["scored"] == 2
    assert counts["rejected"] == 1
    scored = pd.read_parquet(out)
    assert np.isfinite(scored["probability"]).all()
    assert pd.read_parquet(rej)["reason"].tolist() == [batch_scoring.NOT_FINITE_SCORE]


def test_flagged_rows_carry_their_warnings(model_files, tmp_path):
    folder, record = model_files
    model = artifact.load(folder / "model.joblib", folder / "meta.json", folder / "schema.json")
    rows = pd.DataFrame([record] * 2)
    rows["Contract"] = ["Lifetime", record["Contract"]]
    path = tmp_path / "in.csv"
    rows.to_csv(path, index=False)
    out, rej = tmp_path / "out.parquet", tmp_path / "rej.parquet"
    counts = batch_scoring.score(
        files.read_chunks(path, 10),
        model,
        Contract(model.schema, "flag"),
        output=out,
        rejects=rej,
    )
    assert counts == {"rows": 2, "scored": 2, "rejected": 0, "flagged": 1}
    warnings = pd.read_parquet(out)["warnings"].tolist()
    assert "Contract='Lifetime' was not seen in training" in warnings[0]
    assert warnings[1] == ""


def test_predict_refuses_paths_that_would_destroy_data(model_files, tmp_path, capsys):
    folder, _, path = _input(model_files, tmp_path, "csv")
    common = ["--model", str(folder / "model.joblib"), "--meta", str(folder / "meta.json")]
    common += ["--schema", str(folder / "schema.json"), "--input", str(path)]
    before = path.read_bytes()
    out = tmp_path / "scores.parquet"
    cases = [
        (["--output", str(path)], "is the input file"),
        (["--output", str(out), "--rejects", str(path)], "is the input file"),
        (["--output", str(out), "--rejects", str(out)], "are the same file"),
    ]
    for extra, message in cases:
        assert cli.main(["predict", *common, *extra]) == 2
        assert message in capsys.readouterr().err
    assert path.read_bytes() == before
    assert not out.exists()
    assert cli.main(["predict", *common, "--output", str(out)]) == 0
    first = out.read_bytes()
    capsys.readouterr()
    assert cli.main(["predict", *common, "--output", str(out)]) == 2
    assert "exists: pass --overwrite" in capsys.readouterr().err
    assert out.read_bytes() == first
    assert cli.main(["predict", *common, "--output", str(out), "--overwrite"]) == 0


def test_chunks_of_a_csv_in_the_params_format(tmp_path):
    from churnops.files import CsvFormat, InputFileError

    path = tmp_path / "in.csv"
    path.write_text("id;amount\na;1,5\nb;2\nc;-0,25\n")
    chunks = list(files.read_chunks(path, 2, CsvFormat(sep=";", decimal=",")))
    assert [c["amount"].tolist() for c in chunks] == [["1.5", "2"], ["-0.25"]]
    with pytest.raises(InputFileError, match=r"set prepare\.csv\.sep: ';'"):
        list(files.read_chunks(path, 2))


def test_predict_explain_adds_reason_codes_that_sum_to_the_log_odds(model_files, tmp_path):
    folder, _, path = _input(model_files, tmp_path, "csv")
    out = tmp_path / "explained.parquet"
    args = ["predict", "--input", str(path), "--output", str(out), "--explain", "3",
            "--model", str(folder / "model.joblib"), "--meta", str(folder / "meta.json"),
            "--schema", str(folder / "schema.json"),
            "--compiled", str(folder / "compiled")]  # fmt: skip
    assert cli.main(args) == 0
    scored = pd.read_parquet(out)
    assert len(scored) == 23
    for p, text in zip(scored["probability"], scored["explanation"], strict=True):
        explanation = json.loads(text)
        listed = sum(c["contribution"] for c in explanation["contributions"])
        assert len(explanation["contributions"]) == 3
        assert explanation["baseline"] + listed + explanation["others"] == pytest.approx(
            np.log(p / (1 - p)), abs=1e-5
        )
    assert cli.main([*args[:-8], "--explain", "0", *args[-8:], "--overwrite"]) == 2
