"""The EDA stage's figures and its offline page, drawn from `data.eda`'s summaries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from churnops.data.cleaning import DataSpec
from churnops.reporting import pages, plots


def draw(
    rows: pd.DataFrame,
    y: np.ndarray,
    spec: DataSpec,
    summary: dict,
    matrix: pd.DataFrame | None,
    *,
    bins: int,
    path_for: Callable[[str], Path],
) -> list[str]:
    """Draw the figures the data allows; return their names (what the page shows)."""
    shown = []
    if spec.numeric:
        plots.histograms_png(
            rows, spec.numeric, y, spec.labels, path_for("histograms.png"), bins=bins
        )
        shown.append("histograms")
    if spec.categorical:
        plots.category_png(
            {c: v["rates"] for c, v in summary["categorical"].items()},
            path_for("categories.png"),
            str(spec.positive_label),
        )
        shown.append("categories")
    if matrix is not None:
        plots.heatmap_png(
            matrix,
            "Correlation of numeric features (train)",
            path_for("correlation_matrix.png"),
        )
        shown.append("correlation_matrix")
    return shown


def eda_page(summary: dict, relation: pd.DataFrame, spec: DataSpec, shown: list[str]) -> str:
    """The offline EDA page: cards, missing values, numeric and categorical columns, ids."""
    parts = [
        pages.cards(
            [
                ("training rows", f"{summary['rows']:,}"),
                (f"{spec.positive_label} rate ({spec.target})", f"{summary['positive_rate']:.1%}"),
                ("numeric / categorical columns", f"{len(spec.numeric)} / {len(spec.categorical)}"),
                ("missing values", f"{sum(summary['missing'].values()):,}"),
            ]
        )
    ]
    missing = [
        {"column": c, "missing": n, "share": n / summary["rows"]}
        for c, n in summary["missing"].items()
    ]
    parts.append(
        pages.section(
            "Missing values",
            pages.table(missing) if missing else pages.paragraph("No missing values.", "note"),
            anchor="missing",
        )
    )
    if spec.numeric:
        table = relation.assign(significant=relation["p_value"] < summary["alpha"])
        numeric = [
            pages.figure(
                "figures/histograms.png", f"Distribution of each numeric column by {spec.target}"
            ),
            "<h3>Correlation with the target (point-biserial), by strength</h3>",
            pages.table(table),
        ]
        if "correlation_matrix" in shown:
            numeric.append(
                pages.figure(
                    "figures/correlation_matrix.png", "Correlation between numeric features"
                )
            )
        parts.append(pages.section("Numeric columns", *numeric, anchor="numeric"))
    if spec.categorical:
        tests = [
            {
                "column": c,
                "categories": v["categories"],
                "chi2": v["statistic"],
                "p_value": v["p_value"],
                "significant": v["significant"],
            }
            for c, v in summary["categorical"].items()
        ]
        tests.sort(key=lambda r: (r["p_value"] is None, r["p_value"] or 0))
        rates = [
            pages.table([{"column": c, **r} for r in v["rates"]])
            for c, v in summary["categorical"].items()
        ]
        parts.append(
            pages.section(
                "Categorical columns",
                pages.figure(
                    "figures/categories.png",
                    f"Count per category; the label is the {spec.positive_label} rate",
                ),
                "<h3>Independence from the target (chi-square), most significant first</h3>",
                pages.table(tests),
                "<h3>Rate per category</h3>",
                *rates,
                anchor="categorical",
            )
        )
    for column, info in summary["identifiers"].items():
        parts.append(
            pages.section(
                f"Identifier column {column}",
                pages.paragraph(
                    f"{info['distinct']:,} distinct values in {info['rows']:,} rows; "
                    "shown as the most frequent values plus the rest pooled."
                ),
                pages.table(info["top"]),
                anchor="identifiers",
            )
        )
    return pages.page(
        "Exploratory data analysis (training split)",
        "\n".join(parts),
        nav=[("Lifecycle report", "../index.html")],
    )
