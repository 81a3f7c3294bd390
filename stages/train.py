"""train: compare the candidates by cross-validation, choose one by the stated rule, tune it,
and save the deployable pipeline (featurizer + estimator) with its metadata."""

from __future__ import annotations

import argparse
import logging
import platform

import joblib
import numpy as np
import pandas as pd
import sklearn
from tqdm import tqdm

from churnops.config import load_params
from churnops.data import cleaning
from churnops.files import file_digest, read_json, read_table, staged_outputs
from churnops.modeling import business, train
from churnops.params import get, get_number
from churnops.stage import run

log = logging.getLogger("train")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--train", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--featurizer", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--meta", required=True)
    parser.add_argument("--cv-json", required=True)
    parser.add_argument("--cv-csv", required=True)
    parser.add_argument("--tuning-csv", required=True)
    parser.add_argument("--threshold-json", required=True)
    parser.add_argument("--metrics-json", required=True, help="headline numbers (DVC metric)")
    parser.add_argument("--profit-csv", required=True)
    args = parser.parse_args()

    params = load_params(args.params)
    spec = cleaning.DataSpec.from_params(params)
    seed = get_number(params, "base.seed", integer=True, low=0)
    n_jobs = get_number(params, "base.n_jobs", integer=True, low=1)
    candidates = get(params, "train.candidates")
    train.check_candidates(candidates)
    scoring = train.check_scoring(get(params, "train.scoring"))
    cv = train.folds(get(params, "train.cv_folds"), seed)
    rule = get(params, "train.selection")
    search = get(params, "train.search")
    n_iter = get_number(params, "train.search_iterations", integer=True, low=1)

    rows = read_table(args.train)
    X = rows[list(spec.columns)]
    y = cleaning.binary_target(rows[spec.target], spec.positive_label)
    featurizer = joblib.load(args.featurizer)

    log.info(
        "comparing %d candidates by %d-fold CV (%s) on %d rows",
        len(candidates),
        cv.get_n_splits(),
        scoring,
        len(rows),
    )
    pipelines = {
        n: train.make_pipeline(featurizer, train.build_estimator(n, candidates, seed))
        for n in candidates
    }
    results = train.compare(pipelines, X, y, cv=cv, scoring=scoring, n_jobs=n_jobs)
    complexity = {n: candidates[n]["complexity"] for n in candidates}
    selection = train.select(results, complexity, rule)
    log.info(
        "rule %s: best %s, chose %s (bar %.4f)",
        rule,
        selection["best"],
        selection["chosen"],
        selection["bar"],
    )

    chosen = selection["chosen"]
    settings = train.settings_to_try(
        train.grid_for(chosen, candidates), search=search, n_iter=n_iter, seed=seed
    )
    log.info(
        "tuning %s: %d setting(s) x %d folds (%s search)",
        chosen,
        len(settings),
        cv.get_n_splits(),
        search,
    )
    best, tried = train.tune(
        pipelines[chosen],
        settings,
        X,
        y,
        cv=cv,
        scoring=scoring,
        n_jobs=n_jobs,
        progress=lambda s: tqdm(s, desc=f"tuning {chosen}", unit="setting", leave=False),
    )
    model = pipelines[chosen].set_params(**best["params"]).fit(X, y)
    threshold, profit = _decision_threshold(params, model, X, y, cv=cv, n_jobs=n_jobs)

    cv_table = pd.DataFrame(
        [
            {
                "candidate": n,
                "type": candidates[n]["type"],
                "complexity": complexity[n],
                "mean": round(r["mean"], 6),
                "std": round(r["std"], 6),
                "se": round(r["se"], 6),
                "eligible": n in selection["eligible"],
                "chosen": n == chosen,
            }
            for n, r in results.items()
        ]
    )
    tuning_table = pd.DataFrame(
        [
            {
                "setting": _describe(t["params"]),
                "mean": round(t["mean"], 6),
                "std": round(t["std"], 6),
                "best": t is best,
            }
            for t in tried
        ]
    )
    cv_report = {
        "scoring": scoring,
        "folds": cv.get_n_splits(),
        "candidates": {
            n: {
                "mean": round(r["mean"], 6),
                "std": round(r["std"], 6),
                "se": round(r["se"], 6),
                "complexity": complexity[n],
            }
            for n, r in results.items()
        },
        "selection": {**selection, "bar": round(selection["bar"], 6)},
        "tuned": {
            "candidate": chosen,
            "params": _describe(best["params"]),
            "mean": round(best["mean"], 6),
            "std": round(best["std"], 6),
        },
    }
    estimator_params = {k.removeprefix("model__"): v for k, v in best["params"].items()}
    estimator_params = {**(candidates[chosen].get("params") or {}), **estimator_params}
    schema = read_json(args.schema)
    versions = {
        # python as major.minor: a patch release changes no result, so the metadata stays put
        "python": ".".join(platform.python_version_tuple()[:2]),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "joblib": joblib.__version__,
    }

    with staged_outputs() as out:
        model_path = out.path(args.model)
        joblib.dump(model, model_path)
        meta = train.model_metadata(
            model_sha256=file_digest(model_path),
            train_md5=file_digest(args.train, "md5"),
            schema=schema,
            labels=spec.labels,
            positive_label=str(spec.positive_label),
            chosen=chosen,
            candidate_type=candidates[chosen]["type"],
            estimator_params=estimator_params,
            cv=best,
            scoring=scoring,
            threshold=threshold,
            selection=selection,
            versions=versions,
        )
        out.write_json(args.meta, meta)
        out.write_json(args.cv_json, cv_report)
        out.write_json(args.threshold_json, threshold)
        out.write_json(args.metrics_json, train.headline(cv_report, threshold))
        out.write_csv(args.profit_csv, profit)
        out.write_csv(args.cv_csv, cv_table)
        out.write_csv(args.tuning_csv, tuning_table)

    print(
        f"train: chose {chosen} by rule {rule} (best was {selection['best']}); tuned CV "
        f"{scoring} {best['mean']:.4f} ± {best['std']:.4f}; wrote {args.model}"
    )


def _decision_threshold(params, model, X, y, *, cv, n_jobs) -> tuple[dict, pd.DataFrame]:
    """Choose the threshold of highest expected profit on out-of-fold training predictions;
    without a `business` section, fall back to evaluate.threshold."""
    settings = get(params, "business", None)
    if not settings:
        value = get_number(params, "evaluate.threshold", low=0, high=1)
        log.info("no business section: decision threshold is evaluate.threshold = %s", value)
        empty = pd.DataFrame(
            columns=[
                "threshold",
                "expected_profit",
                "profit_per_customer",
                "precision",
                "recall",
                "flagged_share",
            ]
        )
        return {"value": value, "source": "evaluate.threshold (no business section)"}, empty
    economics = business.Economics.from_params(settings)
    grid = business.thresholds(settings.get("thresholds"))
    proba = train.out_of_fold_proba(model, X, y, cv=cv, n_jobs=n_jobs)
    curve = business.profit_curve(y, proba, economics, grid)
    value = business.choose_threshold(curve)
    chosen = business.impact(y, proba, value, economics)
    log.info(
        "decision threshold %.2f: expected profit %.0f on the training rows out of fold",
        value,
        chosen["expected_savings"],
    )
    return {
        "value": value,
        "source": "max expected profit on out-of-fold training predictions",
        "out_of_fold": chosen,
    }, curve


def _describe(setting: dict) -> str:
    return (
        ", ".join(f"{k.removeprefix('model__')}={v}" for k, v in sorted(setting.items()))
        or "defaults"
    )


if __name__ == "__main__":
    run("train", main)
