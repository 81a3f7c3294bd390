"""A data set in parts: a folder or a glob of one kind of file, its rows from the Parquet
footers, and one digest for all its files."""

from __future__ import annotations

import pandas as pd
import pytest

from churnops.data import parts
from churnops.data.schema import DataError


def _files(folder, n=2):
    folder.mkdir()
    out = []
    for i in range(n):
        path = folder / f"day-{i}.parquet"
        pd.DataFrame({"a": range(i + 3)}).to_parquet(path, index=False)
        out.append(path)
    return out


def test_inputs_are_a_folder_or_a_glob_of_one_kind(tmp_path):
    files = _files(tmp_path / "in")
    assert parts.input_files(tmp_path / "in") == files
    assert parts.input_files(str(tmp_path / "in" / "*-1.parquet")) == files[1:]
    assert parts.is_dataset(str(tmp_path / "in" / "*.parquet"))
    assert not parts.is_dataset(files[0])
    assert parts.parquet_rows(files) == 3 + 4
    with pytest.raises(DataError, match=r"no file matches"):
        parts.input_files(str(tmp_path / "in" / "*.csv"))
    (tmp_path / "in" / "extra.csv").write_text("a\n1\n")
    assert parts.parquet_rows([tmp_path / "in" / "extra.csv"]) is None
    with pytest.raises(DataError, match=r"only .parquet or only .csv files"):
        parts.input_files(tmp_path / "in")


def test_the_digest_changes_with_any_file_and_with_the_names(tmp_path):
    files = _files(tmp_path / "in", n=3)
    first = parts.digest(files)
    assert parts.digest(files) == first
    assert parts.digest(files[:2]) != first
    files[1].rename(tmp_path / "in" / "renamed.parquet")
    assert parts.digest([files[0], tmp_path / "in" / "renamed.parquet", files[2]]) != first


def test_read_batch_reads_a_file_or_every_part(tmp_path):
    files = _files(tmp_path / "in", n=2)
    assert parts.read_batch(files[0])["a"].tolist() == [0, 1, 2]
    assert parts.read_batch(tmp_path / "in")["a"].tolist() == [0, 1, 2, 0, 1, 2, 3]
