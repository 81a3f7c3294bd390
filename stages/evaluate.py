"""evaluate: score the deployable pipeline on the held-out test split (the only stage scoring it),
at the headline threshold and at the business threshold; check fairness; diagnose the model on
the training split (learning curve, CV strategies) and explain it (importances)."""

from __future__ import annotations

import argparse
from pathlib import Path

import joblib

from churnops.config import load_params
from churnops.data import cleaning
from churnops.data.words import Words
from churnops.files import read_json, read_table, staged_outputs
from churnops.modeling.evaluation import evaluate_model, summary_lines
from churnops.reporting import evaluation_figures
from churnops.stage import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--meta", required=True)
    parser.add_argument("--out-dir", required=True, help="reports/evaluate")
    args = parser.parse_args()

    params = load_params(args.params)
    spec = cleaning.DataSpec.from_params(params)
    test = read_table(args.test)
    result = evaluate_model(
        joblib.load(args.model),
        read_json(args.meta),
        read_table(args.train),
        test,
        spec,
        params,
    )
    out_dir = Path(args.out_dir)
    with staged_outputs() as out:
        for name, report in result.reports.items():
            out.write_json(out_dir / f"{name}.json", report)
        for name, frame in result.tables.items():
            out.write_csv(out_dir / "plots" / f"{name}.csv", frame)
        evaluation_figures.draw(result, lambda name: out.path(out_dir / "figures" / name))
    for line in summary_lines(result, len(test), Words.from_params(params)):
        print(line)


if __name__ == "__main__":
    run("evaluate", main)
