"""The serving bundle: written with each file's sha256, and refused when a file is missing or
changed."""

from __future__ import annotations

import json

import pytest

from churnops.registry import bundle


def _sources(model_files):
    folder, _ = model_files
    return {
        "model": folder / "model.joblib",
        "meta": folder / "meta.json",
        "schema": folder / "schema.json",
        "compiled": folder / "compiled",
    }


def test_a_bundle_holds_everything_and_verifies(model_files, tmp_path):
    out = tmp_path / "serving"
    manifest = bundle.write(_sources(model_files), out)
    assert set(manifest["files"]) == {
        "model.joblib",
        "model_meta.json",
        "schema.json",
        "compiled/model.onnx",
        "compiled/manifest.json",
    }
    assert bundle.verify(out) == manifest == json.loads((out / bundle.MANIFEST).read_text())
    assert bundle.paths(out)["model"] == out / "model.joblib"


def test_a_changed_or_missing_file_is_refused_by_name(model_files, tmp_path):
    out = tmp_path / "serving"
    bundle.write(_sources(model_files), out)
    (out / "schema.json").write_text("{}")
    with pytest.raises(bundle.BundleError, match=r"schema\.json has sha256 .* the bundle says"):
        bundle.verify(out)
    (out / "compiled" / "model.onnx").unlink()
    (out / "schema.json").unlink()
    with pytest.raises(bundle.BundleError, match="is missing from the bundle"):
        bundle.verify(out)
    (out / bundle.MANIFEST).unlink()
    with pytest.raises(bundle.BundleError, match="not a serving bundle"):
        bundle.verify(out)
