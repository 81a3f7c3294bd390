"""The train stage's work as one call: build the featurizer from params, compare the candidates
by cross-validation, choose one by the stated rule, tune it, fit it on all training rows, and
choose the decision threshold; plus the tables and reports it writes. With params
`base.scheduler` other than `local`, every fold and setting is a joblib task on the Dask
cluster's workers (`churnops.compute.engine`); the results are the same."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from churnops.compute.engine import engine, joblib_on
from churnops.data.cleaning import DataSpec, binary_target
from churnops.modeling import business, train
from churnops.modeling.features import build_featurizer, feature_frame

log = logging.getLogger(__name__)

PROFIT_COLUMNS = [
    "threshold",
    "expected_profit",
    "profit_per_row",
    "precision",
    "recall",
    "flagged_share",
]


@dataclass(frozen=True)
class Trained:
    """What training produced: the fitted pipeline and everything the stage reports."""

    model: Pipeline
    chosen: str
    candidates: Mapping[str, Any]
    results: dict[str, dict[str, Any]]
    selection: dict[str, Any]
    best: dict[str, Any]
    tried: list[dict[str, Any]]
    scoring: str
    folds: int
    threshold: dict[str, Any]
    profit: pd.DataFrame


def fit(
    rows: pd.DataFrame,
    spec: DataSpec,
    params: Mapping[str, Any],
    *,
    progress: Callable[[Iterable], Iterable] = lambda settings: settings,
) -> Trained:
    """Compare, choose, tune and fit on the training rows; choose the decision threshold.

    Args:
        params: the whole validated params (base, featurize, train, business, evaluate).
        progress: wraps the tuning settings (a progress bar).
    """
    seed, n_jobs = params["base"]["seed"], params["base"]["n_jobs"]
    settings = params["train"]
    candidates = settings["candidates"]
    train.check_candidates(candidates)
    scoring = train.check_scoring(settings["scoring"])
    cv = train.folds(settings["cv_folds"], seed)
    X = rows[list(spec.columns)]
    y = binary_target(rows[spec.target], spec.positive_label)
    featurizer = build_featurizer(spec.columns, params["featurize"])
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
    base = params["base"]
    with engine(base["scheduler"], base["n_workers"], say=log.info) as client, joblib_on(client):
        if client is not None:  # every fold and setting a task on the cluster's workers
            n_jobs = -1
        return _search(params, X, y, pipelines, cv, scoring, n_jobs, progress)


def _search(
    params: Mapping[str, Any],
    X: pd.DataFrame,
    y: np.ndarray,
    pipelines: Mapping[str, Pipeline],
    cv: Any,
    scoring: str,
    n_jobs: int,
    progress: Callable[[Iterable], Iterable],
) -> Trained:
    """`train`'s comparison, choice, tuning, fit and threshold (joblib's work runs where the
    caller's engine says)."""
    seed, settings = params["base"]["seed"], params["train"]
    candidates = settings["candidates"]
    results = train.compare(pipelines, X, y, cv=cv, scoring=scoring, n_jobs=n_jobs)
    complexity = {n: candidates[n]["complexity"] for n in candidates}
    selection = train.select(results, complexity, settings["selection"])
    chosen = selection["chosen"]
    log.info(
        "rule %s: best %s, chose %s (bar %.4f)",
        settings["selection"],
        selection["best"],
        chosen,
        selection["bar"],
    )
    to_try = train.settings_to_try(
        train.grid_for(chosen, candidates),
        search=settings["search"],
        n_iter=settings["search_iterations"],
        seed=seed,
    )
    log.info("tuning %s: %d setting(s) x %d folds", chosen, len(to_try), cv.get_n_splits())
    best, tried = train.tune(
        pipelines[chosen],
        to_try,
        X,
        y,
        cv=cv,
        scoring=scoring,
        n_jobs=n_jobs,
        progress=progress,
    )
    model = pipelines[chosen].set_params(**best["params"]).fit(X, y)
    threshold, profit = decision_threshold(params, model, X, y, cv=cv, n_jobs=n_jobs)
    return Trained(
        model=model,
        chosen=chosen,
        candidates=candidates,
        results=results,
        selection=selection,
        best=best,
        tried=tried,
        scoring=scoring,
        folds=cv.get_n_splits(),
        threshold=threshold,
        profit=profit,
    )


