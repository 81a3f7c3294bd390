"""Exploratory data analysis of the training split: each column alone, each column against the
target (with a significance test), and the numeric columns against each other."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

_DIGITS = 6
OTHER = "(other)"
MISSING = "(missing)"


def top_k_counts(values: pd.Series, k: int) -> pd.DataFrame:
    """Value counts of the k most frequent values plus one "(other)" row for the rest, so a
    high-cardinality column (an identifier, say) never becomes one bar per row."""
    counts = values.fillna(MISSING).astype(str).value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    top = counts.head(k)
    rest = int(counts.iloc[k:].sum())
    table = pd.DataFrame({"value": top.index, "count": top.to_numpy().astype(int)})
    if rest:
        table = pd.concat(
            [
                table,
                pd.DataFrame({"value": [f"{OTHER} {len(counts) - k} values"], "count": [rest]}),
            ],
            ignore_index=True,
        )
    table["share"] = np.round(table["count"] / len(values), _DIGITS)
    return table


def numeric_vs_target(frame: pd.DataFrame, numeric: list[str], y: np.ndarray) -> pd.DataFrame:
    """Point-biserial correlation of each numeric column with the target, with its p-value,
    sorted by absolute correlation (rows with a missing value are left out per column)."""
    rows = []
    for column in numeric:
        values = frame[column].to_numpy(dtype=float)
        keep = ~np.isnan(values)
        if keep.sum() < 3 or np.nanstd(values) == 0:
            r, p = np.nan, np.nan
        else:
            r, p = stats.pointbiserialr(y[keep], values[keep])
        rows.append({"column": column, "correlation": r, "p_value": p, "n": int(keep.sum())})
    table = pd.DataFrame(rows, columns=["column", "correlation", "p_value", "n"])
    table = (
        table.assign(order=table["correlation"].abs())
        .sort_values(["order", "column"], ascending=[False, True], na_position="last")
        .drop(columns="order")
    )
    return table.round({"correlation": _DIGITS}).reset_index(drop=True)


def category_rates(
    frame: pd.DataFrame, column: str, y: np.ndarray, k: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Positive rate and count per category (top k, the rest pooled), and a chi-square test of
    independence between the column and the target on all categories."""
    values = frame[column].fillna(MISSING).astype(str)
    crosstab = pd.crosstab(values, y)
    test: dict[str, Any] = {"test": "chi-square", "categories": len(crosstab)}
    if crosstab.shape[0] >= 2 and crosstab.shape[1] == 2:
        chi2, p, dof, _ = stats.chi2_contingency(crosstab.to_numpy())
        test.update(statistic=round(float(chi2), _DIGITS), p_value=float(p), dof=int(dof))
    else:
        test.update(statistic=None, p_value=None, dof=None)
    keep = set(top_k_counts(values, k)["value"].head(k))
    pooled = values.where(values.isin(keep), OTHER)
    grouped = pd.DataFrame({"value": pooled, "y": y}).groupby("value")["y"]
    table = pd.DataFrame({"count": grouped.size(), "positive_rate": grouped.mean()}).reset_index()
    table = table.sort_values(["count", "value"], ascending=[False, True], ignore_index=True)
    table["positive_rate"] = table["positive_rate"].round(_DIGITS)
    return table, test


def correlation_matrix(frame: pd.DataFrame, numeric: list[str]) -> pd.DataFrame:
    """Pearson correlations between numeric columns (pairwise complete rows)."""
    return frame[numeric].corr().round(_DIGITS)


def summarise(
    frame: pd.DataFrame,
    columns: Mapping[str, str],
    y: np.ndarray,
    *,
    id_column: str | None,
    top_k: int,
    alpha: float,
) -> dict[str, Any]:
    """Everything the EDA page shows, as JSON-ready values."""
    numeric = [c for c, k in columns.items() if k == "numeric"]
    categorical = [c for c, k in columns.items() if k == "categorical"]
    relation = numeric_vs_target(frame, numeric, y) if numeric else pd.DataFrame()
    categories = {}
    for column in categorical:
        table, test = category_rates(frame, column, y, top_k)
        categories[column] = {
            **test,
            "significant": _significant(test["p_value"], alpha),
            "rates": table.to_dict(orient="records"),
        }
    identifiers = {}
    if id_column and id_column in frame:
        ids = frame[id_column]
        identifiers[id_column] = {
            "distinct": int(ids.nunique()),
            "rows": len(ids),
            "top": top_k_counts(ids, top_k).to_dict(orient="records"),
        }
    return {
        "rows": len(frame),
        "positive_rate": round(float(np.mean(y)), _DIGITS),
        "alpha": alpha,
        "missing": {c: int(n) for c, n in frame[list(columns)].isna().sum().items() if n},
        "numeric": {
            row["column"]: {
                "correlation_with_target": _num(row["correlation"]),
                "p_value": _num(row["p_value"], digits=None),
                "significant": _significant(row["p_value"], alpha),
                "mean": _num(frame[row["column"]].mean()),
                "median": _num(frame[row["column"]].median()),
            }
            for row in relation.to_dict(orient="records")
        },
        "categorical": categories,
        "identifiers": identifiers,
        "significant_columns": sorted(
            [c for c, v in categories.items() if v["significant"]]
            + [
                r["column"]
                for r in relation.to_dict(orient="records")
                if _significant(r["p_value"], alpha)
            ]
        ),
    }


def _significant(p: float | None, alpha: float) -> bool | None:
    return None if p is None or pd.isna(p) else bool(p < alpha)


def _num(value: float, digits: int | None = _DIGITS) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value) if digits is None else round(float(value), digits)
