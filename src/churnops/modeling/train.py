"""Model selection: build candidates from params, compare them by cross-validation, choose by a
stated rule, tune the chosen one, and assemble the single deployable pipeline."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import get_scorer
from sklearn.model_selection import (
    ParameterGrid,
    ParameterSampler,
    StratifiedKFold,
    cross_val_predict,
    cross_validate,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from churnops.params import ParamsError

log = logging.getLogger(__name__)

SELECTION_RULES = ("one_standard_error", "best")
ENSEMBLES = ("soft_voting", "stacking")
# the candidate setting for the folds an estimator fits internally: the SVM's sigmoid calibration,
# the stacking ensemble's out-of-fold predictions
_FOLDS = "inner_folds"
NEEDS_FOLDS = ("svm", "stacking")


def _svm(params: dict[str, Any], seed: int, folds: int) -> BaseEstimator:
    # SVC(probability=True) is deprecated in scikit-learn 1.9; calibrate a plain SVC instead.
    splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return CalibratedClassifierCV(
        SVC(random_state=seed, **params), method="sigmoid", cv=splits, ensemble=False
    )


# candidate type -> (factory(params, seed), prefix that grid keys need inside the estimator)
ESTIMATORS: dict[str, tuple[Callable[[dict[str, Any], int], BaseEstimator], str]] = {
    "logistic_regression": (lambda p, s: LogisticRegression(random_state=s, **p), ""),
    "knn": (lambda p, s: KNeighborsClassifier(**p), ""),
    "svm": (lambda p, s: _svm(p, s, p.pop(_FOLDS)), "estimator__"),
    "random_forest": (lambda p, s: RandomForestClassifier(random_state=s, n_jobs=1, **p), ""),
    "hist_gradient_boosting": (
        lambda p, s: HistGradientBoostingClassifier(random_state=s, **p),
        "",
    ),
}


def check_candidates(candidates: Mapping[str, Any]) -> None:
    """Validate `train.candidates`: types, complexities, params and grids, ensemble members."""
    if not isinstance(candidates, Mapping) or not candidates:
        raise ParamsError(
            f"train.candidates must map names to candidate settings, got {candidates!r}"
        )
    for name, cfg in candidates.items():
        where = f"train.candidates.{name}"
        if not isinstance(cfg, Mapping):
            raise ParamsError(f"{where} must be a mapping, got {cfg!r}")
        kind = cfg.get("type")
        if kind not in ESTIMATORS and kind not in ENSEMBLES:
            raise ParamsError(
                f"{where}.type must be one of {[*ESTIMATORS, *ENSEMBLES]}, got {kind!r}"
            )
        complexity = cfg.get("complexity")
        if isinstance(complexity, bool) or not isinstance(complexity, int | float):
            raise ParamsError(
                f"{where}.complexity must be a number (lower = simpler), got {complexity!r}"
            )
        for key in ("params", "grid"):
            if not isinstance(cfg.get(key) or {}, Mapping):
                raise ParamsError(f"{where}.{key} must be a mapping, got {cfg.get(key)!r}")
        if kind in NEEDS_FOLDS:
            folds = cfg.get(_FOLDS)
            if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
                raise ParamsError(
                    f"{where}.{_FOLDS} must be an integer >= 2 (the folds a {kind} candidate "
                    f"fits internally), got {folds!r}"
                )
        for key, values in (cfg.get("grid") or {}).items():
            if not isinstance(values, list) or not values:
                raise ParamsError(f"{where}.grid.{key} must be a non-empty list, got {values!r}")
        if kind in ENSEMBLES:
            members = cfg.get("members")
            if not isinstance(members, list) or len(members) < 2:
                raise ParamsError(
                    f"{where}.members must list at least two candidates, got {members!r}"
                )
            for member in members:
                if member not in candidates or candidates[member].get("type") in ENSEMBLES:
                    raise ParamsError(
                        f"{where}.members names {member!r}, which is not a non-ensemble candidate"
                    )


def build_estimator(name: str, candidates: Mapping[str, Any], seed: int) -> BaseEstimator:
    """Build candidate `name` with its params (ensembles from their members' params)."""
    cfg = candidates[name]
    params = dict(cfg.get("params") or {})
    if cfg["type"] in ENSEMBLES:
        members = [(m, build_estimator(m, candidates, seed)) for m in cfg["members"]]
        if cfg["type"] == "soft_voting":
            # flatten_transform only shapes transform(); skl2onnx converts the False form only
            return VotingClassifier(members, voting="soft", flatten_transform=False, **params)
        folds = StratifiedKFold(n_splits=cfg[_FOLDS], shuffle=True, random_state=seed)
        return StackingClassifier(
            members, final_estimator=LogisticRegression(random_state=seed), cv=folds, **params
        )
    factory, _ = ESTIMATORS[cfg["type"]]
    if cfg["type"] in NEEDS_FOLDS:
        params[_FOLDS] = cfg[_FOLDS]
    try:
        return factory(params, seed)
    except TypeError as exc:
        raise ParamsError(f"train.candidates.{name}.params: {exc}; got {params!r}") from exc


def grid_for(name: str, candidates: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The candidate's grid with keys addressed inside the deployable pipeline."""
    cfg = candidates[name]
    prefix = "" if cfg["type"] in ENSEMBLES else ESTIMATORS[cfg["type"]][1]
    return {f"model__{prefix}{k}": list(v) for k, v in (cfg.get("grid") or {}).items()}


def make_pipeline(featurizer: Pipeline, estimator: BaseEstimator) -> Pipeline:
    """The deployable object: raw rows in, probabilities out."""
    return Pipeline([("features", clone(featurizer)), ("model", estimator)])


def folds(n_splits: int, seed: int) -> StratifiedKFold:
    """Shuffled stratified folds, seeded."""
    if isinstance(n_splits, bool) or not isinstance(n_splits, int) or n_splits < 2:
        raise ParamsError(f"train.cv_folds must be an integer >= 2, got {n_splits!r}")
    return StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)


def check_scoring(scoring: str) -> str:
    """Return the scorer name if scikit-learn knows it."""
    try:
        get_scorer(scoring)
    except (ValueError, TypeError) as exc:
        raise ParamsError(
            f"train.scoring must be a scikit-learn scorer name, got {scoring!r}"
        ) from exc
    return scoring


def cross_validate_pipeline(
    pipeline: Pipeline,
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    cv: StratifiedKFold,
    scoring: str,
    n_jobs: int,
) -> dict[str, Any]:
    """Score one pipeline by k-fold CV: fold scores, mean, std, standard error, fit time."""
    start = time.perf_counter()
    result = cross_validate(
        pipeline, X, y, cv=cv, scoring=scoring, n_jobs=n_jobs, error_score="raise"
    )
    scores = result["test_score"]
    return {
        "mean": float(np.mean(scores)),
        "std": float(np.std(scores)),
        "se": float(np.std(scores, ddof=1) / math.sqrt(len(scores))),
        "scores": [float(s) for s in scores],
        "seconds": time.perf_counter() - start,
    }


def compare(
    pipelines: Mapping[str, Pipeline],
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    cv: StratifiedKFold,
    scoring: str,
    n_jobs: int,
) -> dict[str, dict[str, Any]]:
    """Cross-validate every candidate on the same folds, logging each as it finishes."""
    results = {}
    for i, (name, pipeline) in enumerate(pipelines.items(), start=1):
        results[name] = cross_validate_pipeline(
            pipeline, X, y, cv=cv, scoring=scoring, n_jobs=n_jobs
        )
        r = results[name]
        log.info(
            "[%d/%d] %-22s %s %.4f ± %.4f  (%.1f s)",
            i,
            len(pipelines),
            name,
            scoring,
            r["mean"],
            r["std"],
            r["seconds"],
        )
    return results


def select(
    results: Mapping[str, Mapping[str, Any]], complexity: Mapping[str, float], rule: str
) -> dict[str, Any]:
    """Choose a candidate by `rule`.

    one_standard_error: among candidates whose mean score is at least the best mean minus the
    best's standard error, the one of lowest complexity (ties: higher mean). best: highest mean.

    Returns:
        chosen, best, rule, the score bar and the candidates that cleared it.
    """
    if rule not in SELECTION_RULES:
        raise ParamsError(f"train.selection must be one of {list(SELECTION_RULES)}, got {rule!r}")
    best = max(results, key=lambda n: (results[n]["mean"], -complexity[n]))
    if rule == "best":
        bar = results[best]["mean"]
        eligible = [best]
    else:
        bar = results[best]["mean"] - results[best]["se"]
        eligible = [n for n in results if results[n]["mean"] >= bar]
    chosen = min(eligible, key=lambda n: (complexity[n], -results[n]["mean"]))
    return {
        "rule": rule,
        "best": best,
        "chosen": chosen,
        "bar": bar,
        "eligible": sorted(eligible, key=lambda n: complexity[n]),
    }


def settings_to_try(
    grid: Mapping[str, list[Any]], *, search: str, n_iter: int, seed: int
) -> list[dict[str, Any]]:
    """Expand a grid into the settings to evaluate (all of them, or a seeded random sample)."""
    if search not in ("grid", "random"):
        raise ParamsError(f"train.search must be 'grid' or 'random', got {search!r}")
    if not grid:
        return [{}]
    everything = ParameterGrid(dict(grid))
    if search == "grid" or n_iter >= len(everything):
        return list(everything)
    return list(ParameterSampler(dict(grid), n_iter=n_iter, random_state=seed))


def tune(
    pipeline: Pipeline,
    settings: list[dict[str, Any]],
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    cv: StratifiedKFold,
    scoring: str,
    n_jobs: int,
    progress: Callable[[Any], Any] = iter,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Cross-validate each setting on the same folds; return the best setting and all results.

    Args:
        progress: wraps the settings iterable (e.g. `tqdm`) to show progress.
    """
    rows = []
    for setting in progress(settings):
        candidate = clone(pipeline).set_params(**setting)
        rows.append(
            {
                "params": setting,
                **cross_validate_pipeline(candidate, X, y, cv=cv, scoring=scoring, n_jobs=n_jobs),
            }
        )
    best = max(rows, key=lambda r: r["mean"])
    return best, rows


def out_of_fold_proba(
    pipeline: Pipeline, X: pd.DataFrame, y: np.ndarray, *, cv: StratifiedKFold, n_jobs: int
) -> np.ndarray:
    """Positive-class probability of every training row from a model that never saw that row:
    what the decision threshold is chosen on (never the test split)."""
    return cross_val_predict(clone(pipeline), X, y, cv=cv, method="predict_proba", n_jobs=n_jobs)[
        :, 1
    ]
