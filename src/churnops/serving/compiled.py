"""The compiled fast path: the fitted estimator converted to ONNX and run by ONNX Runtime, with
everything before it — the feature recipes, imputation, scaling, one-hot encoding — run as plain
code from the fitted transformers' parameters (row-wise Python for a request, vectorised numpy for
a batch).

A one-row DataFrame through `Pipeline.predict_proba` spends milliseconds on per-call input
checks; the same arithmetic this way takes tens of microseconds. The compiled model is only used
when its probabilities match the scikit-learn pipeline's within a tolerance on the whole test set,
on both paths (`compile_pipeline`); the caller falls back to scikit-learn otherwise.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, PolynomialFeatures, StandardScaler

from churnops.modeling.features import FeatureRecipes, missing

OPSET = {"": 17, "ai.onnx.ml": 3}
GRAPH_NAME = "churnops"
ONNX_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"


class CompileError(Exception):
    """The pipeline cannot be compiled (unexpected structure or an unsupported estimator)."""


@dataclass(frozen=True, eq=False)
class Encoder:
    """The fitted ColumnTransformer's arithmetic: numeric columns imputed, optionally expanded to
    interaction terms, scaled; categorical columns filled and one-hot encoded (unknown -> zeros).
    Output columns in the ColumnTransformer's order: the numeric block, then the categorical one.
    """

    numeric: list[str]
    impute: np.ndarray  # per numeric column
    powers: np.ndarray | None  # PolynomialFeatures.powers_, or None
    scale: np.ndarray  # x * scale + shift, per output numeric column
    shift: np.ndarray
    categorical: list[str]
    fill: str
    categories: list[dict[str, int]]  # per categorical column: category -> position in its block
    width: int

    def encode_records(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode rows given as dicts (after the recipes) into the estimator's float32 input, in
        plain Python floats: the same float64 arithmetic as `encode_frame`, without numpy's
        per-call cost on a single row."""
        return np.array([self.encode_one(r) for r in rows], dtype=np.float32).reshape(
            len(rows), self.width
        )

    def encode_one(self, row: Mapping[str, Any]) -> list[float]:
        """One row (after the recipes) as the estimator's input, in float64 Python floats."""
        impute, powers, scale, shift = self._plain
        values = [
            impute[j] if missing(row[c]) else float(row[c]) for j, c in enumerate(self.numeric)
        ]
        if powers is not None:  # interaction terms, in PolynomialFeatures' order
            values = [math.prod(v**p for v, p in zip(values, term, strict=True)) for term in powers]
        out = [v * a + b for v, a, b in zip(values, scale, shift, strict=True)]
        out += [0.0] * (self.width - len(out))
        offset, fill = len(scale), self.fill
        for c, lookup in zip(self.categorical, self.categories, strict=True):
            value = row[c]
            position = lookup.get(fill if missing(value) else str(value))
            if position is not None:
                out[offset + position] = 1.0
            offset += len(lookup)
        return out

    @functools.cached_property
    def _plain(self) -> tuple[list[float], list[list[float]] | None, list[float], list[float]]:
        powers = None if self.powers is None else self.powers.tolist()
        return self.impute.tolist(), powers, self.scale.tolist(), self.shift.tolist()

    def encode_frame(self, rows: pd.DataFrame) -> np.ndarray:
        """Encode a DataFrame (after the recipes) into the estimator's float32 input. Each
        column's distinct values are looked up once (a hash pass, not a Python call per row);
        values land in float32 the way the final cast of the row path rounds them."""
        out = np.zeros((len(rows), self.width), dtype=np.float32)
        numeric = rows[self.numeric].to_numpy(dtype=np.float64, na_value=np.nan)
        out[:, : self.scale.size] = self._numeric_block(numeric)
        offset = self.scale.size
        index = np.arange(len(rows))
        for c, lookup in zip(self.categorical, self.categories, strict=True):
            codes, uniques = pd.factorize(rows[c], use_na_sentinel=True)
            # position of each distinct value in the block; the last entry (code -1) is missing
            positions = np.array(
                [lookup.get(str(u), -1) for u in uniques] + [lookup.get(self.fill, -1)],
                dtype=np.int64,
            )[codes]
            known = positions >= 0
            out[index[known], offset + positions[known]] = 1.0
            offset += len(lookup)
        return out

    def _numeric_block(self, numeric: np.ndarray) -> np.ndarray:
        numeric = np.where(np.isnan(numeric), self.impute, numeric)
        if self.powers is not None:
            numeric = np.prod(numeric[:, None, :] ** self.powers[None, :, :], axis=2)
        return numeric * self.scale + self.shift


