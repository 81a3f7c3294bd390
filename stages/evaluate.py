"""evaluate: score the deployable pipeline on the held-out test split (no other stage reads it)."""

from __future__ import annotations

import argparse
from pathlib import Path

import joblib

from churnops import data, evaluate, plots
from churnops.files import read_json, read_table, staged_outputs
from churnops.params import get, load_params
from churnops.stage import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--test", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--meta", required=True)
    parser.add_argument("--metrics", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--plots-dir", required=True)
    parser.add_argument("--figures-dir", required=True)
    args = parser.parse_args()

    params = load_params(args.params)
    spec = data.DataSpec.from_params(params)
    threshold = evaluate.check_threshold(get(params, "evaluate.threshold"))
    meta = read_json(args.meta)
    rows = read_table(args.test)
    model = joblib.load(args.model)
    y = data.binary_target(rows[spec.target], spec.positive_label)
    proba = model.predict_proba(rows[list(meta["features"])])[:, 1]

    scores = evaluate.headline_metrics(y, proba, threshold)
    report = {
        "threshold": threshold,
        "rows": len(rows),
        "classes": evaluate.classification_report(y, proba, threshold, spec.labels),
    }
    confusion = evaluate.confusion_rows(y, proba, threshold, spec.labels)
    roc = evaluate.roc_points(y, proba)
    pr = evaluate.pr_points(y, proba)

    plots_dir, figures_dir = Path(args.plots_dir), Path(args.figures_dir)
    with staged_outputs() as out:
        out.write_json(args.metrics, scores)
        out.write_json(args.report, report)
        for name, frame in (("confusion.csv", confusion), ("roc.csv", roc), ("pr.csv", pr)):
            out.path(plots_dir / name).write_text(frame.to_csv(index=False, lineterminator="\n"))
        plots.confusion_png(confusion, spec.labels, out.path(figures_dir / "confusion_matrix.png"))
        plots.curve_png(
            roc,
            "fpr",
            "tpr",
            title="ROC curve (test)",
            label=f"AUC = {scores['roc_auc']:.3f}",
            diagonal=True,
            path=out.path(figures_dir / "roc.png"),
        )
        plots.curve_png(
            pr,
            "recall",
            "precision",
            title="Precision-recall curve (test)",
            label=f"AP = {scores['pr_auc']:.3f}",
            path=out.path(figures_dir / "pr.png"),
        )

    print("evaluate: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))


if __name__ == "__main__":
    run("evaluate", main)
