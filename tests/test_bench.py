"""Every benchmark script runs from a fresh checkout in a quick mode, so that none of them rots
(the figures are not checked here: machines are shared and noisy). Needs the pipeline's outputs
(`make repro`): CI runs this after it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

QUICK = {
    "abtest": ["--runs", "20", "--srm-units", "2000"],
    "drift": ["--resamples", "2", "--sizes", "2000"],
    "batch": ["--rows", "20000"],
    "scale": ["--rows", "100000,200000", "--monitor-rows", "100000,200000"],
    "serve": ["--seconds", "0.5", "--rounds", "1"],
    "serve_profile": ["--requests", "200"],
    # a relative interpreter path, as `make bench-pipeline` passes it (it must survive the
    # script's move into its temporary clone)
    "pipeline": ["--repeats", "1", "--pycaret-python", ".venv-pycaret/bin/python"],
}


# scripts whose figures docs/benchmarks.md is rendered from: a quick run keeps them elsewhere
KEPT = set(QUICK)  # every script keeps its figures


@pytest.mark.parametrize("name", sorted(QUICK))
def test_bench_script_runs_in_quick_mode(name, tmp_path):
    if not (ROOT / "models" / "model.joblib").exists():
        pytest.skip("needs the pipeline's outputs: run `make repro` first")
    kept = tmp_path / f"{name}.json"
    where = ["--results", str(kept)] if name in KEPT else []
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{name}.py"), *QUICK[name], *where],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    if name in KEPT:
        assert json.loads(kept.read_text(encoding="utf-8"))["rows"]
