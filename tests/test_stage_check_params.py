"""The check_params stage: all of params.yaml is validated before any other stage runs, in one
line naming the key and the value; a valid file gives the same small output whatever it holds."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from churnops.config import load_params
from tests.conftest import ROOT, TEST_PARAMS


def _check(tmp_path, params) -> subprocess.CompletedProcess:
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return subprocess.run(
        [sys.executable, str(ROOT / "stages" / "check_params.py"), "--params", "params.yaml",
         "--out", "out/check.json"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_valid_params_give_the_sections_checked(tmp_path):
    params = load_params(TEST_PARAMS)
    result = _check(tmp_path, params)
    assert result.returncode == 0, result.stderr
    written = json.loads((tmp_path / "out/check.json").read_text())
    assert written == {"params": "params.yaml", "sections": sorted(params), "valid": True}
    params["monitor"]["alpha"] = 0.01  # a valid edit leaves the output as it was
    _check(tmp_path, params)
    assert json.loads((tmp_path / "out/check.json").read_text()) == written


def test_a_mistake_anywhere_is_one_line_and_writes_nothing(tmp_path):
    params = load_params(TEST_PARAMS)
    params["evaluate"]["threshold"] = 1.5
    result = _check(tmp_path, params)
    assert result.returncode == 2
    assert result.stderr == (
        "check_params: error: params.yaml: evaluate.threshold: must be < 1.0, got 1.5\n"
    )
    assert not (tmp_path / "out").exists()
