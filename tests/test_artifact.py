"""Loading the served model: sha256 checks, and which engine scores (ONNX Runtime when the
compiled model is verified, scikit-learn with a stated reason otherwise)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from churnops.serving import artifact


@pytest.fixture
def folder(model_files, tmp_path):
    source, _ = model_files
    shutil.copytree(source, tmp_path / "m")
    return tmp_path / "m"


def _load(folder, **options):
    return artifact.load(
        folder / "model.joblib",
        folder / "meta.json",
        folder / "schema.json",
        compiled_dir=folder / "compiled",
        **options,
    )


def test_auto_uses_the_verified_compiled_model(folder, model_files):
    _, record = model_files
    loaded = _load(folder)
    assert loaded.engine == "onnx"
    assert loaded.engine_note == "compiled"
    naive = _load(folder, engine="sklearn")
    assert naive.engine == "sklearn"
    features = {k: v for k, v in record.items() if k != "customerID"}
    np.testing.assert_allclose(
        loaded.probabilities([features]), naive.probabilities([features]), atol=1e-5
    )
    rows = pd.DataFrame([features] * 3)
    pd.testing.assert_frame_equal(loaded.predict(rows), naive.predict(rows), atol=1e-5)


def test_compiled_model_of_another_model_falls_back_with_the_reason(folder, caplog):
    manifest = json.loads((folder / "compiled" / "manifest.json").read_text())
    manifest["source_model_sha256"] = "0" * 64
    (folder / "compiled" / "manifest.json").write_text(json.dumps(manifest))
    loaded = _load(folder)
    assert loaded.engine == "sklearn"
    assert "was made from model 000000000000" in loaded.engine_note
    assert "scoring with scikit-learn" in caplog.text
    with pytest.raises(artifact.ModelIntegrityError, match="engine onnx was asked for"):
        _load(folder, engine="onnx")


def test_not_compiled_manifest_falls_back(folder):
    (folder / "compiled" / "manifest.json").write_text(
        json.dumps({"compiled": False, "reason": "skl2onnx cannot convert X"})
    )
    loaded = _load(folder)
    assert loaded.engine == "sklearn"
    assert "skl2onnx cannot convert X" in loaded.engine_note


def test_missing_compiled_folder_falls_back(folder):
    shutil.rmtree(folder / "compiled")
    assert "no compiled model" in _load(folder).engine_note


def test_modified_onnx_file_is_refused(folder):
    with open(folder / "compiled" / "model.onnx", "ab") as handle:
        handle.write(b"x")
    with pytest.raises(artifact.ModelIntegrityError, match="modified compiled model"):
        _load(folder)


def test_unknown_engine_is_rejected(folder):
    with pytest.raises(ValueError, match="engine must be one of"):
        _load(folder, engine="gpu")
