"""The deployable model as the service uses it: loaded only when its sha256 matches the
metadata, scored at the decision threshold the pipeline chose."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from churnops.files import file_digest, read_json
from churnops.serving import compiled as compiled_model
from churnops.serving.compiled import CompiledModel, CompileError

log = logging.getLogger(__name__)


class ModelIntegrityError(RuntimeError):
    """The model file is missing or does not match the sha256 in its metadata."""


ENGINES = ("auto", "onnx", "sklearn")


@dataclass(frozen=True)
class LoadedModel:
    """A verified model with what serving needs to know about it.

    compiled: the ONNX fast path when it is available and verified; otherwise None and
        `engine_note` says why scoring runs on scikit-learn.
    """

    pipeline: Pipeline
    meta: dict[str, Any]
    schema: dict[str, Any]
    compiled: CompiledModel | None = None
    engine_note: str = ""

    @property
    def version(self) -> str:
        return self.meta["model_sha256"][:12]

    @functools.cached_property
    def explainer(self) -> Any:
        """The model's reason-code explainer (`churnops.serving.explain`), built once.

        Raises:
            explain.NoExplanation: this model cannot be explained, saying why.
        """
        from churnops.serving import explain

        return explain.explainer(self.pipeline, self.meta)

    @property
    def engine(self) -> str:
        return "onnx" if self.compiled is not None else "sklearn"

    @property
    def threshold(self) -> float:
        return float(self.meta.get("decision_threshold", {}).get("value", 0.5))

    @property
    def features(self) -> list[str]:
        return list(self.schema["features"])

    @property
    def categorical_features(self) -> list[str]:
        return [c for c, f in self.schema["features"].items() if f["kind"] == "categorical"]

    def probabilities(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Positive-class probabilities for rows given as dicts (the request path)."""
        if self.compiled is not None:
            return self.compiled.predict_records(records)
        rows = pd.DataFrame.from_records(list(records), columns=self.features)
        return self.pipeline.predict_proba(rows)[:, 1]

    def predict(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Probability of the positive class, the decision at the threshold, and the confidence
        (the probability of the decided class)."""
        if self.compiled is not None:
            proba = self.compiled.predict_frame(rows[self.features])
        else:  # scikit-learn's imputers take text categories as object columns, not Categorical
            plain = rows[self.features].astype(
                {c: object for c in self.features if isinstance(rows[c].dtype, pd.CategoricalDtype)}
            )
            proba = self.pipeline.predict_proba(plain)[:, 1]
        decision = proba >= self.threshold
        return pd.DataFrame(
            {
                "probability": proba,
                "decision": decision,
                "confidence": np.where(decision, proba, 1 - proba),
            },
            index=rows.index,
        )


def load(
    model_path: str | Path,
    meta_path: str | Path,
    schema_path: str | Path,
    *,
    compiled_dir: str | Path | None = None,
    engine: str = "auto",
    threads: int = 1,
) -> LoadedModel:
    """Load the model after checking its sha256 against the metadata, with the compiled fast
    path from `compiled_dir` when `engine` allows it.

    engine: `auto` uses the compiled model when it exists, was made from this model and passed
        its parity check, and otherwise logs why and scores with scikit-learn; `onnx` requires
        it; `sklearn` never uses it.

    Raises:
        ModelIntegrityError: naming the file and both digests when they differ, or why the
            compiled model cannot be used when `engine` is `onnx`.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {list(ENGINES)}, got {engine!r}")
    model_path = Path(model_path)
    meta = read_json(meta_path)
    if not model_path.is_file():
        raise ModelIntegrityError(f"model file {model_path} does not exist")
    actual = file_digest(model_path)
    if actual != meta.get("model_sha256"):
        raise ModelIntegrityError(
            f"{model_path} has sha256 {actual} but {meta_path} expects "
            f"{meta.get('model_sha256')}: refusing to serve a model that was not evaluated"
        )
    pipeline = joblib.load(model_path)
    compiled, note = None, "engine sklearn was asked for"
    if engine != "sklearn":
        if compiled_dir is None:
            note = "no compiled model folder was given"
        else:
            compiled, note = _compiled(Path(compiled_dir), pipeline, actual, threads)
        if compiled is None and engine == "onnx":
            raise ModelIntegrityError(f"engine onnx was asked for, but {note}")
        if compiled is None:
            log.warning("scoring with scikit-learn: %s", note)
    log.info(
        "loaded model %s (%s), scoring with %s",
        actual[:12],
        meta.get("candidate"),
        "ONNX Runtime" if compiled is not None else "scikit-learn",
    )
    return LoadedModel(
        pipeline=pipeline,
        meta=meta,
        schema=read_json(schema_path),
        compiled=compiled,
        engine_note=note,
    )


def _compiled(
    folder: Path, pipeline: Pipeline, model_sha256: str, threads: int
) -> tuple[CompiledModel | None, str]:
    """The compiled model in `folder`, or None and the reason it cannot be used.

    Raises:
        ModelIntegrityError: the ONNX file does not match the sha256 in its manifest.
    """
    manifest_path = folder / compiled_model.MANIFEST_FILE
    if not manifest_path.is_file():
        return None, f"there is no compiled model ({manifest_path} does not exist)"
    manifest = read_json(manifest_path)
    if not manifest.get("compiled"):
        return None, f"the compile stage did not compile it: {manifest.get('reason')}"
    if manifest.get("source_model_sha256") != model_sha256:
        return None, (
            f"{manifest_path} was made from model {str(manifest.get('source_model_sha256'))[:12]}"
            f", not the served {model_sha256[:12]} (run `dvc repro compile`)"
        )
    onnx_path = folder / manifest["onnx_file"]
    if not onnx_path.is_file():
        return None, f"{onnx_path} does not exist"
    digest = file_digest(onnx_path)
    if digest != manifest.get("onnx_sha256"):
        raise ModelIntegrityError(
            f"{onnx_path} has sha256 {digest} but {manifest_path} expects "
            f"{manifest.get('onnx_sha256')}: refusing to serve a modified compiled model"
        )
    try:
        return CompiledModel(onnx_path.read_bytes(), pipeline, threads=threads), "compiled"
    except (CompileError, RuntimeError, ValueError) as exc:
        return None, f"ONNX Runtime cannot load {onnx_path}: {exc}"
