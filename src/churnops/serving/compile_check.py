"""Compiling the model for serving: convert it, check on held-out rows that ONNX Runtime gives
scikit-learn's probabilities on both paths, and write the manifest serving verifies."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from churnops.serving.compiled import ONNX_FILE, CompiledModel, CompileError, to_onnx


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
    onnx_bytes: bytes | None, report: dict[str, Any], *, source_model_sha256: str
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
