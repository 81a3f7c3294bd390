"""The feature schema: check a raw frame's columns and types, and describe the training data.

The schema written by the prepare stage (`data/prepared/schema.json`) is what the API and the
monitor validate incoming rows against: kind, dtype, allowed categories, range, missing share.
"""

from __future__ import annotations

import difflib
import re
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


# Numeric text: what a CSV cell or a JSON string may hold for a number (no thousands separators,
# no underscores, ASCII digits only); parsed the same way by every reader of rows.
# the category a pooled high-cardinality column's rarer values become (see `pool_rare`)
OTHER = "(other)"
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
NOT_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Read a column as numbers the one way every reader does.

    Returns:
        (float64 numbers, with NaN where missing or unreadable; mask of non-blank text that is
        not a number; mask of values that are not finite: ±inf, or the text nan/inf).
        Blank text and missing values are missing, not errors.

    Raises:
        DataError: the column holds booleans.
    """
    if pd.api.types.is_bool_dtype(values):
        raise DataError(f"column '{values.name}' is declared numeric but holds booleans")
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype("float64")
        infinite = pd.Series(np.isinf(numbers.to_numpy()), index=values.index)
        return numbers.mask(infinite), pd.Series(False, index=values.index), infinite
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    parsed = [_parse_number(u) for u in uniques] + [(np.nan, False, False)]
    numbers = np.array([p[0] for p in parsed], dtype=np.float64)[codes]
    bad = np.array([p[1] for p in parsed], dtype=bool)[codes]
    infinite = np.array([p[2] for p in parsed], dtype=bool)[codes]
    index = values.index
    return (
        pd.Series(numbers, index=index, name=values.name),
        pd.Series(bad, index=index),
        pd.Series(infinite, index=index),
    )


def _parse_number(value: Any) -> tuple[float, bool, bool]:
    """(number or NaN, is unreadable, is not finite) of one distinct value."""
    if isinstance(value, bool):
        return np.nan, True, False
    if isinstance(value, int | float | np.integer | np.floating):
        try:
            number = float(value)
        except OverflowError:
            return np.nan, False, True
        return (number, False, False) if np.isfinite(number) else (np.nan, False, True)
    text = str(value).strip()
    if not text:
        return np.nan, False, False
    if NOT_FINITE.fullmatch(text):
        return np.nan, False, True
    if not NUMBER.fullmatch(text):
        return np.nan, True, False
    number = float(text)
    return (number, False, False) if np.isfinite(number) else (np.nan, False, True)


def coerce_numeric(
    frame: pd.DataFrame, numeric: list[str], tolerance: float
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Turn numeric-like text into floats; blanks become missing.

    Args:
        frame: the raw rows; numeric columns may hold text.
        numeric: the columns declared numeric.
        tolerance: the largest share of non-blank values that are not finite numbers a column
            may hold; such cells become missing and are counted.

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
        numbers, unreadable, infinite = parse_numbers(column)
        bad = unreadable | infinite
        n_bad = int(bad.sum())
        # blank or empty text cells (a numeric file column has none: its gaps were never text)
        text_column = not pd.api.types.is_numeric_dtype(column)
        blank = int((numbers.isna() & ~bad).sum()) if text_column else 0
        examples = sorted(set(column[bad].astype(str)))[:5]
        share = n_bad / max(len(column), 1)
        if share > tolerance:
            raise DataError(
                f"column '{name}' is declared numeric but {n_bad} of {len(column)} values "
                f"({share:.1%}) are not finite numbers, above prepare.coerce_tolerance="
                f"{tolerance}; examples: {examples}"
            )
        out[name] = numbers
        report[name] = {"blank": blank, "non_numeric": n_bad, "examples": examples}
    return out, report


def as_categorical_text(frame: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    """Represent categorical columns as text (missing stays missing), so 0/1 codes and labels
    read from CSV or Parquet compare equal."""
    out = frame.copy()
    for name in categorical:
        out[name] = category_text(out[name])
    return out


def category_codes(values: pd.Series) -> tuple[np.ndarray, list[str | None]]:
    """One column's distinct values as text (see `one_category_text`; blank text is None) and
    each row's index into them (-1: missing). Each distinct value is converted once, so a
    million-row batch costs a hash pass (none when the column is categorical, as Parquet's
    dictionary-encoded text reads), not a million Python calls."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, [one_category_text(u) for u in uniques]


def category_text(values: pd.Series) -> pd.Series:
    """One column's categories as text (see `one_category_text`); missing and blank values are
    missing."""
    codes, texts = category_codes(values)
    return codes_text(codes, texts, values)


def text_column(
    codes: np.ndarray, texts: list[str | None], values: pd.Series, *, categorical: bool
) -> pd.Series:
    """`category_codes`' answer as a column: Categorical, or object text."""
    return (category_series if categorical else codes_text)(codes, texts, values)


def category_series(codes: np.ndarray, texts: list[str | None], values: pd.Series) -> pd.Series:
    """`codes_text` as a pandas Categorical column (the same values; distinct texts once)."""
    categories = list(dict.fromkeys(t for t in texts if t is not None))
    position = {t: i for i, t in enumerate(categories)}
    remap = np.array([-1 if t is None else position[t] for t in texts] + [-1], dtype=np.int64)
    column = pd.Categorical.from_codes(remap[codes], categories=categories)
    return pd.Series(column, index=values.index, name=values.name)


