"""The evaluate stage's figures (offline PNGs) drawn from an `Evaluation`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from churnops.modeling.evaluation import Evaluation
from churnops.reporting import plots


def draw(result: Evaluation, path_for: Callable[[str], Path]) -> None:
    """Draw every figure; `path_for(name)` gives the file to write `name` (e.g. "roc.png") to."""
    tables, scores = result.tables, result.reports["metrics"]
    confusion, roc, pr = tables["confusion"], tables["roc"], tables["pr"]
    calibration, learning = tables["calibration"], tables["learning_curve"]
    permutation, profit = tables["permutation_importance"], tables["profit_test"]
    fair_rates, weights = tables["fairness_rates"], result.weights
    brier, scoring, decision, labels = result.brier, result.scoring, result.decision, result.labels
    verdict = result.reports["diagnostics"]["learning_curve"]["verdict"]

    plots.confusion_png(confusion, labels, path_for("confusion_matrix.png"))
    plots.curve_png(
        roc,
        "fpr",
        "tpr",
        title="ROC curve (test)",
        label=f"AUC = {scores['roc_auc']:.3f}",
        diagonal=True,
        path=path_for("roc.png"),
    )
    plots.curve_png(
        pr,
        "recall",
        "precision",
        title="Precision-recall curve (test)",
        label=f"AP = {scores['pr_auc']:.3f}",
        path=path_for("pr.png"),
    )
    plots.calibration_png(calibration, brier, path_for("calibration.png"))
    plots.learning_curve_png(
        learning, scoring=scoring, verdict=verdict, path=path_for("learning_curve.png")
    )
    plots.bars_png(
        permutation,
        label="feature",
        value="importance",
        error="std",
        title=f"Permutation importance (test, drop in {scoring})",
        xlabel=f"drop in {scoring}",
        path=path_for("permutation_importance.png"),
    )
    if weights is not None:
        plots.bars_png(
            weights,
            label="feature",
            value="weight",
            title="Model weights by source column",
            xlabel=weights["kind"].iloc[0],
            path=path_for("model_weights.png"),
        )
    if len(profit):
        plots.profit_png(
            profit,
            decision,
            title="Expected profit (test)",
            path=path_for("profit_test.png"),
        )
    if len(fair_rates):
        plots.fairness_png(fair_rates, path_for("fairness.png"))
