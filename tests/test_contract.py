"""The input contract: one rule table, the same verdict and the same words on the row path (the
API) and the vectorised path (batch scoring, the monitor)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnops.data.contract import Contract
from churnops.data.reasons import SHOWN, shown

SCHEMA = {
    "features": {
        "months": {
            "kind": "numeric",
            "min": 0.0,
            "max": 72.0,
            "missing_share": 0.0,
            "bounds": {"min": 0, "max": None},
            "accept": {"reject": [0.0, 79.2], "flag": [0.0, 792.0]},
        },
        "bill": {
            "kind": "numeric",
            "min": 18.4,
            "max": 118.75,
            "missing_share": 0.0,
            "bounds": {"min": 0, "max": None},
            "accept": {"reject": [8.365, 128.785], "flag": [0.0, 1122.25]},
        },
        "senior": {"kind": "categorical", "categories": ["0", "1"], "missing_share": 0.0},
        "plan": {"kind": "categorical", "categories": ["basic", "pro"], "missing_share": 0.0},
    },
    "id_column": "customerID",
    "target": {"name": "Churn", "labels": ["No", "Yes"]},
    "contract": {"range_tolerance": 0.1, "range_limit": 10, "coerce_tolerance": 0.01},
}
GOOD = {"customerID": "7590-VHVEG", "months": 1, "bill": 29.85, "senior": 0, "plan": "basic"}


@pytest.fixture(params=["reject", "flag"])
def contract(request):
    return Contract(SCHEMA, request.param)


def test_a_raw_row_is_accepted_with_its_own_names_and_types(contract):
    check = contract.check_record({**GOOD, "Churn": "No", "bill": "29.85"})
    assert check.problems == []
    assert check.record_id == "7590-VHVEG"
    assert check.values == {"months": 1.0, "bill": 29.85, "senior": "0", "plan": "basic"}
    no_id = contract.check_record({**{k: v for k, v in GOOD.items() if k != "customerID"}})
    assert no_id.problems == []
    assert no_id.record_id is None
    # the id under another name is an unknown field (the API speaks the data's own names)
    assert contract.check_record({**GOOD, "customer_id": 17}).problems[0][:2] == (
        "customer_id",
        17,
    )


def test_a_category_only_the_test_split_holds_is_flagged_not_refused(contract):
    features = {**SCHEMA["features"], "plan": {**SCHEMA["features"]["plan"], "file_only": ["max"]}}
    held = Contract({**SCHEMA, "features": features}, contract.policy)
    check = held.check_record({**GOOD, "plan": "max"})
    assert check.problems == []
    assert check.values["plan"] == "max"
    assert check.warnings == ["plan='max' was not seen in training (allowed: 'basic', 'pro')"]
    rows = pd.DataFrame([{**GOOD, "plan": "max"}, {**GOOD, "plan": "gold"}])
    _, reasons, warnings = held.check_frame(rows)
    assert warnings[0] == check.warnings[0]
    refused = contract.policy == "reject"  # a value the file never held is still refused
    assert (reasons[1] != "", warnings[1] != "") == (refused, not refused)


def test_the_files_columns_the_model_does_not_use_are_accepted_and_ignored(contract):
    schema = {**SCHEMA, "ignored_columns": ["Name", "note"]}
    check = Contract(schema, contract.policy).check_record({**GOOD, "Name": "Allen, Miss E."})
    assert check.problems == []
    assert "Name" not in check.values
    assert Contract(schema, contract.policy).max_keys == contract.max_keys + 2
    # without them in the schema (an older one, or a file that has none) they stay unknown
    assert contract.check_record({**GOOD, "Name": "x"}).problems[0][:2] == ("Name", "x")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"months": True}, "months", "months must be a number, got true"),
        ({"senior": True}, "senior", "senior='True' was not seen in training"),
        ({"months": "1e308"}, "months", "months=1e308 is outside the accepted range"),
        ({"months": 1e308}, "months", "months=1e+308 is outside the accepted range"),
        ({"months": 10**400}, "months", "months=a huge number is not finite"),
        ({"months": "nan"}, "months", "months=nan is not finite"),
        ({"months": "1_000"}, "months", "months=1_000 is not a number"),
        ({"months": -1}, "months", "declared bounds min 0"),
        ({"plan": "\ud800"}, "plan", "is not valid Unicode text"),
        ({"plan": "x" * 500}, "plan", "plan is 500 characters long, above the limit of 200"),
        ({"customerID": ["a"]}, "customerID", "the id must be text or an integer"),
        ({"month": 3}, "month", "unknown field (did you mean 'months'?)"),
    ],
)
def test_each_refusal_names_the_field_and_the_value(change, field, message):
    check = Contract(SCHEMA, "reject").check_record({**GOOD, **change})
    assert [p[0] for p in check.problems] == [field], check.problems
    assert message in check.problems[0][2]


def test_spaces_are_stripped_and_blank_is_missing(contract):
    check = contract.check_record({**GOOD, "plan": "  pro ", "bill": " ", "senior": 1.0})
    assert check.problems == []
    assert check.values["plan"] == "pro"
    assert check.values["bill"] is None
    assert check.values["senior"] == "1"


def test_training_range_is_flagged_and_the_band_is_refused():
    reject, flag = Contract(SCHEMA, "reject"), Contract(SCHEMA, "flag")
    near = reject.check_record({**GOOD, "bill": 18.25})  # a real held-out value below the minimum
    assert near.problems == []
    assert near.warnings == ["bill=18.25 is outside the training range [18.4, 118.75]"]
    far = {**GOOD, "bill": 500}
    assert "outside the accepted range [8.365, 128.785]" in reject.check_record(far).problems[0][2]
    assert flag.check_record(far).problems == []
    unseen = {**GOOD, "plan": "gold"}
    assert reject.check_record(unseen).problems[0][2] == (
        "plan='gold' was not seen in training (allowed: 'basic', 'pro')"
    )
    assert flag.check_record(unseen).warnings == [
        "plan='gold' was not seen in training (allowed: 'basic', 'pro')"
    ]


def test_a_body_with_too_many_keys_is_refused_unread():
    record = {**GOOD, **{f"k{i}": i for i in range(50_000)}}
    (problem,) = Contract(SCHEMA, "reject").check_record(record).problems
    assert problem[2].startswith("a record has 4 features, got 50005 keys")


def test_shown_values_are_short_and_encodable():
    assert len(shown("y" * 10_000)) == SHOWN + 3
    shown("\ud800").encode("utf-8")
    assert shown(None) == "null"


ROWS = [
    {"months": "1", "bill": "29.85", "senior": "0", "plan": "basic"},
    {"months": "-1", "bill": "500", "senior": "2", "plan": " pro "},
    {"months": "abc", "bill": "inf", "senior": "1", "plan": "gold"},
    {"months": " ", "bill": "18.25", "senior": "1.0", "plan": None},
    {"months": "80", "bill": "1e308", "senior": None, "plan": "x" * 300},
]


@pytest.mark.parametrize("policy", ["reject", "flag"])
def test_the_row_path_and_the_vectorised_path_agree(policy):
    contract = Contract(SCHEMA, policy)
    typed, reasons, warnings = contract.check_frame(pd.DataFrame(ROWS))
    for i, row in enumerate(ROWS):
        check = contract.check_record(row)
        assert reasons[i] == "; ".join(p[2] for p in check.problems), i
        assert warnings[i] == "; ".join(check.warnings), i
        if not check.problems:
            for name, value in check.values.items():
                got = typed.loc[i, name]
                assert (value is None and pd.isna(got)) or value == got, (i, name)


@pytest.mark.parametrize("policy", ["reject", "flag"])
@pytest.mark.parametrize("given", ["object", "category"])
def test_categorical_columns_give_the_same_values_and_reasons(policy, given):
    """`check_frame(categorical=True)` (the compiled batch path), on text read as it is or as
    Parquet dictionaries arrive (Categorical), says what the object path says."""
    contract = Contract(SCHEMA, policy)
    frame = pd.DataFrame(ROWS * 3)
    typed, reasons, warnings = contract.check_frame(frame)
    source = frame.astype({"senior": given, "plan": given})
    fast, fast_reasons, fast_warnings = contract.check_frame(source, categorical=True)
    assert isinstance(fast["plan"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(fast.astype({"senior": object, "plan": object}), typed)
    assert fast_reasons.tolist() == reasons.tolist()
    assert fast_warnings.tolist() == warnings.tolist()


def test_the_vectorised_path_reads_parquet_numbers_too():
    frame = pd.DataFrame(
        {"months": [1.0, np.inf, -2.0], "bill": [20.0, 30.0, 40.0], "senior": [0.0, 1.0, 1.0]}
    ).assign(plan="pro")
    typed, reasons, _ = Contract(SCHEMA, "reject").check_frame(frame)
    assert reasons[0] == ""
    assert reasons[1] == "months=inf is not finite"
    assert reasons[2].startswith("months=-2.0 is outside the accepted range")
    assert typed["senior"].tolist() == ["0", "1", "1"]
