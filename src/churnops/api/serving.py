"""The deployable model as the service uses it: loaded only when its sha256 matches the
metadata, scored at the decision threshold the pipeline chose."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from churnops.files import file_digest, read_json

log = logging.getLogger(__name__)


class ModelIntegrityError(RuntimeError):
    """The model file is missing or does not match the sha256 in its metadata."""


@dataclass(frozen=True)
class LoadedModel:
    """A verified model with what serving needs to know about it."""

    pipeline: Pipeline
    meta: dict[str, Any]
    schema: dict[str, Any]

    @property
    def version(self) -> str:
        return self.meta["model_sha256"][:12]

    @property
    def threshold(self) -> float:
        return float(self.meta.get("decision_threshold", {}).get("value", 0.5))

    @property
    def features(self) -> list[str]:
        return list(self.schema["features"])

    def predict(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Probability of the positive class, the decision at the threshold, and the confidence
        (the probability of the decided class)."""
        proba = self.pipeline.predict_proba(rows[self.features])[:, 1]
        decision = proba >= self.threshold
        return pd.DataFrame(
            {
                "probability": proba,
                "decision": decision,
                "confidence": np.where(decision, proba, 1 - proba),
            },
            index=rows.index,
        )


def load(model_path: str | Path, meta_path: str | Path, schema_path: str | Path) -> LoadedModel:
    """Load the model after checking its sha256 against the metadata.

    Raises:
        ModelIntegrityError: naming the file and both digests when they differ.
    """
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
    log.info("loaded model %s (%s)", actual[:12], meta.get("candidate"))
    return LoadedModel(pipeline=pipeline, meta=meta, schema=read_json(schema_path))
