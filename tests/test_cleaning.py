import dataclasses

import numpy as np
import pandas as pd
import pytest

from churnops.data import cleaning
from churnops.data.cleaning import DataSpec
from churnops.data.schema import DataError


def test_clean_orders_columns_coerces_and_reports(raw, spec):
    frame, report = cleaning.clean(raw, spec)
    assert list(frame.columns) == ["cid", "plan", "months", "bill", "region", "churned"]
    assert frame["bill"].dtype == np.float64
    assert frame["bill"].isna().sum() == 1
    assert report["coerced_to_missing"]["bill"]["blank"] == 1


def test_clean_is_lenient_about_extra_columns_when_not_strict(raw, spec):
    loose = dataclasses.replace(spec, strict=False)
    frame, _ = cleaning.clean(raw.assign(extra=1), loose)
    assert "extra" not in frame


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.assign(churned="no"), r"'churned' has one class only: \{'no': 20\}"),
        (
            lambda f: f.assign(churned=["yes", "no", "maybe", "no"] * 5),
            r"unknown label\(s\) \{'maybe': 5\}",
        ),
        (lambda f: f.assign(cid="same"), r"id column 'cid' has 1 duplicated id\(s\) over 20 rows"),
        (lambda f: f.drop(columns="region"), r"missing column\(s\): 'region'"),
        (lambda f: f.assign(region=np.nan), r"column 'region' is entirely empty"),
        (lambda f: f.assign(months=["x"] * 20), r"'months' is declared numeric but 20 of 20"),
        (
            lambda f: f.assign(churned=[None] + ["no", "yes"] * 9 + ["no"]),
            r"'churned' has 1 missing",
        ),
    ],
)
def test_clean_rejects_bad_input_naming_the_column(raw, spec, mutate, message):
    with pytest.raises(DataError, match=message):
        cleaning.clean(mutate(raw), spec)


def test_spec_validation():
    cols = {"a": "numeric"}
    with pytest.raises(DataError, match="must differ, got 'x' twice"):
        DataSpec("y", "x", "x", None, cols)
    with pytest.raises(DataError, match="'y' is the target or id"):
        DataSpec("y", "1", "0", None, {"y": "numeric"})
    with pytest.raises(
        DataError, match=r"base\.positive_label must be text or an integer, got True"
    ):
        DataSpec("y", True, "No", None, cols)
    with pytest.raises(DataError, match="coerce_tolerance must be in"):
        DataSpec("y", "1", "0", None, cols, coerce_tolerance=1.5)


def test_target_labels_compare_as_text():
    spec = DataSpec("y", 1, 0, None, {"a": "numeric"})
    checked = cleaning.check_target(pd.Series([0, 1, 1], name="y"), spec)
    assert checked.tolist() == ["0", "1", "1"]
    assert cleaning.binary_target(checked, 1).tolist() == [0, 1, 1]


def test_split_is_stratified_and_seeded(raw, spec):
    frame, _ = cleaning.clean(raw, spec)
    train, test = cleaning.split(frame, "churned", test_size=0.25, seed=7)
    again, _ = cleaning.split(frame, "churned", test_size=0.25, seed=7)
    assert len(test) == 5
    assert len(train) == 15
    assert (test["churned"] == "yes").sum() == 2
    pd.testing.assert_frame_equal(train, again)


@pytest.mark.parametrize("size", [0, 1, -0.1, 1.5])
def test_split_rejects_bad_test_size(raw, spec, size):
    frame, _ = cleaning.clean(raw, spec)
    with pytest.raises(DataError, match=f"test_size must be in \\(0, 1\\), got {size}"):
        cleaning.split(frame, "churned", test_size=size, seed=0)


def test_split_needs_two_rows_per_class():
    frame = pd.DataFrame({"y": ["a", "b", "b", "b"]})
    with pytest.raises(DataError, match="has a class with 1 row"):
        cleaning.split(frame, "y", test_size=0.5, seed=0)


def test_telco_cleans_with_its_eleven_blank_total_charges(telco):
    from churnops.params import load_params
    from tests.conftest import TEST_PARAMS

    spec = DataSpec.from_params(load_params(TEST_PARAMS))
    frame, report = cleaning.clean(telco, spec)
    assert frame.shape == (7043, 21)
    assert report["coerced_to_missing"]["TotalCharges"] == {
        "blank": 11,
        "non_numeric": 0,
        "examples": [],
    }
    assert (frame["Churn"] == "Yes").sum() == 1869
