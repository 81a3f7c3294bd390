"""Which inputs the model relies on: permutation importance of the raw input columns, and the
model's own coefficients or importances with one-hot columns grouped back to their source."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline

_DIGITS = 6


def permutation_table(
    model: Pipeline,
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    scoring: str,
    repeats: int,
    seed: int,
    n_jobs: int,
) -> pd.DataFrame:
    """Drop in score when each raw input column is shuffled (mean and std over repeats).

    The deployable pipeline takes raw rows, so shuffling a raw column moves all the one-hot and
    derived features made from it together: importance is per source column by construction.
    """
    result = permutation_importance(
        model, X, y, scoring=scoring, n_repeats=repeats, random_state=seed, n_jobs=n_jobs
    )
    table = pd.DataFrame(
        {
            "feature": list(X.columns),
            "importance": np.round(result.importances_mean, _DIGITS),
            "std": np.round(result.importances_std, _DIGITS),
        }
    )
    return table.sort_values(["importance", "feature"], ascending=[False, True], ignore_index=True)


def feature_sources(featurizer: Pipeline) -> dict[str, str]:
    """Map each model-input feature name to the column it came from.

    One-hot columns map to the categorical column they encode; other features map to their own
    name without the transformer prefix (e.g. `num__tenure` -> `tenure`).
    """
    encode = featurizer.named_steps["encode"]
    sources: dict[str, str] = {}
    for name, transformer, columns in encode.transformers_:
        if name == "remainder" or transformer == "drop":
            continue
        onehot = getattr(transformer, "named_steps", {}).get("onehot")
        out = transformer.get_feature_names_out(columns)
        if onehot is not None:
            owners = [c for c, cats in zip(columns, onehot.categories_, strict=True) for _ in cats]
            sources.update({f"{name}__{o}": owner for o, owner in zip(out, owners, strict=True)})
        else:
            sources.update({f"{name}__{o}": str(o) for o in out})
    return sources


def model_weights(model: Pipeline) -> pd.DataFrame | None:
    """The estimator's own importances (trees) or absolute coefficients (linear), summed per
    source column; None when the estimator has neither (k-NN, SVM, ensembles, HGB)."""
    estimator: Any = model.named_steps["model"]
    if hasattr(estimator, "feature_importances_"):
        weights, kind = np.asarray(estimator.feature_importances_), "importance"
    elif hasattr(estimator, "coef_"):
        weights, kind = np.abs(np.asarray(estimator.coef_).ravel()), "abs_coefficient"
    else:
        return None
    featurizer = model.named_steps["features"]
    names = featurizer.get_feature_names_out()
    sources = feature_sources(featurizer)
    frame = pd.DataFrame({"feature": [sources.get(n, n) for n in names], "weight": weights})
    grouped = frame.groupby("feature", as_index=False)["weight"].sum()
    grouped["weight"] = grouped["weight"].round(_DIGITS)
    grouped["kind"] = kind
    return grouped.sort_values(["weight", "feature"], ascending=[False, True], ignore_index=True)
