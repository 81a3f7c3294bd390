"""File handling shared by the stages, the CLI and the API: tables, JSON, hashes, atomic outputs."""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


class InputFileError(ValueError):
    """An input file is missing, unreadable, empty or of an unknown format."""


@dataclass(frozen=True)
class CsvFormat:
    """How a CSV file is written (params `prepare.csv`): field separator, decimal mark, encoding."""

    sep: str = ","
    decimal: str = "."
    encoding: str = "utf-8"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> CsvFormat:
        return cls(**((params.get("prepare") or {}).get("csv") or {}))

    def read_options(self, *, as_text: bool) -> dict[str, Any]:
        """pandas.read_csv keywords (text cells keep a decimal comma; `to_decimal_point` fixes
        them)."""
        # pandas' own UTF-8 path (encoding=None) refuses invalid bytes; "utf-8" given by name
        # lets some through
        utf8 = codecs.lookup(self.encoding).name == "utf-8"
        options = {"sep": self.sep, "encoding": None if utf8 else self.encoding}
        return options if as_text else {**options, "decimal": self.decimal}


def to_decimal_point(frame: pd.DataFrame, csv: CsvFormat) -> pd.DataFrame:
    """Text cells read from a CSV whose decimal mark is not '.' turned into the dotted form the
    number parser reads ("1,5" -> "1.5"); other cells unchanged."""
    if csv.decimal == ".":
        return frame
    pattern = rf"^\s*[+-]?\d*{re.escape(csv.decimal)}\d+\s*$"  # e.g. "1,5" or "-0,25"
    for name in frame.select_dtypes(include="object").columns:
        column = frame[name]
        looks = column.str.match(pattern, na=False)
        if looks.any():
            frame[name] = column.where(~looks, column.str.replace(csv.decimal, ".", regex=False))
    return frame


def read_table(
    path: str | Path, *, as_text: bool = False, csv: CsvFormat | None = None
) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame.

    Args:
        path: a `.csv` or `.parquet` file.
        as_text: read every CSV cell as a string (so numeric-looking text is coerced later,
            with counts, rather than silently by the parser). Ignored for Parquet.
        csv: the CSV's separator, decimal mark and encoding (default: comma, point, UTF-8).

    Raises:
        InputFileError: naming the path and what is wrong with it, with the setting to change
            when the file looks written with another separator or encoding.
    """
    path, csv = Path(path), csv or CsvFormat()
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise InputFileError(f"{path}: unknown file type {suffix!r}, expected .csv or .parquet")
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise InputFileError(f"{path}: the file is empty (0 bytes)")
    try:
        if suffix == ".csv":
            frame = pd.read_csv(
                path,
                dtype=str if as_text else None,
                keep_default_na=False,
                na_values=[""],
                skipinitialspace=False,
                **csv.read_options(as_text=as_text),
            )
            check_separator(frame, path, csv)
            if as_text:
                frame = to_decimal_point(frame, csv)
        else:
            frame = pd.read_parquet(path)
    except pd.errors.EmptyDataError as exc:
        raise InputFileError(f"{path}: the file has no header and no rows") from exc
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path}: not {csv.encoding} text (byte {exc.object[exc.start : exc.start + 1]!r} at "
            f"position {exc.start}); set prepare.csv.encoding to the file's encoding, e.g. latin-1"
        ) from exc
    except LookupError as exc:
        raise InputFileError(f"{path}: prepare.csv.encoding {csv.encoding!r}: {exc}") from exc
    except (pd.errors.ParserError, OSError, ValueError) as exc:
        raise InputFileError(f"{path}: cannot be read as {suffix[1:]}: {exc}") from exc
    if frame.empty:
        raise InputFileError(f"{path}: the file has a header but 0 data rows")
    return frame


def read_chunks(
    path: str | Path,
    rows: int,
    csv: CsvFormat | None = None,
    categories: Collection[str] = (),
) -> Iterator[pd.DataFrame]:
    """Chunks of at most `rows` rows of a CSV (read as text, in the `csv` format) or Parquet
    file. The Parquet text columns named in `categories` arrive as pandas Categorical columns,
    their dictionary decoded once rather than a string per row."""
    path, csv = Path(path), csv or CsvFormat()
    if path.suffix.lower() in (".parquet", ".pq"):
        file = pq.ParquetFile(path)
        text = [
            f.name
            for f in file.schema_arrow
            if f.name in categories
            and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
        ]
        file = pq.ParquetFile(path, read_dictionary=text) if text else file
        for record_batch in file.iter_batches(batch_size=rows):
            yield record_batch.to_pandas()
    elif path.suffix.lower() == ".csv":
        reader = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            chunksize=rows,
            **csv.read_options(as_text=True),
        )
        for i, chunk in enumerate(reader):
            if i == 0:
                check_separator(chunk, path, csv)
            yield to_decimal_point(chunk, csv)
    else:
        raise InputFileError(
            f"{path}: unknown file type {path.suffix!r}, expected .csv or .parquet"
        )


SEPARATORS = (",", ";", "\t", "|")


def check_separator(frame: pd.DataFrame, path: Path, csv: CsvFormat) -> None:
    """Refuse a CSV read into one column whose header holds another separator many times: it was
    written with that separator, and every column would look missing.

    Raises:
        InputFileError: naming the separator found and the setting to change.
    """
    if len(frame.columns) != 1:
        return
    header = str(frame.columns[0])
    counts = {sep: header.count(sep) for sep in SEPARATORS if sep != csv.sep}
    found, times = max(counts.items(), key=lambda item: item[1])
    if times:
        hint = " (and prepare.csv.decimal: ',' if numbers are written 1,5)" if found == ";" else ""
        raise InputFileError(
            f"{path}: read as one column with separator {csv.sep!r}, but its header has "
            f"{times} {found!r}: the file looks {found!r}-separated; set prepare.csv.sep: "
            f"{found!r}{hint}"
        )


def refuse_overwrite(*paths: Path, overwrite: bool) -> None:
    """Raise unless the outputs are new or replacing them was asked for (`--overwrite`).

    Raises:
        ValueError: naming the first existing path.
    """
    for path in paths:
        if path.exists() and not overwrite:
            raise ValueError(f"{path} exists: pass --overwrite to replace it")


def file_digest(path: str | Path, algorithm: str = "sha256") -> str:
    """Return the hex digest of a file's bytes (sha256 by default, or md5)."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def dumps_json(data: Any) -> str:
    """Serialise to stable, diff-friendly JSON (sorted keys, 2-space indent, final newline)."""
    return json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n"