def codes_text(codes: np.ndarray, texts: list[str | None], values: pd.Series) -> pd.Series:
    """The text Series of `category_codes`' answer, on `values`' index and name."""
    table = np.array([np.nan if t is None else t for t in texts] + [np.nan], dtype=object)
    return pd.Series(table[codes], index=values.index, name=values.name, dtype=object)


def one_category_text(value: Any) -> str | None:
    """The text form of one category value: stripped text, integer-valued numbers without a
    decimal point (1.0 -> "1"); None for blank text."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None  # blank text is a missing value, as in a CSV


def check_not_empty(frame: pd.DataFrame, columns: list[str]) -> None:
    """Reject columns in which every value is missing."""
    for name in columns:
        if frame[name].isna().all():
            raise DataError(f"column '{name}' is entirely empty ({len(frame)} rows, all missing)")


def check_bounds(bounds: Mapping[str, Any] | None, columns: Mapping[str, str]) -> dict:
    """Validate `prepare.bounds`: per numeric column, the values that are physically possible
    (`min` and/or `max`), e.g. `tenure: {min: 0}`."""
    checked: dict[str, dict[str, float | None]] = {}
    for name, limits in (bounds or {}).items():
        where = f"prepare.bounds.{name}"
        if columns.get(name) != "numeric":
            raise DataError(f"{where}: '{name}' is not a numeric column of prepare.columns")
        if not isinstance(limits, Mapping) or not limits or set(limits) - {"min", "max"}:
            raise DataError(f"{where} must map min and/or max to numbers, got {limits!r}")
        for key, value in limits.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise DataError(f"{where}.{key} must be a number, got {value!r}")
        low, high = limits.get("min"), limits.get("max")
        if low is not None and high is not None and low > high:
            raise DataError(f"{where}: min {low} is above max {high}")
        checked[name] = {"min": low, "max": high}
    return checked


def infer_schema(
    train: pd.DataFrame,
    columns: Mapping[str, str],
    *,
    target: str,
    id_column: str | None,
    labels: list[str],
    bounds: Mapping[str, Any] | None,
    range_tolerance: float,
    range_limit: float,
    coerce_tolerance: float,
) -> dict[str, Any]:
    """Describe each training feature (kind, dtype, categories or range, missing share) and the
    input contract every reader of rows applies (see `churnops.contract`).

    Numeric features get the values they accept: under policy `reject`, the training range
    widened on each side by `range_tolerance` times its width; under `flag`, widened by
    `range_limit` times its width (beyond that a linear model's arithmetic is meaningless); both
    clipped to the declared physical `bounds`.

    Raises:
        DataError: a bound is malformed, or training values lie outside it.
    """
    declared = check_bounds(bounds, columns)
    for key, value in (("range_tolerance", range_tolerance), ("range_limit", range_limit)):
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise DataError(f"prepare.{key} must be a number >= 0, got {value!r}")
    features: dict[str, Any] = {}
    for name, kind in columns.items():
        column = train[name]
        entry: dict[str, Any] = {
            "kind": kind,
            "dtype": "float64" if kind == "numeric" else "string",
            "missing_share": rounded(column.isna().mean()),
        }
        if kind == "numeric":
            entry["min"] = rounded(column.min())
            entry["max"] = rounded(column.max())
            limits = declared.get(name, {"min": None, "max": None})
            _check_within(column, name, limits)
            entry["bounds"] = limits
            entry["accept"] = {
                "reject": _band(entry["min"], entry["max"], range_tolerance, limits),
                "flag": _band(entry["min"], entry["max"], range_limit, limits),
            }
        else:
            entry["categories"] = sorted(str(v) for v in column.dropna().unique())
        features[name] = entry
    return {
        "features": features,
        "target": {"name": target, "labels": labels},
        "id_column": id_column,
        "rows": len(train),
        "contract": {
            "range_tolerance": range_tolerance,
            "range_limit": range_limit,
            "coerce_tolerance": coerce_tolerance,
        },
    }


def _check_within(column: pd.Series, name: str, limits: Mapping[str, float | None]) -> None:
    for key, outside in (
        ("min", column < (limits["min"] if limits["min"] is not None else -np.inf)),
        ("max", column > (limits["max"] if limits["max"] is not None else np.inf)),
    ):
        if outside.any():
            examples = sorted(set(column[outside].tolist()))[:5]
            raise DataError(
                f"column '{name}' has {int(outside.sum())} training value(s) beyond "
                f"prepare.bounds.{name}.{key}={limits[key]}, e.g. {examples}"
            )


def _band(
    low: float | None, high: float | None, widen: float, limits: Mapping[str, float | None]
) -> list[float | None]:
    """[low, high] widened by `widen` times its width on each side, clipped to `limits`."""
    if low is None or high is None:
        return [limits["min"], limits["max"]]
    margin = widen * (high - low)
    lo, hi = low - margin, high + margin
    if limits["min"] is not None:
        lo = max(lo, limits["min"])
    if limits["max"] is not None:
        hi = min(hi, limits["max"])
    return [rounded(lo), rounded(hi)]


def rounded(value: float) -> float | None:
    if value is None or pd.isna(value):
        return None
    return round(float(value), 6)