def decision_threshold(
    params: Mapping[str, Any],
    model: Pipeline,
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    cv: Any,
    n_jobs: int,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The threshold of highest expected profit on out-of-fold training predictions; without
    a `business` section, evaluate.threshold."""
    settings = params.get("business")
    if not settings:
        value = params["evaluate"]["threshold"]
        log.info("no business section: decision threshold is evaluate.threshold = %s", value)
        source = "evaluate.threshold (no business section)"
        return {"value": value, "source": source}, pd.DataFrame(columns=PROFIT_COLUMNS)
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
    source = "max expected profit on out-of-fold training predictions"
    return {"value": value, "source": source, "out_of_fold": chosen}, curve


def cv_table(trained: Trained) -> pd.DataFrame:
    """One row per candidate: its CV score, whether it cleared the bar, whether it was chosen."""
    return pd.DataFrame(
        [
            {
                "candidate": n,
                "type": trained.candidates[n]["type"],
                "complexity": trained.candidates[n]["complexity"],
                "mean": round(r["mean"], 6),
                "std": round(r["std"], 6),
                "se": round(r["se"], 6),
                "eligible": n in trained.selection["eligible"],
                "chosen": n == trained.chosen,
            }
            for n, r in trained.results.items()
        ]
    )


def tuning_table(trained: Trained) -> pd.DataFrame:
    """One row per tuning setting tried."""
    return pd.DataFrame(
        [
            {
                "setting": _describe(t["params"]),
                "mean": round(t["mean"], 6),
                "std": round(t["std"], 6),
                "best": t is trained.best,
            }
            for t in trained.tried
        ]
    )


def cv_report(trained: Trained) -> dict[str, Any]:
    """The comparison, the selection and the tuned result (reports/train/cv_results.json)."""
    return {
        "scoring": trained.scoring,
        "folds": trained.folds,
        "candidates": {
            n: {
                "mean": round(r["mean"], 6),
                "std": round(r["std"], 6),
                "se": round(r["se"], 6),
                "complexity": trained.candidates[n]["complexity"],
            }
            for n, r in trained.results.items()
        },
        "selection": {**trained.selection, "bar": round(trained.selection["bar"], 6)},
        "tuned": {
            "candidate": trained.chosen,
            "params": _describe(trained.best["params"]),
            "mean": round(trained.best["mean"], 6),
            "std": round(trained.best["std"], 6),
        },
    }


def training_features(trained: Trained, rows: pd.DataFrame, spec: DataSpec) -> pd.DataFrame:
    """The training rows as the fitted model's estimator sees them (for inspection), with the
    0/1 target."""
    features = feature_frame(trained.model.named_steps["features"], rows)
    features[spec.target] = binary_target(rows[spec.target], spec.positive_label)
    return features


def _describe(setting: Mapping[str, Any]) -> str:
    return (
        ", ".join(f"{k.removeprefix('model__')}={v}" for k, v in sorted(setting.items()))
        or "defaults"
    )


def headline(cv_report: dict[str, Any], threshold: dict[str, Any]) -> dict[str, Any]:
    """The few numbers `dvc metrics diff` shows for training: the tuned model's CV score, the
    best candidate's, and the decision threshold (the detail stays in cv_results.json)."""
    candidates = cv_report["candidates"]
    return {
        "cv_mean": cv_report["tuned"]["mean"],
        "cv_std": cv_report["tuned"]["std"],
        "best_candidate_cv_mean": max(c["mean"] for c in candidates.values()),
        "decision_threshold": threshold["value"],
    }