def check_digest(path: str | Path, expected: str, *, setting: str, fix: str) -> None:
    """The file's sha256 must be `expected`, the value of params `setting`.

    Raises:
        InputFileError: naming the setting, both digests (or that the file is missing) and `fix`.
    """
    found = file_digest(path) if Path(path).is_file() else "none (no such file)"
    if found != expected:
        raise InputFileError(f"{setting} is {expected} but {path} has sha256 {found}: {fix}")


def read_json(path: str | Path) -> Any:
    """Read a JSON file."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


class StagedOutputs:
    """Paths to write a stage's outputs to; moved into place only when every write succeeded."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._targets: dict[Path, Path] = {}

    def path(self, final: str | Path) -> Path:
        """Return the temporary path to write `final` to."""
        final = Path(final)
        temp = self._workdir / f"{len(self._targets):03d}{final.suffix}"
        self._targets[final] = temp
        return temp

    def write_text(self, final: str | Path, text: str) -> None:
        """Stage a text file (UTF-8, `\\n` line ends)."""
        self.path(final).write_text(text, encoding="utf-8", newline="\n")

    def write_json(self, final: str | Path, data: Any) -> None:
        """Stage a JSON file in the stable format of `dumps_json`."""
        self.write_text(final, dumps_json(data))

    def write_csv(self, final: str | Path, frame: pd.DataFrame) -> None:
        """Stage a CSV file (no index, `\\n` line ends): plot data and tables DVC diffs."""
        self.write_text(final, frame.to_csv(index=False, lineterminator="\n"))

    def write_parquet(self, final: str | Path, frame: pd.DataFrame) -> None:
        """Stage a Parquet file (no index, so it round-trips exactly)."""
        frame.to_parquet(self.path(final), index=False)

    def _commit(self) -> None:
        for final, temp in self._targets.items():
            if not temp.exists():
                raise FileNotFoundError(f"output {final} was staged but never written")
        for final, temp in self._targets.items():
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, final) if _same_device(temp, final.parent) else shutil.move(
                temp, final
            )


def _same_device(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.stat().st_dev


@contextlib.contextmanager
def staged_outputs() -> Iterator[StagedOutputs]:
    """Collect a stage's outputs in a temporary folder and move them into place at the end.

    If the block raises, nothing is moved and the temporary folder is removed, so a failed
    stage leaves no partial outputs behind.
    """
    workdir = Path(tempfile.mkdtemp(prefix="churnops-", dir=_temp_root()))
    try:
        staged = StagedOutputs(workdir)
        yield staged
        staged._commit()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _temp_root() -> str | None:
    # Stage temporaries beside the project (same file system, so the final move is a rename).
    root = Path(".tmp")
    try:
        root.mkdir(exist_ok=True)
    except OSError:
        return None
    return str(root)


@contextlib.contextmanager
def staged_folders(*folders: Path) -> Iterator[list[Path]]:
    """Empty folders beside `folders` to write into; each replaces its folder only when the
    block ends without an error (so no partial output is ever left in place), else they are
    removed. Beside, not in a system temporary folder: on the same storage, which the workers
    of a remote cluster see too."""
    staged = []
    try:
        for folder in folders:
            folder.parent.mkdir(parents=True, exist_ok=True)
            staged.append(Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent)))
        yield staged
        for folder, temp in zip(folders, staged, strict=True):
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(temp, folder)
    finally:
        for temp in staged:
            shutil.rmtree(temp, ignore_errors=True)
