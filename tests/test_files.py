import json

import pandas as pd
import pytest

from churnops.files import (
    CsvFormat,
    InputFileError,
    dumps_json,
    file_digest,
    read_table,
    staged_folders,
    staged_outputs,
)


def test_read_table_csv_as_text_keeps_codes_and_blanks(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b,c\r\n01,None, \r\n2,x,\r\n")
    frame = read_table(path, as_text=True)
    assert frame["a"].tolist() == ["01", "2"]
    assert frame["b"].tolist() == ["None", "x"]  # "None" is a category, not missing
    assert frame["c"].iloc[0] == " "
    assert pd.isna(frame["c"].iloc[1])


def test_read_table_parquet_round_trip(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]}).to_parquet(path, index=False)
    assert read_table(path).shape == (2, 2)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("header.csv", b"a,b\n", "0 data rows"),
        ("blank.csv", b"\n\n", "no header and no rows"),
        ("bad.parquet", b"not parquet at all", "cannot be read as parquet"),
        ("data.xlsx", b"x", "unknown file type '.xlsx'"),
        ("binary.csv", b"a,b\n\xff\xfe\x00\x81,1\n", "not utf-8 text .* prepare.csv.encoding"),
    ],
)
def test_read_table_rejects_bad_files(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        read_table(path, as_text=True)


def test_a_semicolon_file_read_with_commas_names_the_separator_to_set(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("age;income;label\n30;1,5;yes\n40;2,25;no\n")
    with pytest.raises(InputFileError, match=r"looks ';'-separated; set prepare.csv.sep: ';'"):
        read_table(path, as_text=True)
    frame = read_table(path, as_text=True, csv=CsvFormat(sep=";", decimal=","))
    assert frame.columns.tolist() == ["age", "income", "label"]
    assert frame["income"].tolist() == ["1.5", "2.25"]  # for the number parser
    assert frame["label"].tolist() == ["yes", "no"]
    typed = read_table(path, csv=CsvFormat(sep=";", decimal=","))
    assert typed["income"].tolist() == [1.5, 2.25]


def test_a_latin1_file_reads_with_its_encoding(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("city,label\nZürich,yes\n".encode("latin-1"))
    with pytest.raises(InputFileError, match=r"set prepare\.csv\.encoding"):
        read_table(path, as_text=True)
    assert read_table(path, csv=CsvFormat(encoding="latin-1"))["city"].tolist() == ["Zürich"]


def test_read_table_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        read_table(tmp_path / "none.csv")


def test_file_digest(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert file_digest(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert file_digest(path, "md5") == "900150983cd24fb0d6963f7d28e17f72"


def test_dumps_json_is_stable_and_strict():
    assert dumps_json({"b": 1, "a": [1.5]}) == '{\n  "a": [\n    1.5\n  ],\n  "b": 1\n}\n'
    with pytest.raises(ValueError, match="Out of range float"):
        dumps_json({"x": float("nan")})


def test_staged_outputs_moves_all_on_success(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with staged_outputs() as out:
        out.write_json("a/one.json", {"x": 1})
        out.write_text("b/two.txt", "hi\n")
        assert not (tmp_path / "a" / "one.json").exists()
    assert json.loads((tmp_path / "a" / "one.json").read_text()) == {"x": 1}
    assert (tmp_path / "b" / "two.txt").read_text() == "hi\n"
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_staged_outputs_leaves_nothing_on_failure(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def failing_stage():
        with staged_outputs() as out:
            out.write_json("a/one.json", {"x": 1})
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_stage()
    assert not (tmp_path / "a").exists()
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_staged_outputs_rejects_a_path_never_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def forgetful_stage():
        with staged_outputs() as out:
            out.write_text("ok.txt", "x")
            out.path("missing.txt")

    with pytest.raises(FileNotFoundError, match="never written"):
        forgetful_stage()
    assert not (tmp_path / "ok.txt").exists()


def test_staged_csv_has_no_index_and_unix_line_ends(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with staged_outputs() as out:
        out.write_csv("t.csv", pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
    assert (tmp_path / "t.csv").read_bytes() == b"a,b\n1,x\n2,y\n"


def test_refuse_overwrite_names_the_existing_file(tmp_path):
    from churnops.files import refuse_overwrite

    new, old = tmp_path / "new.parquet", tmp_path / "old.parquet"
    old.write_text("x")
    refuse_overwrite(new, overwrite=False)
    refuse_overwrite(new, old, overwrite=True)
    with pytest.raises(ValueError, match=r"old\.parquet exists: pass --overwrite"):
        refuse_overwrite(new, old, overwrite=False)


def test_check_digest_names_the_setting_both_digests_and_the_fix(tmp_path):
    from churnops.files import InputFileError, check_digest, file_digest

    path = tmp_path / "data.csv"
    path.write_text("a\n1\n")
    check_digest(path, file_digest(path), setting="prepare.sha256", fix="update it")
    with pytest.raises(
        InputFileError,
        match=r"prepare\.sha256 is 0{64} but .*data\.csv has sha256 [0-9a-f]{64}: update it",
    ):
        check_digest(path, "0" * 64, setting="prepare.sha256", fix="update it")
    with pytest.raises(InputFileError, match=r"has sha256 none \(no such file\)"):
        check_digest(tmp_path / "gone.csv", "0" * 64, setting="gate.holdout.sha256", fix="pull it")


def test_a_failed_run_leaves_the_old_parts_and_no_staging_folder(tmp_path):
    out, rej = tmp_path / "out", tmp_path / "out.rejects"
    out.mkdir()
    (out / "part-00000.parquet").write_bytes(b"old")
    with pytest.raises(RuntimeError, match="a worker died"):
        _write_then_fail(out, rej)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert (out / "part-00000.parquet").read_bytes() == b"old"
    with staged_folders(out, rej) as (new, _):
        (new / "part-00000.parquet").write_bytes(b"new")
    assert (out / "part-00000.parquet").read_bytes() == b"new"
    assert rej.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out.rejects"]


def _write_then_fail(out, rej):
    with staged_folders(out, rej) as (new, _):
        (new / "part-00000.parquet").write_bytes(b"half")
        raise RuntimeError("a worker died")
