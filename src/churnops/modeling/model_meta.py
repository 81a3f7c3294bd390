"""models/model_meta.json: what a consumer of `model.joblib` needs to trust and use it (no
timestamps): the data and model hashes, the candidate and its CV score, the decision threshold,
the library versions, the mean encoded training row (the baseline of reason codes) and the seed.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn

from churnops.data.cleaning import DataSpec
from churnops.modeling.features import feature_frame
from churnops.modeling.training import Trained


def metadata(
    trained: Trained,
    *,
    model_sha256: str,
    train_md5: str,
    schema: Mapping[str, Any],
    spec: DataSpec,
    rows: pd.DataFrame,
    seed: int,
) -> dict[str, Any]:
    """models/model_meta.json for the fitted model (no timestamps), with the training `rows`'
    mean encoded features (the baseline per-prediction explanations are measured from) and the
    training seed (which seeds the explanations that sample)."""
    tuned = {k.removeprefix("model__"): v for k, v in trained.best["params"].items()}
    estimator_params = {**(trained.candidates[trained.chosen].get("params") or {}), **tuned}
    meta = model_metadata(
        model_sha256=model_sha256,
        train_md5=train_md5,
        schema=schema,
        labels=spec.labels,
        positive_label=str(spec.positive_label),
        chosen=trained.chosen,
        candidate_type=trained.candidates[trained.chosen]["type"],
        estimator_params=estimator_params,
        cv=trained.best,
        scoring=trained.scoring,
        threshold=trained.threshold,
        selection=trained.selection,
        versions=library_versions(),
    )
    meta["encoded_mean"] = encoded_mean(trained.model, rows[list(spec.columns)])
    meta["seed"] = seed
    return meta


def encoded_mean(model: Any, rows: pd.DataFrame) -> list[float]:
    """The mean of the rows as the fitted pipeline's estimator sees them, one value per encoded
    feature, in its order; rounded to 10 decimals (+0.0 turns -0.0 into 0.0), so that the
    summation order of another machine cannot change the file."""
    means = feature_frame(model.named_steps["features"], rows).mean()
    return [round(float(m), 10) + 0.0 for m in means]


def library_versions() -> dict[str, str]:
    """The versions a fitted model depends on; python as major.minor (a patch release changes
    no result, so the metadata stays put)."""
    return {
        "python": ".".join(platform.python_version_tuple()[:2]),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "joblib": joblib.__version__,
    }


def model_metadata(
    *,
    model_sha256: str,
    train_md5: str,
    schema: Mapping[str, Any],
    labels: list[str],
    positive_label: str,
    chosen: str,
    candidate_type: str,
    estimator_params: Mapping[str, Any],
    cv: Mapping[str, Any],
    scoring: str,
    threshold: Mapping[str, Any],
    selection: Mapping[str, Any],
    versions: Mapping[str, str],
) -> dict[str, Any]:
    """Everything a consumer of `model.joblib` needs to trust and use it (no timestamps)."""
    return {
        "model_sha256": model_sha256,
        "train_data_md5": train_md5,
        "features": {n: f["kind"] for n, f in schema["features"].items()},
        "classes": labels,
        "positive_label": positive_label,
        "candidate": chosen,
        "candidate_type": candidate_type,
        "params": {k: _plain(v) for k, v in estimator_params.items()},
        "cv": {
            "scoring": scoring,
            "mean": round(cv["mean"], 6),
            "std": round(cv["std"], 6),
            "folds": len(cv["scores"]),
        },
        "decision_threshold": dict(threshold),
        "selection": {
            "rule": selection["rule"],
            "chosen": selection["chosen"],
            "best": selection["best"],
        },
        "versions": dict(versions),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
