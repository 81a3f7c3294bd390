"""Data tests: the prepare stage, run as DVC runs it, rejects each kind of bad input with a
message naming the column and the value or count, and leaves no outputs behind."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import ROOT, TELCO, TEST_PARAMS

OUTPUTS = ("train.parquet", "test.parquet", "schema.json", "quality.json", "quality.md")


def _run_prepare(workdir: Path, raw_name: str, params: dict) -> subprocess.CompletedProcess:
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    out = workdir / "out"
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "stages" / "prepare.py"),
            "--params",
            "params.yaml",
            "--raw",
            raw_name,
            "--train",
            f"{out}/train.parquet",
            "--test",
            f"{out}/test.parquet",
            "--schema",
            f"{out}/schema.json",
            "--quality-json",
            f"{out}/quality.json",
            "--quality-md",
            f"{out}/quality.md",
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def params() -> dict:
    loaded = yaml.safe_load((TEST_PARAMS).read_text())
    loaded["prepare"]["sha256"] = None
    return loaded


@pytest.fixture
def sample() -> pd.DataFrame:
    return pd.read_csv(TELCO, dtype=str, keep_default_na=False).head(200)


def _total_charges_text(frame):
    frame = frame.copy()
    frame.loc[:9, "TotalCharges"] = "unknown"
    return frame


def _duplicate_ids(frame):
    frame = frame.copy()
    frame.loc[1, "customerID"] = frame.loc[0, "customerID"]
    return frame


CASES = {
    "missing column": (lambda f: f.drop(columns="Contract"), r"missing column\(s\): 'Contract'"),
    "renamed column": (
        lambda f: f.rename(columns={"tenure": "Tenure"}),
        r"'tenure' \(renamed to 'Tenure'\?\)",
    ),
    "extra column": (lambda f: f.assign(Region="north"), r"unexpected column\(s\) \['Region'\]"),
    "one class": (lambda f: f.assign(Churn="No"), r"'Churn' has one class only: \{'No': 200\}"),
    "unknown labels": (
        lambda f: f.assign(Churn=["No", "Yes", "Maybe", "No"] * 50),
        r"'Churn' has unknown label\(s\) \{'Maybe': 50\}",
    ),
    "text in numeric": (
        _total_charges_text,
        r"'TotalCharges' is declared numeric but 10 of 200 values .*'unknown'",
    ),
    "duplicate ids": (_duplicate_ids, r"'customerID' has 1 duplicated id\(s\) over 2 rows"),
    "empty column": (
        lambda f: f.assign(PaymentMethod=""),
        r"column 'PaymentMethod' is entirely empty",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_data_is_rejected_and_leaves_no_outputs(tmp_path, params, sample, case):
    mutate, message = CASES[case]
    mutate(sample).to_csv(tmp_path / "raw.csv", index=False)
    result = _run_prepare(tmp_path, "raw.csv", params)
    assert result.returncode == 2, result.stderr
    assert re.search(message, result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".tmp/*"))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("raw.csv", b"", r"raw\.csv: the file is empty \(0 bytes\)"),
        ("raw.parquet", b"PAR1 definitely not parquet", r"raw\.parquet: cannot be read as parquet"),
        ("raw.csv", b"\x00\xff\xfe\x81garbage\n\x00\x00", r"raw\.csv: not utf-8 text"),
    ],
)
def test_unreadable_files_are_rejected(tmp_path, params, name, content, message):
    (tmp_path / name).write_bytes(content)
    result = _run_prepare(tmp_path, name, params)
    assert result.returncode == 2, result.stderr
    assert re.search(message, result.stderr), result.stderr
    assert not (tmp_path / "out").exists()


def test_checksum_mismatch_is_rejected(tmp_path, params, sample):
    sample.to_csv(tmp_path / "raw.csv", index=False)
    params["prepare"]["sha256"] = "0" * 64
    result = _run_prepare(tmp_path, "raw.csv", params)
    assert result.returncode == 2
    assert f"prepare.sha256 is {'0' * 64} but raw.csv has sha256" in result.stderr


def test_bad_params_value_is_rejected(tmp_path, params, sample):
    sample.to_csv(tmp_path / "raw.csv", index=False)
    params["prepare"]["test_size"] = 1.5
    result = _run_prepare(tmp_path, "raw.csv", params)
    assert result.returncode == 2
    assert "prepare.test_size: must be < 1.0, got 1.5" in result.stderr
    assert result.stderr.count("\n") == 1  # one line


def test_parquet_input_gives_the_same_split_as_csv(tmp_path, params, sample):
    raw = sample.copy()
    raw.to_csv(tmp_path / "raw.csv", index=False)
    assert _run_prepare(tmp_path, "raw.csv", params).returncode == 0
    from_csv = pd.read_parquet(tmp_path / "out" / "train.parquet")
    typed = raw.assign(
        tenure=raw["tenure"].astype(int), SeniorCitizen=raw["SeniorCitizen"].astype(int)
    )
    typed.to_parquet(tmp_path / "raw.parquet", index=False)
    result = _run_prepare(tmp_path, "raw.parquet", params)
    assert result.returncode == 0, result.stderr
    pd.testing.assert_frame_equal(from_csv, pd.read_parquet(tmp_path / "out" / "train.parquet"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: p["train"].__setitem__("candidats", p["train"].pop("candidates")),
            "train.candidats: unknown key (did you mean 'candidates'?)",
        ),
        (
            lambda p: p["evaluate"].__setitem__("threshold", 1.5),
            "evaluate.threshold: must be < 1.0, got 1.5",
        ),
    ],
    ids=["typo in a later stage's section", "impossible value in a later stage's section"],
)
def test_a_params_mistake_anywhere_fails_the_first_stage_in_one_line(
    tmp_path, params, sample, change, message
):
    sample.to_csv(tmp_path / "raw.csv", index=False)
    change(params)
    result = _run_prepare(tmp_path, "raw.csv", params)
    assert result.returncode == 2
    assert result.stderr == f"prepare: error: params.yaml: {message}\n"
    assert not (tmp_path / "out").exists()
