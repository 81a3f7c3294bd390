"""The compiled fast path: the fitted pipeline's encoder and estimator converted to ONNX and run
by ONNX Runtime, with the feature recipes run before it as plain code (row-wise Python for a
request, vectorised pandas for a batch).

A one-row DataFrame through `Pipeline.predict_proba` spends milliseconds on per-call input
checks; the same arithmetic in ONNX Runtime takes tens of microseconds. The compiled model is
only used when its probabilities match the scikit-learn pipeline's within a tolerance on the
whole test set (`compile_pipeline`), and the caller falls back to scikit-learn otherwise.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from churnops.features import FeatureRecipes

OPSET = {"": 17, "ai.onnx.ml": 3}
GRAPH_NAME = "churnops"
ONNX_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"


class CompileError(Exception):
    """The pipeline cannot be compiled (unexpected structure or an unsupported estimator)."""


@dataclass(frozen=True)
class Layout:
    """A fitted pipeline split where the compiled part begins.

    recipes: the derived-feature step, run as plain code before the compiled part.
    tail: encoder + estimator, with the categorical imputer removed (done by `fill` instead:
        ONNX string tensors cannot hold a missing value).
    """

    recipes: FeatureRecipes
    tail: Pipeline
    numeric: list[str]
    categorical: list[str]
    fill: str
    positive_column: int


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
    encode = copy.deepcopy(encode)
    numeric: list[str] = []
    categorical: list[str] = []
    fill = "missing"
    for name, transformer, columns in encode.transformers_:
        if name == "remainder":
            continue
        if name == "num":
            numeric += list(columns)
        elif name == "cat":
            categorical += list(columns)
            steps = dict(transformer.steps)
            imputer = steps.get("impute")
            if imputer is not None:
                fill = str(imputer.fill_value)
                transformer.steps = [s for s in transformer.steps if s[0] != "impute"]
        else:
            raise CompileError(f"unexpected column group {name!r} in the encoder")
    classes = list(getattr(model, "classes_", []))
    if len(classes) != 2:
        raise CompileError(f"expected a binary classifier, got classes {classes}")
    return Layout(
        recipes=recipes,
        tail=Pipeline([("encode", encode), ("model", model)]),
        numeric=numeric,
        categorical=categorical,
        fill=fill,
        positive_column=1,
    )


def to_onnx(pipeline: Pipeline) -> bytes:
    """The ONNX model of the pipeline's encoder and estimator, one input per column.

    Raises:
        CompileError: with skl2onnx's reason when a part cannot be converted.
    """
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    parts = layout(pipeline)
    types = [(c, FloatTensorType([None, 1])) for c in parts.numeric]
    types += [(c, StringTensorType([None, 1])) for c in parts.categorical]
    model = parts.tail.named_steps["model"]
    try:
        onx = convert_sklearn(
            parts.tail,
            initial_types=types,
            options={id(model): {"zipmap": False}},
            target_opset=OPSET,
        )
    except Exception as exc:  # skl2onnx raises many types for unsupported models
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
        raise CompileError(f"skl2onnx cannot convert {type(model).__name__}: {first}") from exc
    onx.graph.name = GRAPH_NAME  # otherwise a random uuid, and the file would differ every run
    return onx.SerializeToString()


class CompiledModel:
    """Positive-class probabilities from the ONNX model, recipes run before it.

    Args:
        onnx_bytes: from `to_onnx`.
        pipeline: the fitted pipeline the ONNX model came from (its recipes are reused).
        threads: ONNX Runtime intra-op threads (1 is fastest for single rows).
    """

    def __init__(self, onnx_bytes: bytes, pipeline: Pipeline, *, threads: int = 1) -> None:
        import onnxruntime as ort

        self.layout = layout(pipeline)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(
            onnx_bytes, sess_options=options, providers=["CPUExecutionProvider"]
        )
        outputs = [o.name for o in self.session.get_outputs()]
        if "probabilities" not in outputs:
            raise CompileError(f"the ONNX model has no 'probabilities' output, only {outputs}")
        self._outputs = ["probabilities"]

    def predict_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Probabilities for rows given as dicts (the request path: no DataFrame)."""
        parts = self.layout
        rows = [parts.recipes.transform_record(r) for r in records]
        feeds: dict[str, np.ndarray] = {}
        for c in parts.numeric:
            feeds[c] = np.array([[r[c]] for r in rows], dtype=np.float32)
        fill = parts.fill
        for c in parts.categorical:
            feeds[c] = np.array(
                [[fill if _missing(r[c]) else str(r[c])] for r in rows], dtype=object
            )
        return self._run(feeds)

    def predict_frame(self, rows: pd.DataFrame) -> np.ndarray:
        """Probabilities for a DataFrame of raw rows (the batch path, vectorised)."""
        parts = self.layout
        derived = parts.recipes.transform(rows[list(parts.recipes.feature_names_in_)])
        feeds: dict[str, np.ndarray] = {}
        for c in parts.numeric:
            feeds[c] = derived[c].to_numpy(dtype=np.float32, na_value=np.nan).reshape(-1, 1)
        for c in parts.categorical:
            values = derived[c]
            text = values.where(values.notna(), parts.fill)
            if text.dtype != object:
                text = text.astype(str)
            feeds[c] = text.to_numpy(dtype=object).reshape(-1, 1)
        return self._run(feeds)

    def _run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        (proba,) = self.session.run(self._outputs, feeds)
        return proba[:, self.layout.positive_column].astype(np.float64)


