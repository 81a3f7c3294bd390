"""A data set in parts: a folder or a glob pattern of Parquet (or CSV) files, as batch scoring
(`churnops predict`) and the monitor (`churnops monitor`, the monitor stage) read it."""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from churnops.data.schema import DataError
from churnops.files import CsvFormat, file_digest, read_table

SUFFIXES = (".parquet", ".pq", ".csv")


def is_dataset(given: str | Path) -> bool:
    """Whether `--input` names several files: a folder, or a glob pattern."""
    text = str(given)
    return Path(text).is_dir() or glob.has_magic(text)


def input_files(given: str | Path) -> list[Path]:
    """The files of a folder (its Parquet and CSV files) or of a glob pattern, sorted.

    Raises:
        DataError: nothing matches, or the files are of more than one kind.
    """
    text = str(given)
    if Path(text).is_dir():
        found = [p for p in Path(text).iterdir() if p.suffix.lower() in SUFFIXES]
    else:
        found = [Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file()]
    files = sorted(found)
    if not files:
        raise DataError(f"input {text}: no file matches (expected .parquet or .csv files)")
    kinds = {".csv" if p.suffix.lower() == ".csv" else ".parquet" for p in files}
    if len(kinds) > 1 or files[0].suffix.lower() not in SUFFIXES:
        shown = ", ".join(p.name for p in files[:3])
        raise DataError(f"input {text}: expected only .parquet or only .csv files, got {shown}")
    return files


def parquet_rows(files: Sequence[Path]) -> int | None:
    """The rows of Parquet files, from their footers (None for CSV files: unknown unread)."""
    if any(p.suffix.lower() == ".csv" for p in files):
        return None
    return sum(pq.ParquetFile(p).metadata.num_rows for p in files)


def digest(files: Sequence[Path]) -> str:
    """One sha256 for the files: of each file's name and sha256, in order."""
    total = hashlib.sha256()
    for path in files:
        total.update(f"{Path(path).name}\0{file_digest(path)}\n".encode())
    return total.hexdigest()


def read_batch(given: str | Path, csv: CsvFormat | None = None) -> pd.DataFrame:
    """A file, or every file of a folder or glob (`input_files`) one after the other, whole
    (for the pages that draw every row; the monitor reads parts one at a time)."""
    if not is_dataset(given):
        return read_table(given, csv=csv)
    return pd.concat([read_table(p, csv=csv) for p in input_files(given)], ignore_index=True)
