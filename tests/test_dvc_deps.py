"""Every stage's `deps` in dvc.yaml name all the churnops code the stage runs: otherwise editing
that code leaves outputs that DVC calls current. The imports are read from the source (function-
level imports included), transitively, so the check does not depend on what happens to run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

SRC = ROOT / "src"


def _module_file(name: str) -> Path | None:
    """The file of a `churnops...` module or package, or None when it is not one."""
    base = SRC.joinpath(*name.split("."))
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _imports(path: Path) -> set[str]:
    """The churnops modules a file imports, anywhere in it, with their parent packages."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if name.split(".")[0] != "churnops":
                continue
            parts = name.split(".")
            for i in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b too
                if _module_file(".".join(parts[:i])):
                    found.add(".".join(parts[:i]))
    return found


def loaded_files(script: Path) -> set[Path]:
    """Every churnops source file that running `script` can load."""
    seen: set[str] = set()
    todo = sorted(_imports(script))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += sorted(_imports(_module_file(name)) - seen)
    return {_module_file(n) for n in seen}


def uncovered(dvc_yaml: Path) -> dict[str, list[str]]:
    """Per stage: the churnops files its script loads that no dep (file or folder) covers."""
    root = dvc_yaml.parent
    stages = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))["stages"]
    out = {}
    for name, stage in stages.items():
        scripts = [root / d for d in stage["deps"] if d.startswith("stages/")]
        assert scripts, f"stage {name} names no script of stages/ among its deps"
        deps = [(root / d).resolve() for d in stage["deps"] if "${" not in d]
        missing = sorted(
            str(f.relative_to(ROOT))
            for script in scripts
            for f in loaded_files(script)
            if not any(f == d or d in f.parents for d in deps)
        )
        if missing:
            out[name] = missing
    return out


def test_every_stage_declares_the_code_it_runs():
    assert uncovered(ROOT / "dvc.yaml") == {}


def test_the_check_catches_an_undeclared_module(tmp_path):
    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))
    stage = spec["stages"]["prepare"]
    stage["deps"] = [d for d in stage["deps"] if d != "src/churnops/data"]
    (tmp_path / "stages").symlink_to(ROOT / "stages")
    (tmp_path / "src").symlink_to(SRC)
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"prepare": stage}}))
    missing = uncovered(tmp_path / "dvc.yaml")["prepare"]
    assert "src/churnops/data/quality.py" in missing
    assert all(m.startswith("src/churnops/data/") for m in missing)


@pytest.mark.parametrize("script", sorted((ROOT / "stages").glob("*.py")), ids=lambda p: p.stem)
def test_imports_are_found_inside_functions_too(script):
    files = loaded_files(script)
    assert SRC / "churnops" / "__init__.py" in files
    assert SRC / "churnops" / "stage.py" in files  # every stage runs through churnops.stage
