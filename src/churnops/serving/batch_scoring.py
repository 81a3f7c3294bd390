"""Batch scoring: check rows with the input contract the API applies (`churnops.contract`),
score the accepted ones with the served model, and report every refused row with its number and
reason. A row whose score is not a finite probability is refused too, never written as a score.
Reads and writes in chunks, so memory stays bounded whatever the file size."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from churnops.data.contract import Contract
from churnops.files import refuse_overwrite

SCHEMAS = {
    "out": pa.schema(
        [
            ("row", pa.int64()),
            ("id", pa.string()),
            ("probability", pa.float64()),
            ("decision", pa.bool_()),
            ("confidence", pa.float64()),
            ("warnings", pa.string()),
        ]
    ),
    "rejects": pa.schema([("row", pa.int64()), ("id", pa.string()), ("reason", pa.string())]),
}


NOT_FINITE_SCORE = "the model's score for these values is not a finite probability"


def check_paths(input_path: Path, output: Path, rejects: Path, *, overwrite: bool) -> None:
    """Refuse output paths that would destroy data: the input itself, the same file for the
    scores and the rejects, or an existing file unless `overwrite` is set.

    Raises:
        ValueError: naming the path and the clash.
    """

    def same(a: Path, b: Path) -> bool:
        return a.resolve() == b.resolve()

    if not input_path.is_file():
        raise ValueError(f"input {input_path}: no such file")
    if same(output, input_path) or same(rejects, input_path):
        clash = output if same(output, input_path) else rejects
        raise ValueError(f"output {clash} is the input file: choose another path")
    if same(output, rejects):
        raise ValueError(f"--output and --rejects are the same file {output}: choose two paths")
    refuse_overwrite(output, rejects, overwrite=overwrite)


def score(
    chunks: Iterator[pd.DataFrame],
    model: Any,
    contract: Contract,
    *,
    output: str | Path,
    rejects: str | Path,
    progress: Callable[[int], None] = lambda n: None,
    explain_top: int | None = None,
    source: str | None = None,
) -> dict[str, int]:
    """Check and score every chunk; write predictions and rejects as Parquet.

    Args:
        source: the input file's name, written in a first column `source` of both outputs (a
            partition of a data set; `row` then counts within it).
        model: a `serving.LoadedModel`.
        contract: the input contract (schema and policy) rows are checked with.
        progress: called with the number of rows of each finished chunk.
        explain_top: add an `explanation` column (the API's explanation as JSON text) with
            this many contributions; the model must be explainable (`model.explainer`).

    Returns:
        Counts of rows read, scored and rejected, and of scored rows carrying a warning.
    """
    writers: dict[str, pq.ParquetWriter] = {}
    counts = {"rows": 0, "scored": 0, "rejected": 0, "flagged": 0}
    categorical = model.compiled is not None  # its encoder takes Categorical columns fastest
    start = 0
    try:
        for chunk in chunks:
            chunk.index = pd.RangeIndex(start, start + len(chunk))
            start += len(chunk)
            typed, reasons, warnings = contract.check_frame(chunk, categorical=categorical)
            good = reasons == ""
            id_column = next((k for k in contract.id_keys if k in chunk), None)
            ids = (
                chunk[id_column].astype(str).where(chunk[id_column].notna(), None)
                if id_column
                else pd.Series(None, index=chunk.index, dtype=object)
            )
            if good.any():
                scored = _predict_isolated(model, typed[good])
                finite = np.isfinite(scored["probability"].to_numpy())
                if not finite.all():
                    lost = scored.index[~finite]
                    reasons[lost] = NOT_FINITE_SCORE
                    good[lost] = False
                    scored = scored[finite]
                if len(scored):
                    frame = pd.DataFrame(
                        {
                            "row": scored.index.to_numpy(),
                            "id": ids[scored.index].to_numpy(),
                            **{c: scored[c].to_numpy() for c in scored},
                            "warnings": warnings[scored.index].to_numpy(),
                        }
                    )
                    if explain_top is not None:
                        frame["explanation"] = _explained(model, typed.loc[scored.index],
                                                          explain_top)  # fmt: skip
                    _write(writers, "out", output, frame, source)
            if (~good).any():
                frame = pd.DataFrame(
                    {
                        "row": chunk.index[~good].to_numpy(),
                        "id": ids[~good].to_numpy(),
                        "reason": reasons[~good].to_numpy(),
                    }
                )
                _write(writers, "rejects", rejects, frame, source)
            counts["rows"] += len(chunk)
            counts["scored"] += int(good.sum())
            counts["rejected"] += int((~good).sum())
            counts["flagged"] += int(((warnings != "") & good).sum())
            progress(len(chunk))
    finally:
        for writer in writers.values():
            writer.close()
    for key, path in (("out", output), ("rejects", rejects)):
        if key not in writers:  # an empty file with the right columns, not a missing one
            pq.write_table(_schema(key, pd.DataFrame(), source).empty_table(), path)
    return counts


def _predict_isolated(model: Any, rows: pd.DataFrame) -> pd.DataFrame:
    """`model.predict(rows)`; when the model raises on some rows' values, the halves are scored
    apart until those rows are found, and they get a NaN probability (a reject)."""
    try:
        return model.predict(rows)
    except (ValueError, FloatingPointError, OverflowError):
        if len(rows) == 1:
            return pd.DataFrame(
                {"probability": [np.nan], "decision": [False], "confidence": [np.nan]},
                index=rows.index,
            )
    middle = len(rows) // 2
    return pd.concat(
        [_predict_isolated(model, rows.iloc[:middle]), _predict_isolated(model, rows.iloc[middle:])]
    )


def _explained(model: Any, typed: pd.DataFrame, top: int) -> list[str]:
    features = list(model.schema["features"])
    rows = typed[features].astype(object).where(typed[features].notna(), None)
    records = rows.to_dict("records")
    return [json.dumps(e) for e in model.explainer.explain(records, top)]


def _schema(key: str, frame: pd.DataFrame, source: str | None) -> pa.Schema:
    schema = SCHEMAS[key]
    if source is not None:
        schema = schema.insert(0, pa.field("source", pa.string()))
    return schema.append(pa.field("explanation", pa.string())) if "explanation" in frame else schema


def _write(
    writers: dict, key: str, path: str | Path, frame: pd.DataFrame, source: str | None
) -> None:
    if source is not None:
        frame.insert(0, "source", source)
    schema = _schema(key, frame, source)
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    if key not in writers:
        writers[key] = pq.ParquetWriter(path, schema)
    writers[key].write_table(table)
