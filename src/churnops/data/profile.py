"""What each column of a new data file is, and whether a model should use it: the decisions
`churnops init` writes into params, each with its reason.

Kinds: numeric; categorical (text with few distinct values); integer-coded categorical (whole
numbers with at most `max_codes` distinct values, e.g. 0/1 flags); free text (text with
near-unique values, long or with spaces: names, comments); id-like (a distinct value per row);
date (ISO dates or date-times); constant (one value); mostly empty (missing above
`max_missing`). Numeric and the two categorical kinds become features; the others are left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from churnops.data.schema import category_text, parse_numbers

# the rules' thresholds: what `churnops init` uses unless told otherwise
MAX_MISSING = 0.95  # a column missing more often than this is left out
MAX_CODES = 2  # whole numbers with at most this many distinct values are categories
NEAR_UNIQUE = 0.5  # text with more distinct values than this share of rows is not a category
COERCE_TOLERANCE = 0.01  # share of non-numeric text a numeric column may have
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?")


@dataclass(frozen=True)
class Column:
    """One column's kind, what the model does with it (`use`: numeric, categorical or None for
    left out) and why."""

    name: str
    kind: str
    use: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def profile(
    frame: pd.DataFrame,
    *,
    skip: tuple[str, ...] = (),
    max_missing: float = MAX_MISSING,
    max_codes: int = MAX_CODES,
    near_unique: float = NEAR_UNIQUE,
    coerce_tolerance: float = COERCE_TOLERANCE,
) -> list[Column]:
    """Each column of `frame` (read as text) but those in `skip`, in file order."""
    return [
        classify(
            frame[name],
            max_missing=max_missing,
            max_codes=max_codes,
            near_unique=near_unique,
            coerce_tolerance=coerce_tolerance,
        )
        for name in frame.columns
        if name not in skip
    ]


def classify(
    values: pd.Series,
    *,
    max_missing: float = MAX_MISSING,
    max_codes: int = MAX_CODES,
    near_unique: float = NEAR_UNIQUE,
    coerce_tolerance: float = COERCE_TOLERANCE,
) -> Column:
    """One column's kind and use, with the figures that decided it."""
    name, rows = str(values.name), len(values)
    text = category_text(values)
    present = text.dropna()
    missing = 1 - len(present) / rows if rows else 1.0
    distinct = present.nunique()
    if missing > max_missing:
        return Column(name, "mostly_empty", None, f"{missing:.0%} of values are missing")
    if distinct <= 1:
        shown = f"always {present.iloc[0]!r}" if distinct else "no values"
        return Column(name, "constant", None, f"{shown}: tells the classes nothing")
    numbers, bad, _ = parse_numbers(present)
    share_bad = float(bad.mean())
    if share_bad <= coerce_tolerance:
        whole = bool((numbers.dropna() % 1 == 0).all())
        if whole and distinct <= max_codes:
            return Column(
                name,
                "integer_code",
                "categorical",
                f"whole numbers with {distinct} distinct values (≤ {max_codes}): codes, one-hot",
            )
        if whole and distinct == len(present) == rows and _sequential(numbers):
            return Column(name, "id", None, "a distinct whole number per row, in sequence")
        note = f" ({share_bad:.1%} non-numeric text becomes missing)" if share_bad else ""
        return Column(name, "numeric", "numeric", f"{distinct:,} distinct numbers{note}")
    if present.str.fullmatch(_DATE).mean() > 0.9:
        return Column(
            name,
            "date",
            None,
            "dates or times: not a feature as they are (derive one, e.g. an age in days, and "
            "check it is known before the outcome)",
        )
    if distinct > near_unique * len(present):
        wordy = present.str.len().mean() > 20 or present.str.contains(" ").mean() > 0.5
        if not wordy and distinct == len(present) == rows:
            return Column(name, "id", None, f"a distinct value in each of the {rows:,} rows")
        kind = "free_text" if wordy else "id"
        what = "free text" if wordy else "near-unique codes"
        return Column(
            name,
            kind,
            None,
            f"{what}: {distinct:,} distinct values in {len(present):,} rows "
            f"(> {near_unique:.0%}): one-hot would memorise rows",
        )
    return Column(name, "categorical", "categorical", f"{distinct:,} distinct values")


def _sequential(numbers: pd.Series) -> bool:
    """A row number: the sorted values step by one."""
    ordered = numbers.sort_values().to_numpy()
    return bool(len(ordered) > 1 and (ordered[1:] - ordered[:-1] == 1).all())


def guess_positive(labels: Mapping[str, int]) -> tuple[str, str]:
    """The label a model should score, and why: a conventional positive label (yes, true, 1,
    positive, bad, churn...), else the rarer class."""
    conventional = ("1", "yes", "y", "true", "t", "positive", "pos", "bad", "default", "churn")
    for label in labels:
        if str(label).strip().lower() in conventional:
            return str(label), f"{label!r} reads as the positive class"
    rarer = min(labels, key=lambda label: (labels[label], str(label)))
    return str(rarer), f"{rarer!r} is the rarer class ({labels[rarer]:,} rows)"


def id_candidate(columns: list[Column], frame: pd.DataFrame) -> Column | None:
    """The id-like column a row is known by (unique and never missing), if any."""
    for column in columns:
        values = frame[column.name]
        if column.kind == "id" and values.notna().all() and values.nunique() == len(frame):
            return column
    return None
