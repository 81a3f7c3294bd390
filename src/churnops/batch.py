"""Batch scoring: validate rows against the training schema the way the API does, score the
valid ones with the served model, and report every rejected row with its number and reason.
Reads and writes in chunks, so memory stays bounded whatever the file size."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from churnops.schema import DataError, category_text

SCHEMAS = {
    "out": pa.schema(
        [
            ("row", pa.int64()),
            ("id", pa.string()),
            ("probability", pa.float64()),
            ("decision", pa.bool_()),
            ("confidence", pa.float64()),
        ]
    ),
    "rejects": pa.schema([("row", pa.int64()), ("id", pa.string()), ("reason", pa.string())]),
}


def validate(
    rows: pd.DataFrame, schema: Mapping[str, Any], *, policy: str
) -> tuple[pd.DataFrame, pd.Series]:
    """Type the feature columns and give each row's rejection reasons ("" when valid).

    The API's rules: numbers must be finite; with policy `reject`, numbers must lie in the
    training range and categories must have been seen in training. Missing values are allowed.

    Raises:
        DataError: a feature column is absent from the file.
    """
    features = schema["features"]
    absent = [c for c in features if c not in rows]
    if absent:
        raise DataError(f"input is missing feature column(s) {absent}; it has {list(rows)}")
    typed = pd.DataFrame(index=rows.index)
    reasons = pd.Series("", index=rows.index, dtype=object)

    def note(mask: pd.Series, text: Callable[[pd.Series], pd.Series]) -> None:
        if mask.any():
            reasons[mask] = reasons[mask] + text(rows.loc[mask]) + "; "

    for name, info in features.items():
        values = rows[name]
        if info["kind"] == "numeric":
            if pd.api.types.is_numeric_dtype(values):  # e.g. Parquet: no text to parse
                numbers = values.astype("float64")
            else:
                numbers = pd.to_numeric(values, errors="coerce")
                present = values.notna() & (values.astype(str).str.strip() != "")
                note(
                    present & numbers.isna(),
                    lambda r, n=name: n + "=" + r[n].astype(str) + " is not a number",
                )
            infinite = np.isinf(numbers.to_numpy(dtype=float))
            note(
                pd.Series(infinite, index=rows.index),
                lambda r, n=name: n + "=" + r[n].astype(str) + " is not finite",
            )
            if policy == "reject" and info["min"] is not None:
                outside = (
                    numbers.notna()
                    & ~infinite
                    & ((numbers < info["min"]) | (numbers > info["max"]))
                )
                note(
                    outside,
                    lambda r, n=name, i=info: (
                        n
                        + "="
                        + r[n].astype(str)
                        + f" is outside the training range [{i['min']}, {i['max']}]"
                    ),
                )
            typed[name] = numbers.astype("float64")
        else:
            text = category_text(values)
            if policy == "reject":
                unseen = ~text.isin([*info["categories"], np.nan])  # missing is allowed
                note(
                    unseen,
                    lambda r, n=name: n + "=" + r[n].astype(str) + " was not seen in training",
                )
            typed[name] = text
    bad = reasons != ""
    reasons[bad] = reasons[bad].str.rstrip("; ")
    return typed, reasons


def read_chunks(path: str | Path, rows: int) -> Iterator[pd.DataFrame]:
    """Chunks of at most `rows` rows of a CSV (read as text) or Parquet file."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        for record_batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
            yield record_batch.to_pandas()
    elif path.suffix.lower() == ".csv":
        yield from pd.read_csv(
            path, dtype=str, keep_default_na=False, na_values=[""], chunksize=rows
        )
    else:
        raise DataError(f"{path}: unknown file type {path.suffix!r}, expected .csv or .parquet")


def score(
    chunks: Iterator[pd.DataFrame],
    model: Any,
    schema: Mapping[str, Any],
    *,
    policy: str,
    id_column: str | None,
    output: str | Path,
    rejects: str | Path,
    progress: Callable[[int], None] = lambda n: None,
) -> dict[str, int]:
    """Validate and score every chunk; write predictions and rejects as Parquet.

    Args:
        model: a `serving.LoadedModel`.
        progress: called with the number of rows of each finished chunk.

    Returns:
        Counts of rows read, scored and rejected.
    """
    writers: dict[str, pq.ParquetWriter] = {}
    counts = {"rows": 0, "scored": 0, "rejected": 0}
    start = 0
    try:
        for chunk in chunks:
            chunk.index = pd.RangeIndex(start, start + len(chunk))
            start += len(chunk)
            typed, reasons = validate(chunk, schema, policy=policy)
            good = reasons == ""
            ids = (
                chunk[id_column].astype(str)
                if id_column and id_column in chunk
                else pd.Series(None, index=chunk.index, dtype=object)
            )
            if good.any():
                scored = model.predict(typed[good])
                frame = pd.DataFrame(
                    {
                        "row": scored.index.to_numpy(),
                        "id": ids[good].to_numpy(),
                        **{c: scored[c].to_numpy() for c in scored},
                    }
                )
                _write(writers, "out", output, frame)
            if (~good).any():
                frame = pd.DataFrame(
                    {
                        "row": chunk.index[~good].to_numpy(),
                        "id": ids[~good].to_numpy(),
                        "reason": reasons[~good].to_numpy(),
                    }
                )
                _write(writers, "rejects", rejects, frame)
            counts["rows"] += len(chunk)
            counts["scored"] += int(good.sum())
            counts["rejected"] += int((~good).sum())
            progress(len(chunk))
    finally:
        for writer in writers.values():
            writer.close()
    for key, path in (("out", output), ("rejects", rejects)):
        if key not in writers:  # an empty file with the right columns, not a missing one
            pq.write_table(SCHEMAS[key].empty_table(), path)
    return counts


def _write(writers: dict, key: str, path: str | Path, frame: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(frame, schema=SCHEMAS[key], preserve_index=False)
    if key not in writers:
        writers[key] = pq.ParquetWriter(path, SCHEMAS[key])
    writers[key].write_table(table)