def parity(pipeline: Pipeline, compiled: CompiledModel, rows: pd.DataFrame) -> dict[str, Any]:
    """Largest |Δ probability| between scikit-learn and the compiled model, on the batch path and
    on the row-by-row request path."""
    features = list(pipeline.named_steps["features"].named_steps["recipes"].feature_names_in_)
    expected = pipeline.predict_proba(rows[features])[:, 1]
    by_frame = compiled.predict_frame(rows)
    records = rows[features].astype(object).where(rows[features].notna(), None)
    by_record = compiled.predict_records(records.to_dict(orient="records"))
    return {
        "rows": len(rows),
        "max_abs_diff_batch": float(np.max(np.abs(by_frame - expected), initial=0.0)),
        "max_abs_diff_request": float(np.max(np.abs(by_record - expected), initial=0.0)),
    }


def compile_pipeline(
    pipeline: Pipeline, rows: pd.DataFrame, *, tolerance: float
) -> tuple[bytes | None, dict[str, Any]]:
    """Convert the pipeline and check it on `rows`.

    Returns:
        (ONNX bytes, or None when the serving path must stay scikit-learn; a report with
        `compiled`, the parity figures, `tolerance` and, when not compiled, the `reason`).
    """
    report: dict[str, Any] = {"compiled": False, "tolerance": tolerance}
    try:
        onnx_bytes = to_onnx(pipeline)
        figures = parity(pipeline, CompiledModel(onnx_bytes, pipeline), rows)
    except CompileError as exc:
        return None, {**report, "reason": str(exc)}
    report.update(figures)
    worst = max(figures["max_abs_diff_batch"], figures["max_abs_diff_request"])
    if not worst <= tolerance:
        report["reason"] = (
            f"compiled probabilities differ from scikit-learn's by up to {worst:.3g} on "
            f"{figures['rows']} rows, above the tolerance {tolerance:g}"
        )
        return None, report
    report["compiled"] = True
    return onnx_bytes, report


def manifest(
    onnx_bytes: bytes | None, report: Mapping[str, Any], *, source_model_sha256: str
) -> dict[str, Any]:
    """What the serving side checks before it uses `model.onnx`: that it was compiled from the
    served model, passed its parity check, and is the file that was written."""
    import onnxruntime
    import skl2onnx

    return {
        **report,
        "source_model_sha256": source_model_sha256,
        "onnx_file": ONNX_FILE if onnx_bytes else None,
        "onnx_sha256": hashlib.sha256(onnx_bytes).hexdigest() if onnx_bytes else None,
        "skl2onnx": skl2onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
    }


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)
