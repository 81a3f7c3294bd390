"""Feature engineering: derived-feature recipes from params, then imputation, scaling, encoding.

Everything is a scikit-learn transformer fitted on the training split only, so the same
object turns raw rows into model inputs at training, evaluation and serving time.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, PolynomialFeatures, StandardScaler
from sklearn.utils.validation import check_is_fitted

from churnops.params import ParamsError

# recipe kind -> (required keys, kind of the feature it makes)
RECIPES: dict[str, tuple[tuple[str, ...], str]] = {
    "log": (("column",), "numeric"),
    "bin": (("column", "edges"), "categorical"),
    "ratio": (("numerator", "denominator"), "numeric"),
    "product": (("columns",), "numeric"),
    "group_relative": (("column", "group"), "numeric"),
    "count_equal": (("columns", "value"), "numeric"),
}
SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler, "none": None}


def check_recipes(recipes: Sequence[Mapping[str, Any]], columns: Mapping[str, str]) -> None:
    """Check each recipe's kind, keys and input columns against the declared columns.

    Raises:
        ParamsError: naming `featurize.recipes[i]` and the bad key or value.
    """
    known = dict(columns)
    for i, recipe in enumerate(recipes):
        where = f"featurize.recipes[{i}]"
        if not isinstance(recipe, Mapping):
            raise ParamsError(f"{where} must be a mapping, got {recipe!r}")
        kind = recipe.get("kind")
        if kind not in RECIPES:
            raise ParamsError(f"{where}.kind must be one of {list(RECIPES)}, got {kind!r}")
        required, made = RECIPES[kind]
        for key in ("name", *required):
            if key not in recipe:
                raise ParamsError(f"{where} ({kind}) needs key '{key}', got keys {sorted(recipe)}")
        name = recipe["name"]
        if name in known:
            raise ParamsError(f"{where}.name {name!r} is already a column")
        for column in _inputs(recipe):
            if column not in known:
                raise ParamsError(f"{where} uses column {column!r}, which is not a known column")
            wanted = (
                "categorical" if kind == "group_relative" and column == recipe["group"] else None
            )
            if kind == "count_equal":
                continue
            if (wanted or "numeric") != known[column]:
                raise ParamsError(
                    f"{where} ({kind}) needs {column!r} to be {wanted or 'numeric'}, "
                    f"but it is {known[column]}"
                )
        if kind == "bin":
            edges = recipe["edges"]
            if (
                not isinstance(edges, list)
                or not edges
                or any(isinstance(e, bool) or not isinstance(e, int | float) for e in edges)
                or sorted(set(edges)) != list(edges)
            ):
                raise ParamsError(f"{where}.edges must be increasing numbers, got {edges!r}")
        known[name] = made


def recipe_kinds(recipes: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Map each derived feature's name to its kind (numeric or categorical)."""
    return {r["name"]: RECIPES[r["kind"]][1] for r in recipes}


def recipe_inputs(recipe: Mapping[str, Any]) -> list[str]:
    """The columns a recipe reads."""
    return _inputs(recipe)


def pipeline_recipes(model: Any) -> FeatureRecipes | None:
    """The fitted recipes of a churnops pipeline (features[recipes, encode] -> model), or None
    for a model of another shape."""
    try:
        recipes = model.named_steps["features"].named_steps["recipes"]
    except (AttributeError, KeyError):
        return None
    return recipes if isinstance(recipes, FeatureRecipes) else None


def _inputs(recipe: Mapping[str, Any]) -> list[str]:
    if "columns" in recipe:
        return list(recipe["columns"])
    if recipe["kind"] == "ratio":
        return [recipe["numerator"], recipe["denominator"]]
    if recipe["kind"] == "group_relative":
        return [recipe["column"], recipe["group"]]
    return [recipe["column"]]


