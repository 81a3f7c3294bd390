"""Batch scoring of a partitioned data set: a folder or a glob of Parquet (or CSV) files, each
scored into its own part of an output folder and of a rejects folder, in this process or on a
Dask cluster (`churnops.compute.engine`).

Each input file is one task: it is read in chunks (memory per worker stays bounded by
`chunk_rows`), checked with the input contract and scored by `batch_scoring.score`, which writes
`part-NNNNN.parquet` (NNNNN: the file's position in sorted order) in both folders, with the
file's name in a first column `source` and `row` counting within the file. The model goes to
each worker once (`Client.scatter(..., broadcast=True)`); a worker process runs ONNX Runtime on
one thread. Whatever the engine, the same function scores the same file, so the parts are the
same bytes. On a remote cluster the input and output folders must be on storage every worker
sees under the same path.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from churnops.compute.engine import run_tasks
from churnops.data.contract import Contract
from churnops.files import CsvFormat, read_chunks
from churnops.serving import batch_scoring

PART = "part-{:05d}.parquet"
COUNTS = ("rows", "scored", "rejected", "flagged")


def check_folders(files: Sequence[Path], output: Path, rejects: Path, *, overwrite: bool) -> None:
    """Refuse output folders that would destroy data: a file in the way, an input inside them,
    one folder for both, or an existing folder unless `overwrite` (and then only a folder of
    parts, which is replaced whole).

    Raises:
        ValueError: naming the folder and the clash.
    """
    if output.resolve() == rejects.resolve():
        raise ValueError(f"--output and --rejects are the same folder {output}: choose two")
    for folder in (output, rejects):
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"{folder} is a file; scoring a data set writes a folder of parts")
        inside = [f for f in files if folder.resolve() in f.resolve().parents]
        if inside:
            raise ValueError(f"input {inside[0]} is inside the output folder {folder}")
        if folder.exists() and any(folder.iterdir()):
            if not overwrite:
                raise ValueError(f"{folder} exists: pass --overwrite to replace it")
            other = [p.name for p in folder.iterdir() if not _is_part(p.name)]
            if other:
                raise ValueError(
                    f"{folder} holds files that are not scoring parts ({', '.join(other[:3])}): "
                    "choose a new or empty folder"
                )


def score_dataset(
    files: Sequence[Path],
    model: Any,
    contract: Contract,
    *,
    output: Path,
    rejects: Path,
    chunk_rows: int,
    csv: CsvFormat | None = None,
    client: Any = None,
    progress: Callable[[int], None] = lambda n: None,
    explain_top: int | None = None,
) -> dict[str, int]:
    """Score every file into `output/part-NNNNN.parquet` and `rejects/part-NNNNN.parquet`
    (folders that exist); on the client's workers when `client` is given.

    Returns:
        Counts of rows read, scored, rejected and flagged, summed over the files.
    """
    tasks = [
        _Part(
            path=str(path.resolve()),
            output=str((output / PART.format(i)).resolve()),
            rejects=str((rejects / PART.format(i)).resolve()),
            chunk_rows=chunk_rows,
            csv=csv or CsvFormat(),
            explain_top=explain_top,
        )
        for i, path in enumerate(files)
    ]
    totals = dict.fromkeys(COUNTS, 0)
    if client is not None and model.compiled is not None:  # a worker process, one thread
        model = dataclasses.replace(model, compiled=model.compiled.with_threads(1))

    def done(counts: dict[str, int]) -> None:
        for key in COUNTS:
            totals[key] += counts[key]
        progress(counts["rows"])

    run_tasks(client, _run, tasks, shared={"model": model, "contract": contract}, done=done)
    return totals


@dataclasses.dataclass(frozen=True)
class _Part:
    """One input file and where its parts go (absolute paths: a worker's directory may differ)."""

    path: str
    output: str
    rejects: str
    chunk_rows: int
    csv: CsvFormat
    explain_top: int | None

    def run(self, model: Any, contract: Contract) -> dict[str, int]:
        return batch_scoring.score(
            read_chunks(
                self.path, self.chunk_rows, self.csv, categories=model.categorical_features
            ),
            model,
            contract,
            output=self.output,
            rejects=self.rejects,
            explain_top=self.explain_top,
            source=os.path.basename(self.path),
        )


def _run(task: _Part, *, model: Any, contract: Contract) -> dict[str, int]:
    return task.run(model, contract)


def _is_part(name: str) -> bool:
    stem = name.removesuffix(".parquet")
    return name.endswith(".parquet") and stem.startswith("part-") and stem[5:].isdigit()
