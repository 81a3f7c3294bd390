"""evaluate: score the deployable pipeline on the held-out test split (the only stage scoring it),
at the headline threshold and at the business threshold; check fairness; diagnose the model on
the training split (learning curve, CV strategies) and explain it (importances)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import joblib
import pandas as pd

from churnops.config import load_params
from churnops.data import cleaning
from churnops.files import read_json, read_table, staged_outputs
from churnops.modeling import business, diagnose, evaluate, fairness, importance
from churnops.params import ParamsError, get, get_number
from churnops.reporting import plots
from churnops.stage import run

log = logging.getLogger("evaluate")


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
    seed = get_number(params, "base.seed", integer=True, low=0)
    n_jobs = get_number(params, "base.n_jobs", integer=True, low=1)
    threshold = evaluate.check_threshold(get(params, "evaluate.threshold"))
    samples = get(params, "evaluate.bootstrap_samples")
    confidence = get(params, "evaluate.confidence")
    meta = read_json(args.meta)
    decision = float(meta["decision_threshold"]["value"])
    scoring = meta["cv"]["scoring"]
    features = list(meta["features"])
    model = joblib.load(args.model)

    test = read_table(args.test)
    y = cleaning.binary_target(test[spec.target], spec.positive_label)
    proba = model.predict_proba(test[features])[:, 1]

    scores = evaluate.headline_metrics(y, proba, threshold)
    intervals = {
        "confidence": confidence,
        "samples": samples,
        "threshold": threshold,
        "intervals": evaluate.bootstrap_intervals(
            y, proba, threshold, samples=samples, seed=seed, confidence=confidence
        ),
    }
    report = {
        "threshold": threshold,
        "rows": len(test),
        "classes": evaluate.classification_report(y, proba, threshold, spec.labels),
        "at_decision_threshold": {
            "threshold": decision,
            "classes": evaluate.classification_report(y, proba, decision, spec.labels),
        },
    }
    confusion = evaluate.confusion_rows(y, proba, threshold, spec.labels)
    roc, pr = evaluate.roc_points(y, proba), evaluate.pr_points(y, proba)
    calibration, brier = diagnose.calibration_points(
        y, proba, get(params, "evaluate.calibration_bins")
    )
    impact, profit = _business(params, y, proba, decision, meta)
    fair = _fairness(
        params, test, y, proba, decision, samples=samples, seed=seed, confidence=confidence
    )
    fair_rates = fairness.rates_table(fair)

    log.info("diagnosing on the training split: learning curve, CV strategies")
    train_rows = read_table(args.train)
    X_train = train_rows[features]
    y_train = cleaning.binary_target(train_rows[spec.target], spec.positive_label)
    folds = meta["cv"]["folds"]
    curve_rules = get(params, "evaluate.learning_curve")
    sizes = diagnose.check_train_sizes(curve_rules.get("train_sizes"))
    learning = diagnose.learning_points(
        model, X_train, y_train, sizes=sizes, folds=folds, scoring=scoring, seed=seed, n_jobs=n_jobs
    )
    rules = {k: curve_rules[k] for k in ("high_variance_gap", "high_bias_below")}
    diagnostics = {
        "learning_curve": diagnose.summary(learning, rules),
        "cv_strategies": diagnose.compare_cv_strategies(
            model, X_train, y_train, folds=folds, scoring=scoring, seed=seed, n_jobs=n_jobs
        ),
        "calibration": {"brier": brier, "bins": len(calibration)},
    }
    log.info("permutation importance of %d input columns", len(features))
    permutation = importance.permutation_table(
        model,
        test[features],
        y,
        scoring=scoring,
        repeats=get(params, "evaluate.permutation_repeats"),
        seed=seed,
        n_jobs=n_jobs,
    )
    weights = importance.model_weights(model)

    out_dir = Path(args.out_dir)
    plot_dir, fig_dir = out_dir / "plots", out_dir / "figures"
    with staged_outputs() as out:
        out.write_json(out_dir / "metrics.json", scores)
        out.write_json(out_dir / "intervals.json", intervals)
        out.write_json(out_dir / "classification_report.json", report)
        out.write_json(out_dir / "business.json", impact)
        out.write_json(out_dir / "fairness.json", fair)
        out.write_json(out_dir / "fairness_metrics.json", fairness.headline(fair))
        out.write_json(out_dir / "diagnostics.json", diagnostics)
        tables = {
            "confusion": confusion,
            "roc": roc,
            "pr": pr,
            "calibration": calibration,
            "learning_curve": learning,
            "permutation_importance": permutation,
            "profit_test": profit,
            "fairness_rates": fair_rates,
        }
        tables["model_weights"] = (
            weights if weights is not None else pd.DataFrame(columns=["feature", "weight", "kind"])
        )
        for name, frame in tables.items():
            out.write_csv(plot_dir / f"{name}.csv", frame)
        _figures(
            out,
            fig_dir,
            scores=scores,
            confusion=confusion,
            roc=roc,
            pr=pr,
            calibration=calibration,
            brier=brier,
            learning=learning,
            scoring=scoring,
            verdict=diagnostics["learning_curve"]["verdict"],
            permutation=permutation,
            weights=weights,
            profit=profit,
            decision=decision,
            fair_rates=fair_rates,
            labels=spec.labels,
        )

    print("evaluate: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    if impact.get("precision") is not None:
        print(
            f"evaluate: at the business threshold {decision:.2f}, {impact['precision']:.0%} of "
            f"flagged customers churn and {impact['recall']:.0%} of churners are flagged; "
            f"expected savings {impact['expected_savings']:,.0f} on {len(y)} test customers"
        )
    print(
        f"evaluate: learning curve verdict: {diagnostics['learning_curve']['verdict']}; "
        f"fairness flags: {fair['flagged_groups'] or 'none'}"
    )


def _business(params, y, proba, decision, meta) -> tuple[dict, pd.DataFrame]:
    settings = get(params, "business", None)
    if not settings:
        return {
            "threshold": decision,
            "note": "no business section in params: not assessed",
        }, pd.DataFrame(columns=["threshold", "profit_per_customer"])
    economics = business.Economics.from_params(settings)
    curve = business.profit_curve(
        y, proba, economics, business.thresholds(settings.get("thresholds"))
    )
    return {
        **business.impact(y, proba, decision, economics),
        "threshold_source": meta["decision_threshold"]["source"],
    }, curve


def _fairness(params, rows, y, proba, decision, *, samples, seed, confidence) -> dict:
    settings = get(params, "fairness", None) or {}
    groups = list(settings.get("groups") or [])
    unknown = [g for g in groups if g not in rows.columns]
    if unknown:
        raise ParamsError(f"fairness.groups names column(s) {unknown} that the data lacks")
    if not groups:
        return {
            "threshold": decision,
            "groups": {},
            "flagged_groups": [],
            "note": "no fairness groups in params: not assessed",
        }
    limits = {
        k: settings[k]
        for k in ("max_demographic_parity_difference", "max_equalized_odds_difference")
    }
    return fairness.assess(
        rows,
        y,
        proba,
        decision,
        groups=groups,
        limits=limits,
        samples=samples,
        seed=seed,
        confidence=confidence,
    )


def _figures(
    out,
    fig_dir,
    *,
    scores,
    confusion,
    roc,
    pr,
    calibration,
    brier,
    learning,
    scoring,
    verdict,
    permutation,
    weights,
    profit,
    decision,
    fair_rates,
    labels,
) -> None:
    plots.confusion_png(confusion, labels, out.path(fig_dir / "confusion_matrix.png"))
    plots.curve_png(
        roc,
        "fpr",
        "tpr",
        title="ROC curve (test)",
        label=f"AUC = {scores['roc_auc']:.3f}",
        diagonal=True,
        path=out.path(fig_dir / "roc.png"),
    )
    plots.curve_png(
        pr,
        "recall",
        "precision",
        title="Precision-recall curve (test)",
        label=f"AP = {scores['pr_auc']:.3f}",
        path=out.path(fig_dir / "pr.png"),
    )
    plots.calibration_png(calibration, brier, out.path(fig_dir / "calibration.png"))
    plots.learning_curve_png(
        learning, scoring=scoring, verdict=verdict, path=out.path(fig_dir / "learning_curve.png")
    )
    plots.bars_png(
        permutation,
        label="feature",
        value="importance",
        error="std",
        title=f"Permutation importance (test, drop in {scoring})",
        xlabel=f"drop in {scoring}",
        path=out.path(fig_dir / "permutation_importance.png"),
    )
    if weights is not None:
        plots.bars_png(
            weights,
            label="feature",
            value="weight",
            title="Model weights by source column",
            xlabel=weights["kind"].iloc[0],
            path=out.path(fig_dir / "model_weights.png"),
        )
    if len(profit):
        plots.profit_png(
            profit,
            decision,
            title="Expected profit (test)",
            path=out.path(fig_dir / "profit_test.png"),
        )
    if len(fair_rates):
        plots.fairness_png(fair_rates, out.path(fig_dir / "fairness.png"))


if __name__ == "__main__":
    run("evaluate", main)
