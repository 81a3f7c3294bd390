import numpy as np
import pandas as pd
import pytest

from churnops.data.schema import (
    DataError,
    as_categorical_text,
    check_column_spec,
    check_columns,
    check_not_empty,
    coerce_numeric,
    infer_schema,
)


def test_check_column_spec_rejects_unknown_kind():
    with pytest.raises(DataError, match=r"prepare\.columns\.age must be one of .*got 'number'"):
        check_column_spec({"age": "number"})
    with pytest.raises(DataError, match="must map each feature"):
        check_column_spec({})


def test_check_columns_names_the_missing_column_and_a_likely_rename():
    frame = pd.DataFrame(columns=["id", "monthly_bill", "plan"])
    with pytest.raises(DataError, match=r"'monthly_charges' \(renamed to 'monthly_bill'\?\)"):
        check_columns(frame, ["id", "monthly_charges", "plan"], strict=False)


def test_check_columns_strict_rejects_extra_columns_only_when_strict():
    frame = pd.DataFrame(columns=["a", "b", "surprise"])
    check_columns(frame, ["a", "b"], strict=False)
    with pytest.raises(DataError, match=r"unexpected column\(s\) \['surprise'\]"):
        check_columns(frame, ["a", "b"], strict=True)


def test_coerce_numeric_counts_blanks_and_text():
    frame = pd.DataFrame({"x": ["1", " ", "2.5", "n/a", None] * 4})
    out, report = coerce_numeric(frame, ["x"], tolerance=0.25)
    assert out["x"].dtype == np.float64
    assert out["x"].isna().sum() == 12
    assert report["x"] == {"blank": 8, "non_numeric": 4, "examples": ["n/a"]}


def test_coerce_numeric_rejects_text_beyond_tolerance():
    frame = pd.DataFrame({"tenure": ["1", "two", "3", "four"]})
    with pytest.raises(
        DataError, match=r"'tenure' .* 2 of 4 values \(50\.0%\) .*\['four', 'two'\]"
    ):
        coerce_numeric(frame, ["tenure"], tolerance=0.1)


def test_coerce_numeric_keeps_numbers_and_rejects_booleans():
    out, report = coerce_numeric(pd.DataFrame({"x": [1, 2]}), ["x"], tolerance=0)
    assert out["x"].tolist() == [1.0, 2.0]
    assert report["x"]["blank"] == 0
    with pytest.raises(DataError, match="'x' is declared numeric but holds booleans"):
        coerce_numeric(pd.DataFrame({"x": [True, False]}), ["x"], tolerance=0)


def test_as_categorical_text_unifies_codes():
    frame = pd.DataFrame({"a": [0, 1, None], "b": [" x", "y", "z"]})
    out = as_categorical_text(frame, ["a", "b"])
    assert out["a"].tolist()[:2] == ["0", "1"]
    assert pd.isna(out["a"].iloc[2])
    assert out["b"].tolist() == ["x", "y", "z"]


def test_check_not_empty_names_the_column():
    frame = pd.DataFrame({"a": [1, 2], "b": [np.nan, np.nan]})
    with pytest.raises(DataError, match=r"column 'b' is entirely empty \(2 rows"):
        check_not_empty(frame, ["a", "b"])


def test_infer_schema_describes_each_feature():
    train = pd.DataFrame(
        {"n": [1.0, 5.0, np.nan, 3.0], "c": ["a", "b", "a", None], "y": list("0101")}
    )
    schema = infer_schema(
        train,
        {"n": "numeric", "c": "categorical"},
        target="y",
        id_column=None,
        labels=["0", "1"],
        bounds={"n": {"min": 0}},
        range_tolerance=0.5,
        range_limit=10,
        coerce_tolerance=0.01,
    )
    assert schema["features"]["n"] == {
        "kind": "numeric",
        "dtype": "float64",
        "missing_share": 0.25,
        "min": 1.0,
        "max": 5.0,
        "bounds": {"min": 0, "max": None},
        # [1, 5] widened by 0.5 x 4 on each side, never below the declared bound 0
        "accept": {"reject": [0.0, 7.0], "flag": [0.0, 45.0]},
    }
    assert schema["contract"] == {
        "range_tolerance": 0.5,
        "range_limit": 10,
        "coerce_tolerance": 0.01,
    }
    assert schema["features"]["c"]["categories"] == ["a", "b"]
    assert schema["target"] == {"name": "y", "labels": ["0", "1"]}
    assert schema["rows"] == 4


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ({"c": {"min": 0}}, "'c' is not a numeric column"),
        ({"n": {"low": 0}}, "must map min and/or max"),
        ({"n": {"min": "zero"}}, r"prepare.bounds.n.min must be a number, got 'zero'"),
        ({"n": {"min": 3, "max": 1}}, "min 3 is above max 1"),
        ({"n": {"min": 2}}, r"1 training value\(s\) beyond prepare.bounds.n.min=2, e.g. \[1.0\]"),
    ],
)
def test_bad_bounds_are_refused_naming_the_key(bounds, message):
    train = pd.DataFrame({"n": [1.0, 5.0], "c": ["a", "b"], "y": ["0", "1"]})
    with pytest.raises(DataError, match=message):
        infer_schema(
            train,
            {"n": "numeric", "c": "categorical"},
            target="y",
            id_column=None,
            labels=["0", "1"],
            bounds=bounds,
            range_tolerance=0.1,
            range_limit=10,
            coerce_tolerance=0.01,
        )