@dataclass(frozen=True)
class Layout:
    """A fitted pipeline split where the compiled part begins: recipes and encoder run as plain
    code, the estimator is converted."""

    recipes: FeatureRecipes
    encoder: Encoder
    estimator: Any


def layout(pipeline: Pipeline) -> Layout:
    """Split a fitted churnops pipeline (features[recipes, encode] -> model).

    Raises:
        CompileError: naming the part that does not have the expected shape.
    """
    try:
        features, model = pipeline.named_steps["features"], pipeline.named_steps["model"]
        recipes, encode = features.named_steps["recipes"], features.named_steps["encode"]
    except (AttributeError, KeyError) as exc:
        raise CompileError(f"expected Pipeline(features[recipes, encode], model): {exc}") from exc
    if not isinstance(recipes, FeatureRecipes) or not isinstance(encode, ColumnTransformer):
        raise CompileError(
            f"expected FeatureRecipes then ColumnTransformer, got "
            f"{type(recipes).__name__} then {type(encode).__name__}"
        )
    classes = list(getattr(model, "classes_", []))
    if len(classes) != 2:
        raise CompileError(f"expected a binary classifier, got classes {classes}")
    return Layout(recipes=recipes, encoder=_encoder(encode), estimator=model)


def _encoder(encode: ColumnTransformer) -> Encoder:
    numeric: list[str] = []
    categorical: list[str] = []
    parts: dict[str, Any] = {"impute": None, "powers": None, "scale": None, "shift": None}
    fill, categories = "missing", []
    order = [name for name, _, _ in encode.transformers_ if name != "remainder"]
    if order not in (["num", "cat"], ["num"], ["cat"]):
        raise CompileError(f"expected column groups num then cat, got {order}")
    for name, transformer, columns in encode.transformers_:
        if name == "remainder":
            if transformer != "drop":
                raise CompileError(f"expected remainder='drop', got {transformer!r}")
            continue
        steps = list(transformer.steps)
        if name == "num":
            numeric = list(columns)
            parts = _numeric_steps(steps, len(numeric))
        else:
            categorical = list(columns)
            fill, categories = _categorical_steps(steps)
    width = (0 if parts["scale"] is None else parts["scale"].size) + sum(map(len, categories))
    n_out = len(encode.get_feature_names_out())
    if width != n_out:
        raise CompileError(f"the encoder makes {n_out} features, the plain-code one {width}")
    empty = np.zeros(0)
    return Encoder(
        numeric=numeric,
        impute=empty if parts["impute"] is None else parts["impute"],
        powers=parts["powers"],
        scale=empty if parts["scale"] is None else parts["scale"],
        shift=empty if parts["shift"] is None else parts["shift"],
        categorical=categorical,
        fill=fill,
        categories=categories,
        width=width,
    )


def _numeric_steps(steps: list[tuple[str, Any]], n: int) -> dict[str, Any]:
    impute, powers = np.full(n, np.nan), None
    width = n
    scale, shift = np.ones(n), np.zeros(n)
    for _, step in steps:
        if isinstance(step, SimpleImputer):
            impute = np.asarray(step.statistics_, dtype=np.float64)
        elif isinstance(step, PolynomialFeatures):
            powers = np.asarray(step.powers_, dtype=np.float64)
            width = powers.shape[0]
            scale, shift = np.ones(width), np.zeros(width)
        elif isinstance(step, StandardScaler):
            mean = step.mean_ if step.with_mean else np.zeros(width)
            std = step.scale_ if step.with_std else np.ones(width)
            scale, shift = 1.0 / std, -mean / std
        elif isinstance(step, MinMaxScaler):
            scale, shift = np.asarray(step.scale_), np.asarray(step.min_)
        else:
            raise CompileError(f"no plain-code form of numeric step {type(step).__name__}")
    return {"impute": impute, "powers": powers, "scale": scale, "shift": shift}


def _categorical_steps(steps: list[tuple[str, Any]]) -> tuple[str, list[dict[str, int]]]:
    fill, categories = "missing", None
    for _, step in steps:
        if isinstance(step, SimpleImputer):
            if step.strategy != "constant":
                raise CompileError(f"expected a constant categorical fill, got {step.strategy}")
            fill = str(step.fill_value)
        elif isinstance(step, OneHotEncoder):
            if step.drop is not None or getattr(step, "_infrequent_enabled", False):
                raise CompileError("no plain-code form of a OneHotEncoder with drop/infrequent")
            if step.handle_unknown != "ignore":
                raise CompileError(f"expected handle_unknown='ignore', got {step.handle_unknown}")
            categories = [{str(v): i for i, v in enumerate(c)} for c in step.categories_]
        else:
            raise CompileError(f"no plain-code form of categorical step {type(step).__name__}")
    if categories is None:
        raise CompileError("the categorical columns have no OneHotEncoder")
    return fill, categories


