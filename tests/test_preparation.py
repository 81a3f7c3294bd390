"""prepare as one function: pooling of high-cardinality columns (and the contract taking any
value for them), the leakage check wired to params, ignored columns reported."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnops.config import load_params
from churnops.data import preparation, quality
from churnops.data.contract import Contract
from churnops.data.schema import OTHER, DataError
from tests.conftest import TEST_PARAMS


def _params(**prepare):
    params = load_params(TEST_PARAMS)
    params["base"].update(target="y", positive_label="1", negative_label="0", id_column="key")
    params["prepare"].update(columns={"x": "numeric", "code": "categorical"}, strict_schema=False)
    params["prepare"].update(bounds=None, **prepare)
    params["problem"] = None
    return params


def _raw(n=400, leak=False, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = y + rng.normal(0, 0.05 if leak else 2.0, n)
    return pd.DataFrame(
        {
            "key": [f"k{i}" for i in range(n)],
            "x": x.round(4).astype(str),
            "code": [f"c{i % 300}" for i in range(n)],  # 300 distinct in 400 rows
            "note": ["free text"] * n,  # not declared: ignored
            "y": y.astype(str),
        }
    )


def test_a_near_unique_column_is_pooled_and_serving_takes_any_value():
    prepared = preparation.prepare(_raw(), _params())
    kept = prepared.schema["features"]["code"]
    assert kept["pooled"] is True
    assert len(kept["categories"]) == 21
    assert kept["categories"][-1] == OTHER
    assert set(prepared.train["code"]) <= set(kept["categories"])
    assert set(prepared.test["code"]) <= set(kept["categories"])
    assert prepared.report["pooled"]["columns"] == {"code": 300}
    assert any("column 'code' has 300 distinct values: pooled" in w for w in prepared.warnings)
    contract = Contract(prepared.schema, "reject")
    check = contract.check_record({"x": 0.5, "code": "never seen"})
    assert check.problems == []
    assert check.values["code"] == OTHER
    typed, reasons, _ = contract.check_frame(pd.DataFrame({"x": [0.5], "code": ["new"]}))
    assert typed["code"].tolist() == [OTHER]
    assert reasons.tolist() == [""]


def test_ignored_columns_and_the_leakage_check_are_in_the_quality_report():
    prepared = preparation.prepare(_raw(leak=True), _params())
    report = prepared.report
    assert report["ignored_columns"] == ["note"]
    # the schema names them too, so the service accepts a raw row of the file
    assert prepared.schema["ignored_columns"] == ["note"]
    assert Contract(prepared.schema, "reject").ignored_keys[-1] == "note"
    assert list(report["leakage"]["suspects"]) == ["x"]
    markdown = quality.quality_markdown(report, title="raw.csv")
    assert "ignored: `note`" in markdown
    assert "**Warning: 1 column(s) alone predict the target" in markdown
    with pytest.raises(DataError, match=r"leakage: column\(s\) 'x' \(0\.99\d\)"):
        preparation.prepare(_raw(leak=True), _params(leakage="error"))
    assert preparation.prepare(_raw(), _params(leakage="error")).report["leakage"]["suspects"] == {}


def test_every_row_of_the_file_is_accepted_though_the_test_split_holds_the_extremes():
    params = _params()
    params["prepare"]["bounds"] = {"x": {"max": 500}}
    raw = _raw(n=400)
    held_out = preparation.prepare(raw, params).test["key"].iloc[0]
    raw.loc[raw["key"] == held_out, "x"] = "400"  # far beyond every training value
    prepared = preparation.prepare(raw, params)
    assert prepared.test["x"].max() == 400
    info = prepared.schema["features"]["x"]
    # the training range (which flags) stays the training split's; the band covers the file
    assert info["max"] == round(prepared.train["x"].max(), 6) < 10
    assert info["accept"]["reject"][1] == 400
    contract = Contract(prepared.schema, "reject")
    for split in (prepared.train, prepared.test):
        assert (contract.check_frame(split)[1] == "").all()
    check = contract.check_record({"x": 400, "code": "c1"})
    assert check.problems == []
    assert check.warnings  # outside the training range: scored and flagged
    (beyond,) = contract.check_record({"x": 401, "code": "c1"}).problems
    assert "or to the data file's range [" in beyond[2]  # the reason says why 400 was accepted
    # never past a declared bound
    raw.loc[raw["key"] == held_out, "x"] = "900"
    with_bound = preparation.prepare(raw, params)
    assert with_bound.schema["features"]["x"]["accept"]["reject"][1] == 500
    # a category only a test row holds is named, and such a row is flagged, not refused
    raw.loc[raw["key"] == held_out, "x"] = "1"
    raw["code"] = [f"c{i % 3}" for i in range(len(raw))]
    raw.loc[raw["key"] == held_out, "code"] = "c-only-in-test"
    prepared = preparation.prepare(raw, params)
    assert prepared.schema["features"]["code"]["file_only"] == ["c-only-in-test"]
    contract = Contract(prepared.schema, "reject")
    _, reasons, warnings = contract.check_frame(prepared.test)
    assert (reasons == "").all()
    assert warnings.str.contains("c-only-in-test").sum() == 1
