"""The feature schema: check a raw frame's columns and types, and describe the training data.

The schema written by the prepare stage (`data/prepared/schema.json`) is what the API and the
monitor validate incoming rows against: kind, dtype, allowed categories, range, missing share.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

KINDS = ("numeric", "categorical")


class DataError(ValueError):
    """Input data fails validation; the message names the column and what was received."""


def check_column_spec(columns: Mapping[str, str]) -> dict[str, str]:
    """Validate the `prepare.columns` mapping of feature name to kind."""
    if not isinstance(columns, Mapping) or not columns:
        raise DataError(f"prepare.columns must map each feature to a kind, got {columns!r}")
    for name, kind in columns.items():
        if kind not in KINDS:
            raise DataError(f"prepare.columns.{name} must be one of {list(KINDS)}, got {kind!r}")
    return dict(columns)


def check_columns(
    frame: pd.DataFrame,
    expected: list[str],
    *,
    strict: bool,
) -> None:
    """Check that every expected column is present (and, when strict, nothing else is).

    A missing column that looks like a present unexpected one is reported as a likely rename.
    """
    present = [str(c) for c in frame.columns]
    missing = [c for c in expected if c not in present]
    extra = [c for c in present if c not in expected]
    if missing:
        hints = []
        for name in missing:
            close = difflib.get_close_matches(name, extra, n=1, cutoff=0.5)
            if not close and len(missing) == len(extra) == 1:
                close = extra
            if close:
                hints.append(f"'{name}' (renamed to '{close[0]}'?)")
            else:
                hints.append(f"'{name}'")
        raise DataError(
            f"missing column(s): {', '.join(hints)}; the file has {len(present)} columns: {present}"
        )
    if strict and extra:
        raise DataError(
            f"unexpected column(s) {extra} (prepare.strict_schema is true; declare them in "
            f"prepare.columns or set strict_schema: false)"
        )


def coerce_numeric(
    frame: pd.DataFrame, numeric: list[str], tolerance: float
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Turn numeric-like text into floats; blanks become missing.

    Args:
        frame: the raw rows; numeric columns may hold text.
        numeric: the columns declared numeric.
        tolerance: the largest share of non-blank, non-numeric text a column may hold; such
            cells become missing and are counted.

    Returns:
        The frame with float numeric columns, and per column the counts of blank and
        non-numeric cells that became missing (with up to five example values).

    Raises:
        DataError: a column's share of non-numeric text exceeds the tolerance.
    """
    out = frame.copy()
    report: dict[str, dict[str, Any]] = {}
    for name in numeric:
        column = out[name]
        if pd.api.types.is_bool_dtype(column):
            raise DataError(f"column '{name}' is declared numeric but holds booleans")
        if pd.api.types.is_numeric_dtype(column):
            out[name] = column.astype("float64")
            report[name] = {"blank": 0, "non_numeric": 0, "examples": []}
            continue
        text = column.astype("string").str.strip()
        blank = text.isna() | (text == "")
        values = pd.to_numeric(text.mask(blank), errors="coerce")
        bad = values.isna() & ~blank
        n_bad = int(bad.sum())
        examples = sorted(set(text[bad].astype(str)))[:5]
        share = n_bad / max(len(column), 1)
        if share > tolerance:
            raise DataError(
                f"column '{name}' is declared numeric but {n_bad} of {len(column)} values "
                f"({share:.1%}) are not numbers, above prepare.coerce_tolerance={tolerance}; "
                f"examples: {examples}"
            )
        out[name] = values.astype("float64")
        report[name] = {"blank": int(blank.sum()), "non_numeric": n_bad, "examples": examples}
    return out, report


def as_categorical_text(frame: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    """Represent categorical columns as text (missing stays missing), so 0/1 codes and labels
    read from CSV or Parquet compare equal."""
    out = frame.copy()
    for name in categorical:
        out[name] = category_text(out[name])
    return out


def category_text(values: pd.Series) -> pd.Series:
    """One column's categories as stripped text; integer codes stored as floats (1.0) become
    "1"; missing stays missing. Each distinct value is converted once, so a million-row batch
    costs a hash pass, not a million Python calls."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts = np.array([*(_category_text(u) for u in uniques), np.nan], dtype=object)
    return pd.Series(texts[codes], index=values.index, name=values.name, dtype=object)


def _category_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def check_not_empty(frame: pd.DataFrame, columns: list[str]) -> None:
    """Reject columns in which every value is missing."""
    for name in columns:
        if frame[name].isna().all():
            raise DataError(f"column '{name}' is entirely empty ({len(frame)} rows, all missing)")


def infer_schema(
    train: pd.DataFrame,
    columns: Mapping[str, str],
    *,
    target: str,
    id_column: str | None,
    labels: list[str],
) -> dict[str, Any]:
    """Describe each training feature: kind, dtype, categories or range, missing share."""
    features: dict[str, Any] = {}
    for name, kind in columns.items():
        column = train[name]
        entry: dict[str, Any] = {
            "kind": kind,
            "dtype": "float64" if kind == "numeric" else "string",
            "missing_share": _round(column.isna().mean()),
        }
        if kind == "numeric":
            entry["min"] = _round(column.min())
            entry["max"] = _round(column.max())
        else:
            entry["categories"] = sorted(str(v) for v in column.dropna().unique())
        features[name] = entry
    return {
        "features": features,
        "target": {"name": target, "labels": labels},
        "id_column": id_column,
        "rows": len(train),
    }


def _round(value: float) -> float | None:
    if value is None or pd.isna(value):
        return None
    return round(float(value), 6)
