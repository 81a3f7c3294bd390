"""The prepare stage's work as one function: clean the raw rows, split them, pool
high-cardinality categories, check for leaking columns, describe the data and its contract."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from churnops.data import cleaning, leakage, quality, schema
from churnops.data.words import Words


@dataclass(frozen=True)
class Prepared:
    """What prepare writes: the splits, the schema (the input contract), the data-quality
    report, and the warnings to print."""

    train: pd.DataFrame
    test: pd.DataFrame
    schema: dict[str, Any]
    report: dict[str, Any]
    warnings: list[str]


def prepare(raw: pd.DataFrame, params: Mapping[str, Any]) -> Prepared:
    """Clean, split and describe `raw` (read as text) by `params`.

    Raises:
        DataError: bad data, or a leaking column under `prepare.leakage: error`, naming the
            column and the value or figure.
    """
    spec = cleaning.DataSpec.from_params(params)
    settings, seed = params["prepare"], params["base"]["seed"]
    frame, cleaned = cleaning.clean(raw, spec)
    train, test = cleaning.split(frame, spec.target, test_size=settings["test_size"], seed=seed)
    rule = settings["high_cardinality"]
    kept = high_cardinality(train, spec.categorical, rule["max_share"], rule["top_k"])
    train, test = pool(train, kept), pool(test, kept)
    report = quality.quality_report(frame, spec, cleaned)
    report["split"] = {
        "train_rows": len(train),
        "test_rows": len(test),
        "test_size": settings["test_size"],
        "seed": seed,
    }
    report["pooled"] = {
        "rule": f"categorical columns with more distinct values than {rule['max_share']:.0%} "
        f"of the training rows keep their {rule['top_k']} most frequent values; the rest "
        f"become {schema.OTHER!r}",
        "columns": {c: int(frame[c].nunique()) for c in kept},
    }
    report["leakage"] = _leakage(train, spec, settings, seed)
    table_schema = schema.infer_schema(
        train,
        spec.columns,
        target=spec.target,
        id_column=spec.id_column,
        labels=spec.labels,
        bounds=settings.get("bounds"),
        range_tolerance=settings["range_tolerance"],
        range_limit=settings["range_limit"],
        coerce_tolerance=spec.coerce_tolerance,
    )
    for name, values in kept.items():
        table_schema["features"][name].update(pooled=True, categories=[*values, schema.OTHER])
    cover_the_file(table_schema, frame)
    table_schema["words"] = Words.from_params(params).as_dict()
    # a raw row of the file carries these too: the service accepts and ignores them
    table_schema["ignored_columns"] = list(cleaned["ignored_columns"])
    warnings = leakage.warnings(report["leakage"]) + [
        f"column '{c}' has {n:,} distinct values: pooled ({report['pooled']['rule']})"
        for c, n in report["pooled"]["columns"].items()
    ]
    return Prepared(train, test, table_schema, report, warnings)


def cover_the_file(table_schema: dict[str, Any], frame: pd.DataFrame) -> None:
    """Widen each numeric feature's accepted bands to the whole file's values, within the
    declared bounds, and name each category only the test split holds (`file_only`, flagged,
    not refused): a row of the user's own file is never refused for a value the file holds. The
    training range and categories, which flag, stay the training split's."""
    for name, info in table_schema["features"].items():
        if info["kind"] == "categorical" and not info.get("pooled"):
            seen = {str(v) for v in frame[name].dropna().unique()} - set(info["categories"])
            if seen:
                info["file_only"] = sorted(seen)
        values = frame[name].dropna() if info["kind"] == "numeric" else ()
        if len(values) == 0:
            continue
        floor, ceiling = info["bounds"]["min"], info["bounds"]["max"]
        low, high = schema.rounded(values.min()), schema.rounded(values.max())
        low = low if floor is None else max(low, floor)
        high = high if ceiling is None else min(high, ceiling)
        widened = False
        for band in info["accept"].values():
            if band[0] is not None and low < band[0]:
                band[0], widened = low, True
            if band[1] is not None and high > band[1]:
                band[1], widened = high, True
        if widened:  # the contract's reasons then name it
            info["file_range"] = [low, high]


def _leakage(
    train: pd.DataFrame, spec: cleaning.DataSpec, settings: Mapping[str, Any], seed: int
) -> dict[str, Any]:
    """The leakage report of the training rows (`leakage.check`; no scores when it is off).

    Raises:
        DataError: a column reaches `prepare.leakage_max_auc` under `prepare.leakage: error`.
    """
    scores = (
        {}
        if settings["leakage"] == "off"
        else leakage.single_column_auc(
            train, spec.columns, cleaning.binary_target(train[spec.target], spec.positive_label),
            seed=seed,
        )
    )  # fmt: skip
    return leakage.check(
        scores,
        max_auc=settings["leakage_max_auc"],
        action=settings["leakage"],
        names=list(spec.columns),
    )


def high_cardinality(
    train: pd.DataFrame, categorical: list[str], max_share: float, top_k: int
) -> dict[str, list[str]]:
    """The categorical columns with more distinct values than `max_share` of the training rows,
    each with the `top_k` most frequent values it keeps (ties by value, for a stable choice)."""
    kept = {}
    for name in categorical:
        counts = train[name].value_counts()
        if len(counts) > max_share * len(train):
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
            kept[name] = sorted(str(value) for value, _ in ordered[:top_k])
    return kept


def pool(rows: pd.DataFrame, kept: Mapping[str, list[str]]) -> pd.DataFrame:
    """`rows` with each pooled column's other values replaced by OTHER (missing stays missing)."""
    out = rows.copy()
    for name, values in kept.items():
        column = out[name]
        out[name] = column.where(column.isna() | column.isin(values), schema.OTHER)
    return out