class FeatureRecipes(TransformerMixin, BaseEstimator):
    """Add derived columns to a DataFrame: log, bins, ratios, products, group-relative values,
    counts. Group means are learned in `fit` (training rows only).

    Args:
        recipes: the `featurize.recipes` list from params.
    """

    def __init__(self, recipes: Sequence[Mapping[str, Any]] = ()) -> None:
        self.recipes = recipes

    def fit(self, X: pd.DataFrame, y: Any = None) -> FeatureRecipes:
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"FeatureRecipes needs a DataFrame, got {type(X).__name__}")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.group_means_: dict[str, dict[str, Any]] = {}
        for recipe in self.recipes:
            if recipe["kind"] == "group_relative":
                values = X[recipe["column"]].astype("float64")
                means = values.groupby(X[recipe["group"]]).mean()
                self.group_means_[recipe["name"]] = {
                    "by_group": {str(k): float(v) for k, v in means.items()},
                    "overall": float(values.mean()),
                }
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "group_means_")
        # None (e.g. JSON null) and NaN both mean missing; the imputers downstream only see NaN.
        out = X.copy()
        for name in out.select_dtypes(include="object").columns:
            out[name] = out[name].where(out[name].notna(), np.nan)
        for recipe in self.recipes:
            out[recipe["name"]] = self._make(recipe, out)
        return out

    def _make(self, recipe: Mapping[str, Any], X: pd.DataFrame) -> pd.Series:
        kind = recipe["kind"]
        if kind == "log":
            return np.log1p(X[recipe["column"]].astype("float64").clip(lower=0))
        if kind == "bin":
            return _bin(X[recipe["column"]].astype("float64"), list(recipe["edges"]))
        if kind == "ratio":
            denominator = X[recipe["denominator"]].astype("float64")
            floor = recipe.get("min_denominator")
            if floor is not None:
                denominator = denominator.clip(lower=floor)
            return X[recipe["numerator"]].astype("float64") / denominator.replace(0, np.nan)
        if kind == "product":
            return X[list(recipe["columns"])].astype("float64").prod(axis=1, min_count=1)
        if kind == "group_relative":
            fitted = self.group_means_[recipe["name"]]
            groups = X[recipe["group"]]
            if isinstance(groups.dtype, pd.CategoricalDtype):  # text categories, mapped once each
                groups = groups.cat.rename_categories(str)
            else:
                groups = groups.astype(str)
            means = groups.map(fitted["by_group"]).astype("float64").fillna(fitted["overall"])
            return X[recipe["column"]].astype("float64") / means.replace(0, np.nan)
        # count_equal: text columns compare as they are (no per-row str() on big batches);
        # a missing value never counts
        value = str(recipe["value"])
        hits = [
            X[c] == value
            if X[c].dtype == object or isinstance(X[c].dtype, pd.CategoricalDtype)
            else X[c].notna() & (X[c].astype(str) == value)
            for c in recipe["columns"]
        ]
        return pd.concat(hits, axis=1).sum(axis=1)

    def transform_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """`transform` for one row held in a dict, in plain Python: what a single-row request
        costs microseconds for instead of a DataFrame's milliseconds. Derived values are
        those of `transform`; input values pass through as they are (missing as None or NaN)."""
        check_is_fitted(self, "group_means_")
        out = dict(record)
        for recipe in self.recipes:
            out[recipe["name"]] = self._make_one(recipe, out)
        return out

    def _make_one(self, recipe: Mapping[str, Any], row: Mapping[str, Any]) -> Any:
        kind = recipe["kind"]
        if kind == "log":
            value = number(row[recipe["column"]])
            return value if value != value else math.log1p(max(value, 0.0))
        if kind == "bin":
            value = number(row[recipe["column"]])
            if value != value:
                return np.nan
            edges = list(recipe["edges"])
            return _labels_for(tuple(edges))[bisect.bisect_left(edges, value)]
        if kind == "ratio":
            numerator = number(row[recipe["numerator"]])
            denominator = number(row[recipe["denominator"]])
            floor = recipe.get("min_denominator")
            if floor is not None and denominator < floor:
                denominator = float(floor)
            return numerator / denominator if denominator != 0 else np.nan
        if kind == "product":
            present = [float(row[c]) for c in recipe["columns"] if not missing(row[c])]
            return math.prod(present) if present else np.nan
        if kind == "group_relative":
            fitted = self.group_means_[recipe["name"]]
            group = row[recipe["group"]]
            key = "nan" if missing(group) else str(group)
            mean = fitted["by_group"].get(key, fitted["overall"])
            if mean != mean:
                mean = fitted["overall"]
            return number(row[recipe["column"]]) / mean if mean != 0 else np.nan
        value = str(recipe["value"])
        return sum(1 for c in recipe["columns"] if not missing(row[c]) and _text(row[c]) == value)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "feature_names_in_")
        names = list(self.feature_names_in_) + [r["name"] for r in self.recipes]
        return np.asarray(names, dtype=object)


