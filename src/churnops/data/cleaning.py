"""Clean and split the raw rows: target and id checks, type coercion, stratified split."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from churnops.data.schema import (
    DataError,
    as_categorical_text,
    check_column_spec,
    check_columns,
    check_not_empty,
    coerce_numeric,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataSpec:
    """What the raw file must look like, from params (`base` and `prepare`)."""

    target: str
    positive_label: str
    negative_label: str
    id_column: str | None
    columns: dict[str, str]
    strict: bool = True
    coerce_tolerance: float = 0.0
    numeric: list[str] = field(init=False)
    categorical: list[str] = field(init=False)

    def __post_init__(self) -> None:
        columns = check_column_spec(self.columns)
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "numeric", [c for c, k in columns.items() if k == "numeric"])
        object.__setattr__(
            self, "categorical", [c for c, k in columns.items() if k == "categorical"]
        )
        for name in (self.target, self.id_column):
            if name is not None and name in columns:
                raise DataError(
                    f"column '{name}' is the target or id and must not be in prepare.columns"
                )
        for key, label in (("positive", self.positive_label), ("negative", self.negative_label)):
            if isinstance(label, bool) or not isinstance(label, str | int):
                raise DataError(
                    f"base.{key}_label must be text or an integer, got {label!r} "
                    "(quote labels such as 'Yes' in YAML)"
                )
        if str(self.positive_label) == str(self.negative_label):
            raise DataError(
                f"base.positive_label and base.negative_label must differ, "
                f"got {self.positive_label!r} twice"
            )
        if not 0 <= self.coerce_tolerance < 1:
            raise DataError(
                f"prepare.coerce_tolerance must be in [0, 1), got {self.coerce_tolerance!r}"
            )

    @property
    def labels(self) -> list[str]:
        """The target labels, negative first."""
        return [str(self.negative_label), str(self.positive_label)]

    @property
    def expected_columns(self) -> list[str]:
        extra = [self.target] + ([self.id_column] if self.id_column else [])
        return list(self.columns) + extra

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> DataSpec:
        from churnops.params import get

        return cls(
            target=get(params, "base.target"),
            positive_label=get(params, "base.positive_label"),
            negative_label=get(params, "base.negative_label"),
            id_column=get(params, "base.id_column", None),
            columns=get(params, "prepare.columns"),
            strict=bool(get(params, "prepare.strict_schema")),
            coerce_tolerance=get(params, "prepare.coerce_tolerance"),
        )


def clean(raw: pd.DataFrame, spec: DataSpec) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Validate and clean raw rows.

    Returns:
        The cleaned frame (id, features in declared order, target as text) and a report of
        what cleaning did (coercions per numeric column).

    Raises:
        DataError: naming the column and the offending value or count.
    """
    check_columns(raw, spec.expected_columns, strict=spec.strict)
    frame = raw[spec.expected_columns].copy()
    frame, coercions = coerce_numeric(frame, spec.numeric, spec.coerce_tolerance)
    frame = as_categorical_text(frame, spec.categorical)
    check_not_empty(frame, list(spec.columns))
    frame[spec.target] = check_target(frame[spec.target], spec)
    if spec.id_column:
        check_ids(frame[spec.id_column])
    ordered = ([spec.id_column] if spec.id_column else []) + list(spec.columns) + [spec.target]
    for name, counts in coercions.items():
        if counts["blank"] or counts["non_numeric"]:
            log.info(
                "column %s: %d blank and %d non-numeric values became missing",
                name,
                counts["blank"],
                counts["non_numeric"],
            )
    ignored = [str(c) for c in raw.columns if c not in spec.expected_columns]
    if ignored:
        log.info("ignored %d column(s) not in prepare.columns: %s", len(ignored), ignored)
    report = {"coerced_to_missing": coercions, "ignored_columns": ignored}
    return frame[ordered].reset_index(drop=True), report


def check_target(target: pd.Series, spec: DataSpec) -> pd.Series:
    """Return the target as text, checked to hold exactly the two declared labels."""
    if target.isna().any():
        raise DataError(
            f"target column '{spec.target}' has {int(target.isna().sum())} missing values"
        )
    text = as_categorical_text(target.to_frame(), [target.name])[target.name]
    counts = text.value_counts()
    unknown = {str(k): int(v) for k, v in counts.items() if k not in spec.labels}
    if unknown:
        raise DataError(
            f"target column '{spec.target}' has unknown label(s) {unknown} (value: count); "
            f"expected only {spec.labels}"
        )
    if len(counts) < 2:
        raise DataError(
            f"target column '{spec.target}' has one class only: {_counts(counts)}; "
            f"need both of {spec.labels}"
        )
    return text


def check_ids(ids: pd.Series) -> None:
    """Reject missing or duplicate ids, naming how many and a few examples."""
    if ids.isna().any():
        raise DataError(f"id column '{ids.name}' has {int(ids.isna().sum())} missing values")
    duplicated = ids[ids.duplicated(keep=False)]
    if not duplicated.empty:
        examples = sorted(set(duplicated.astype(str)))[:5]
        raise DataError(
            f"id column '{ids.name}' has {duplicated.nunique()} duplicated id(s) over "
            f"{len(duplicated)} rows, e.g. {examples}"
        )


def binary_target(target: pd.Series, positive_label: Any) -> np.ndarray:
    """Return 1 where the target equals the positive label, else 0."""
    return (target.astype(str) == str(positive_label)).to_numpy(dtype=np.int64)


def split(
    frame: pd.DataFrame, target: str, *, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified train/test split."""
    if not 0 < test_size < 1:
        raise DataError(f"prepare.test_size must be in (0, 1), got {test_size!r}")
    smallest = int(frame[target].value_counts().min())
    if smallest < 2:
        raise DataError(
            f"target column '{target}' has a class with {smallest} row(s); "
            "a stratified split needs 2"
        )
    train, test = train_test_split(
        frame, test_size=test_size, stratify=frame[target], random_state=seed
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def _counts(counts: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in counts.items()}
