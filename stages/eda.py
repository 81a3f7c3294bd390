"""eda: explore the training split: each column alone, against the target, and numeric columns
against each other; a JSON summary, PNG figures and an offline HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from churnops.config import load_params
from churnops.data import cleaning, eda
from churnops.files import read_table, staged_outputs
from churnops.params import get_number
from churnops.reporting import pages, plots
from churnops.stage import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--train", required=True)
    parser.add_argument("--out-dir", required=True, help="reports/eda")
    args = parser.parse_args()

    params = load_params(args.params)
    spec = cleaning.DataSpec.from_params(params)
    top_k = get_number(params, "eda.top_k", integer=True, low=1)
    alpha = get_number(params, "eda.alpha", low=0, high=1, low_inclusive=False)
    bins = get_number(params, "eda.histogram_bins", integer=True, low=2)
    rows = read_table(args.train)
    y = cleaning.binary_target(rows[spec.target], spec.positive_label)

    summary = eda.summarise(
        rows, spec.columns, y, id_column=spec.id_column, top_k=top_k, alpha=alpha
    )
    relation = eda.numeric_vs_target(rows, spec.numeric, y)
    matrix = eda.correlation_matrix(rows, spec.numeric) if len(spec.numeric) > 1 else None

    out_dir = Path(args.out_dir)
    figures = out_dir / "figures"
    with staged_outputs() as out:
        out.write_json(out_dir / "summary.json", summary)
        out.write_csv(out_dir / "target_correlation.csv", relation)
        shown = []
        if spec.numeric:
            plots.histograms_png(
                rows, spec.numeric, y, spec.labels, out.path(figures / "histograms.png"), bins=bins
            )
            shown.append("histograms")
        if spec.categorical:
            plots.category_png(
                {c: v["rates"] for c, v in summary["categorical"].items()},
                out.path(figures / "categories.png"),
                str(spec.positive_label),
            )
            shown.append("categories")
        if matrix is not None:
            plots.heatmap_png(
                matrix,
                "Correlation of numeric features (train)",
                out.path(figures / "correlation_matrix.png"),
            )
            shown.append("correlation_matrix")
        out.write_text(out_dir / "index.html", _page(summary, relation, spec, shown))

    print(
        f"eda: {summary['rows']} rows; columns related to the target at alpha={alpha}: "
        f"{', '.join(summary['significant_columns']) or 'none'}; page {out_dir / 'index.html'}"
    )


def _page(summary: dict, relation: pd.DataFrame, spec: cleaning.DataSpec, shown: list[str]) -> str:
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


if __name__ == "__main__":
    run("eda", main)