def _bin(values: pd.Series, edges: list[float]) -> pd.Series:
    bounds = [-np.inf, *edges, np.inf]
    binned = pd.cut(values, bins=bounds, labels=list(_labels_for(tuple(edges))), right=True)
    return binned.astype(object).where(binned.notna(), np.nan)


@functools.lru_cache(maxsize=64)
def _labels_for(edges: tuple[float, ...]) -> tuple[str, ...]:
    """One label per interval (-inf, e0], (e0, e1], ..., (e_last, inf); cached per edges."""
    labels = [f"le_{_num(edges[0])}"]
    labels += [f"{_num(a)}_{_num(b)}" for a, b in itertools.pairwise(edges)]
    return (*labels, f"gt_{_num(edges[-1])}")


def number(value: Any) -> float:
    """A row's numeric value as a float; None (JSON null) is NaN."""
    return np.nan if value is None else float(value)


def missing(value: Any) -> bool:
    """Whether a row's value is missing: None or a float NaN."""
    return value is None or (isinstance(value, float) and value != value)


def _text(value: Any) -> str:
    """A value as `count_equal` compares it: text as it is, numbers as pandas prints them."""
    return value if isinstance(value, str) else str(value)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def build_featurizer(columns: Mapping[str, str], settings: Mapping[str, Any]) -> Pipeline:
    """Build the (unfitted) featurizer from the declared columns and the `featurize` params.

    Returns:
        Pipeline(recipes -> ColumnTransformer(numeric: impute, [polynomial], scale;
        categorical: impute 'missing', one-hot ignoring unknown categories)).
    """
    recipes = list(settings.get("recipes") or [])
    check_recipes(recipes, columns)
    kinds = {**dict(columns), **recipe_kinds(recipes)}
    numeric = [c for c, k in kinds.items() if k == "numeric"]
    categorical = [c for c, k in kinds.items() if k == "categorical"]

    impute = settings.get("numeric_impute")
    if impute not in ("median", "mean"):
        raise ParamsError(f"featurize.numeric_impute must be 'median' or 'mean', got {impute!r}")
    scale = settings.get("scale")
    if scale not in SCALERS:
        raise ParamsError(f"featurize.scale must be one of {list(SCALERS)}, got {scale!r}")
    degree = settings.get("polynomial_degree", 1)
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 1:
        raise ParamsError(f"featurize.polynomial_degree must be an integer >= 1, got {degree!r}")
    fill = settings.get("categorical_fill")
    if not isinstance(fill, str) or not fill:
        raise ParamsError(f"featurize.categorical_fill must be a non-empty string, got {fill!r}")

    numeric_steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy=impute))]
    if degree > 1:
        numeric_steps.append(
            ("poly", PolynomialFeatures(degree=degree, interaction_only=True, include_bias=False))
        )
    if SCALERS[scale] is not None:
        numeric_steps.append(("scale", SCALERS[scale]()))
    categorical_steps = [
        ("impute", SimpleImputer(strategy="constant", fill_value=fill)),
        ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
    ]
    transformers = []
    if numeric:
        transformers.append(("num", Pipeline(numeric_steps), numeric))
    if categorical:
        transformers.append(("cat", Pipeline(categorical_steps), categorical))
    encode = ColumnTransformer(transformers, remainder="drop")
    return Pipeline([("recipes", FeatureRecipes(recipes)), ("encode", encode)])


def feature_frame(featurizer: Pipeline, rows: pd.DataFrame) -> pd.DataFrame:
    """Transform rows with a fitted featurizer into a named feature frame."""
    values = featurizer.transform(rows)
    return pd.DataFrame(values, columns=featurizer.get_feature_names_out(), index=rows.index)