def to_onnx(pipeline: Pipeline) -> bytes:
    """The ONNX model of the pipeline's estimator, on one float input of the encoded features.

    Raises:
        CompileError: with skl2onnx's reason when the estimator cannot be converted.
    """
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    parts = layout(pipeline)
    model = parts.estimator
    try:
        with _integer_missing_flags():
            onx = convert_sklearn(
                model,
                initial_types=[("features", FloatTensorType([None, parts.encoder.width]))],
                options={id(model): {"zipmap": False}},
                target_opset=OPSET,
            )
    except Exception as exc:  # skl2onnx raises many types for unsupported models
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
        raise CompileError(f"skl2onnx cannot convert {type(model).__name__}: {first}") from exc
    onx.graph.name = GRAPH_NAME  # otherwise a random uuid, and the file would differ every run
    return onx.SerializeToString()


@contextlib.contextmanager
def _integer_missing_flags():
    """skl2onnx 1.20 gives each leaf of a HistGradientBoosting tree the flag `False` for where
    missing values go, and onnx 1.23 refuses a boolean in a list of integers ("Expected an int,
    got a boolean"), so no such model converted. The flag is handed over as 0/1 while converting."""
    from skl2onnx.common import tree_ensemble

    original = tree_ensemble.add_node

    def add_node(*args: Any, nodes_missing_value_tracks_true: Any = 0, **kwargs: Any) -> Any:
        flag = int(nodes_missing_value_tracks_true)
        return original(*args, nodes_missing_value_tracks_true=flag, **kwargs)

    tree_ensemble.add_node = add_node
    try:
        yield
    finally:
        tree_ensemble.add_node = original


class CompiledModel:
    """Positive-class probabilities: recipes and encoder as plain code, the estimator in ONNX
    Runtime.

    Args:
        onnx_bytes: from `to_onnx`.
        pipeline: the fitted pipeline the ONNX model came from (its recipes and encoder).
        threads: ONNX Runtime intra-op threads (1 is fastest for single rows).
    """

    def __init__(self, onnx_bytes: bytes, pipeline: Pipeline, *, threads: int = 1) -> None:
        import onnxruntime as ort

        self._source = (onnx_bytes, pipeline, threads)  # to rebuild the session elsewhere
        self.layout = layout(pipeline)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(
            onnx_bytes, sess_options=options, providers=["CPUExecutionProvider"]
        )
        inputs = [(i.name, i.shape[-1]) for i in self.session.get_inputs()]
        if inputs != [("features", self.layout.encoder.width)]:
            shown = ", ".join(f"{n}[{w}]" for n, w in inputs[:3]) + (", ..." * (len(inputs) > 3))
            raise CompileError(
                f"the ONNX model takes {len(inputs)} input(s) ({shown}), not one 'features' input "
                f"of width {self.layout.encoder.width} (made by another version of churnops? "
                f"run `dvc repro compile`)"
            )
        outputs = [o.name for o in self.session.get_outputs()]
        if "probabilities" not in outputs:
            raise CompileError(f"the ONNX model has no 'probabilities' output, only {outputs}")
        self._outputs = ["probabilities"]

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as what builds it (an ONNX Runtime session cannot be pickled): a Dask worker
        rebuilds the session once when the model arrives."""
        onnx_bytes, pipeline, threads = self._source
        return (_rebuild, (onnx_bytes, pipeline, threads))

    def with_threads(self, threads: int) -> CompiledModel:
        """The same model on `threads` ONNX Runtime intra-op threads."""
        onnx_bytes, pipeline, _ = self._source
        return CompiledModel(onnx_bytes, pipeline, threads=threads)

    def predict_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Probabilities for rows given as dicts (the request path: no DataFrame)."""
        recipes = self.layout.recipes
        rows = [recipes.transform_record(r) for r in records]
        return self._run(self.layout.encoder.encode_records(rows))

    def predict_frame(self, rows: pd.DataFrame) -> np.ndarray:
        """Probabilities for a DataFrame of raw rows (the batch path, vectorised)."""
        recipes = self.layout.recipes
        derived = recipes.transform(rows[list(recipes.feature_names_in_)])
        return self._run(self.layout.encoder.encode_frame(derived))

    def _run(self, features: np.ndarray) -> np.ndarray:
        (proba,) = self.session.run(self._outputs, {"features": features})
        return proba[:, 1].astype(np.float64)  # classes_ are [negative, positive]


def _rebuild(onnx_bytes: bytes, pipeline: Pipeline, threads: int) -> CompiledModel:
    return CompiledModel(onnx_bytes, pipeline, threads=threads)
