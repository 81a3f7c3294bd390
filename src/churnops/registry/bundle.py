"""The serving bundle: everything the service needs in one folder (the model, its metadata with
the decision threshold, the input schema, the compiled model), with a `bundle.json` listing
each file's sha256. It is the registry's artifact (`dvc.yaml` `artifacts:`), so a version
fetched by its tag is checked file by file before it is served."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from churnops.files import dumps_json, file_digest, read_json

MANIFEST = "bundle.json"
# the bundle's files, by role, and where the service finds them inside it
LAYOUT = {
    "model": "model.joblib",
    "meta": "model_meta.json",
    "schema": "schema.json",
    "compiled": "compiled",
}


class BundleError(RuntimeError):
    """A bundle is incomplete or a file does not match its sha256."""


def write(sources: Mapping[str, Path], out_dir: Path) -> dict[str, Any]:
    """Copy the sources (by role, see LAYOUT) into `out_dir` (new) and write the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for role, relative in LAYOUT.items():
        source, target = Path(sources[role]), out_dir / relative
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    meta = read_json(out_dir / LAYOUT["meta"])
    manifest = {
        "model_version": meta["model_sha256"][:12],
        "candidate": meta["candidate"],
        "decision_threshold": meta["decision_threshold"]["value"],
        "files": {
            path.relative_to(out_dir).as_posix(): file_digest(path)
            for path in sorted(out_dir.rglob("*"))
            if path.is_file() and path.name != MANIFEST
        },
    }
    (out_dir / MANIFEST).write_text(dumps_json(manifest), encoding="utf-8", newline="\n")
    return manifest


def verify(folder: Path) -> dict[str, Any]:
    """The manifest of a bundle whose every file is present and matches its sha256.

    Raises:
        BundleError: naming the folder and the first missing or changed file.
    """
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise BundleError(f"{folder}: no {MANIFEST}: not a serving bundle")
    manifest = read_json(manifest_path)
    for relative, expected in manifest["files"].items():
        path = folder / relative
        if not path.is_file():
            raise BundleError(f"{folder}: {relative} is missing from the bundle")
        actual = file_digest(path)
        if actual != expected:
            raise BundleError(
                f"{folder}: {relative} has sha256 {actual}, the bundle says {expected}"
            )
    return manifest


def paths(folder: Path) -> dict[str, Path]:
    """Where the service finds each part of the bundle in `folder`."""
    return {role: folder / relative for role, relative in LAYOUT.items()}
