"""eda: explore the training split: each column alone, against the target, and numeric columns
against each other; a JSON summary, PNG figures and an offline HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path

from churnops.config import load_params
from churnops.data import cleaning, eda
from churnops.files import read_table, staged_outputs
from churnops.reporting import eda_page
from churnops.stage import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--train", required=True)
    parser.add_argument("--out-dir", required=True, help="reports/eda")
    args = parser.parse_args()

    params = load_params(args.params)
    spec = cleaning.DataSpec.from_params(params)
    settings = params["eda"]
    rows = read_table(args.train)
    y = cleaning.binary_target(rows[spec.target], spec.positive_label)
    summary = eda.summarise(
        rows,
        spec.columns,
        y,
        id_column=spec.id_column,
        top_k=settings["top_k"],
        alpha=settings["alpha"],
    )
    relation = eda.numeric_vs_target(rows, spec.numeric, y)
    matrix = eda.correlation_matrix(rows, spec.numeric) if len(spec.numeric) > 1 else None

    out_dir = Path(args.out_dir)
    with staged_outputs() as out:
        out.write_json(out_dir / "summary.json", summary)
        out.write_csv(out_dir / "target_correlation.csv", relation)
        shown = eda_page.draw(
            rows,
            y,
            spec,
            summary,
            matrix,
            bins=settings["histogram_bins"],
            path_for=lambda name: out.path(out_dir / "figures" / name),
        )
        out.write_text(out_dir / "index.html", eda_page.eda_page(summary, relation, spec, shown))

    print(
        f"eda: {summary['rows']} rows; columns related to the target at "
        f"alpha={settings['alpha']}: {', '.join(summary['significant_columns']) or 'none'}; "
        f"page {out_dir / 'index.html'}"
    )


if __name__ == "__main__":
    run("eda", main)
