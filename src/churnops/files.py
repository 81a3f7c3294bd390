"""File handling shared by the stages, the CLI and the API: tables, JSON, hashes, atomic outputs."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


class InputFileError(ValueError):
    """An input file is missing, unreadable, empty or of an unknown format."""


def read_table(path: str | Path, *, as_text: bool = False) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame.

    Args:
        path: a `.csv` or `.parquet` file.
        as_text: read every CSV cell as a string (so numeric-looking text is coerced later,
            with counts, rather than silently by the parser). Ignored for Parquet.

    Raises:
        InputFileError: naming the path and what is wrong with it.
    """
    path = Path(path)
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
            )
        else:
            frame = pd.read_parquet(path)
    except pd.errors.EmptyDataError as exc:
        raise InputFileError(f"{path}: the file has no header and no rows") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise InputFileError(f"{path}: cannot be read as {suffix[1:]}: {exc}") from exc
    if frame.empty:
        raise InputFileError(f"{path}: the file has a header but 0 data rows")
    return frame


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
