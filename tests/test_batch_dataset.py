"""Scoring a partitioned data set: a folder or glob in, one part per file out (scores and
rejects), the same bytes whether the parts are scored here or on a real 2-worker LocalCluster;
output folders are never replaced unless asked, and never when they hold other files."""

from __future__ import annotations

import pandas as pd
import pytest

from churnops import cli
from churnops.data.contract import Contract
from churnops.serving import artifact, batch_dataset


def _dataset(model_files, folder, *, files=4, rows=60):
    _, record = model_files
    folder.mkdir()
    for i in range(files):
        frame = pd.DataFrame([record] * rows)
        frame["customerID"] = [f"f{i}-{j}" for j in range(rows)]
        frame["tenure"] = [float(j % 70) for j in range(rows)]
        frame.loc[3, "tenure"] = -9.0  # refused: below the declared bound
        frame.loc[7, "Contract"] = "Lifetime"  # refused: unseen category
        frame.to_parquet(folder / f"day-{i}.parquet", index=False)
    return sorted(folder.glob("*.parquet"))


def _model(folder):
    return artifact.load(
        folder / "model.joblib",
        folder / "meta.json",
        folder / "schema.json",
        compiled_dir=folder / "compiled",
    )


def test_parts_are_the_same_bytes_in_process_and_on_the_cluster(model_files, tmp_path, dask_client):
    files = _dataset(model_files, tmp_path / "in")
    model = _model(model_files[0])
    contract = Contract(model.schema, "reject")
    outputs = {}
    for name, client in (("here", None), ("cluster", dask_client)):
        out, rej = tmp_path / name, tmp_path / f"{name}.rejects"
        out.mkdir()
        rej.mkdir()
        seen = []
        counts = batch_dataset.score_dataset(
            files,
            model,
            contract,
            output=out,
            rejects=rej,
            chunk_rows=25,
            client=client,
            progress=seen.append,
        )
        assert counts == {"rows": 240, "scored": 232, "rejected": 8, "flagged": 0}
        assert sum(seen) == 240
        outputs[name] = {
            f"{p.parent.name.removeprefix(name)}/{p.name}": p.read_bytes()
            for p in sorted(out.iterdir()) + sorted(rej.iterdir())
        }
    assert list(outputs["here"]) == [f"/part-0000{i}.parquet" for i in range(4)] + [
        f".rejects/part-0000{i}.parquet" for i in range(4)
    ]
    assert outputs["cluster"] == outputs["here"]
    rejects = pd.read_parquet(tmp_path / "here.rejects" / "part-00002.parquet")
    assert rejects[["source", "row", "id"]].values.tolist() == [
        ["day-2.parquet", 3, "f2-3"],
        ["day-2.parquet", 7, "f2-7"],
    ]
    scored = pd.read_parquet(tmp_path / "here" / "part-00000.parquet")
    assert scored["source"].unique().tolist() == ["day-0.parquet"]
    assert len(scored) == 58


def test_output_folders_are_replaced_only_when_asked(model_files, tmp_path):
    files = _dataset(model_files, tmp_path / "in", files=1)
    out, rej = tmp_path / "out", tmp_path / "out.rejects"
    batch_dataset.check_folders(files, out, rej, overwrite=False)  # new: fine
    out.mkdir()
    (out / "part-00000.parquet").write_bytes(b"old")
    with pytest.raises(ValueError, match=r"out exists: pass --overwrite"):
        batch_dataset.check_folders(files, out, rej, overwrite=False)
    batch_dataset.check_folders(files, out, rej, overwrite=True)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"holds files that are not scoring parts \(notes.txt\)"):
        batch_dataset.check_folders(files, out, rej, overwrite=True)
    with pytest.raises(ValueError, match=r"same folder"):
        batch_dataset.check_folders(files, out, out, overwrite=True)
    with pytest.raises(ValueError, match=r"inside the output folder"):
        batch_dataset.check_folders(files, tmp_path, rej, overwrite=True)


def test_cli_scores_a_glob_on_a_dask_local_cluster(model_files, tmp_path, capsys):
    folder, _ = model_files
    _dataset(model_files, tmp_path / "in", files=3)
    out = tmp_path / "scores"
    args = ["predict", "--input", str(tmp_path / "in" / "day-*.parquet"), "--output", str(out),
            "--model", str(folder / "model.joblib"), "--meta", str(folder / "meta.json"),
            "--schema", str(folder / "schema.json"), "--compiled", str(folder / "compiled"),
            "--scheduler", "dask-local", "--workers", "2"]  # fmt: skip
    assert cli.main(args) == 0
    said = capsys.readouterr()
    assert "180 rows, 174 scored with onnx" in said.out
    assert "scored on a Dask LocalCluster of 2 worker process(es)" in said.err
    assert sorted(p.name for p in out.iterdir()) == [f"part-0000{i}.parquet" for i in range(3)]
    assert len(pd.read_parquet(tmp_path / "scores.rejects")) == 6
    assert cli.main(args) == 2  # never replaced without --overwrite
    assert "exists: pass --overwrite" in capsys.readouterr().err
    assert cli.main([*args[:-4], "--scheduler", "tcp://nohost"]) == 2
    assert "base.scheduler must be" in capsys.readouterr().err
