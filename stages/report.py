"""report: the model card and the one-page lifecycle report, from the other stages' outputs."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from churnops.config import load_params
from churnops.files import read_json, staged_outputs
from churnops.params import get
from churnops.reporting import model_card, report
from churnops.stage import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--reports", required=True, help="the reports/ folder")
    parser.add_argument("--schema", required=True)
    parser.add_argument("--meta", required=True)
    parser.add_argument("--compiled", required=True, help="models/compiled/manifest.json")
    parser.add_argument("--card", required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--figures", required=True, help="this stage's own figures folder")
    args = parser.parse_args()

    params = load_params(args.params)
    reports = Path(args.reports)
    permutation = pd.read_csv(reports / "evaluate/plots/permutation_importance.csv")
    outputs = {
        "meta": read_json(args.meta),
        "compiled": read_json(args.compiled),
        "schema": read_json(args.schema),
        "quality": read_json(reports / "prepare/data_quality.json"),
        "quality_md": (reports / "prepare/data_quality.md").read_text(encoding="utf-8"),
        "cv": read_json(reports / "train/cv_results.json"),
        "metrics": read_json(reports / "evaluate/metrics.json"),
        "intervals": read_json(reports / "evaluate/intervals.json"),
        "diagnostics": read_json(reports / "evaluate/diagnostics.json"),
        "business": read_json(reports / "evaluate/business.json"),
        "fairness": read_json(reports / "evaluate/fairness.json"),
        "permutation": permutation.to_dict(orient="records"),
        "monitor": _monitor(reports / "monitor"),
        "problem": get(params, "problem", None),
        "recipes": list(get(params, "featurize.recipes", None) or []),
        "governance": params["governance"],
        "gate": params["gate"],
        "rules": params["monitor"]["rules"],
        "source": {
            "path": get(params, "prepare.raw_path"),
            "sha256": get(params, "prepare.sha256", None),
        },
    }
    card = model_card.render(outputs)
    figures = {str(p.relative_to(reports)) for p in reports.glob("*/figures/*.png")}
    with staged_outputs() as out:
        figures |= report.draw(outputs, out.path(args.figures))
        out.write_text(args.card, card)
        out.write_text(args.index, report.render({**outputs, "model_card": card}, figures))
    print(f"report: wrote {args.card} and {args.index} (open it in a browser, offline)")


def _monitor(folder: Path) -> dict | None:
    names = ("metrics", "alerts", "decision", "drift")
    if not all((folder / f"{n}.json").is_file() for n in names):
        return None
    return {n: read_json(folder / f"{n}.json") for n in names}


if __name__ == "__main__":
    run("report", main)
