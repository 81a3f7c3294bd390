import numpy as np
import pandas as pd
import pytest

from churnops.modeling.features import (
    FeatureRecipes,
    build_featurizer,
    check_recipes,
    feature_frame,
)
from churnops.params import ParamsError

COLUMNS = {
    "months": "numeric",
    "bill": "numeric",
    "plan": "categorical",
    "tv": "categorical",
    "phone": "categorical",
}
SETTINGS = {
    "numeric_impute": "median",
    "categorical_fill": "missing",
    "scale": "standard",
    "polynomial_degree": 1,
}


@pytest.fixture
def rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "months": [0.0, 6.0, 30.0, np.nan],
            "bill": [10.0, 20.0, 30.0, 40.0],
            "plan": ["a", "a", "b", None],
            "tv": ["Yes", "No", "Yes", "Yes"],
            "phone": ["Yes", "Yes", "No", "Yes"],
        }
    )


@pytest.mark.parametrize(
    ("recipe", "expected"),
    [
        ({"kind": "log", "column": "bill"}, np.log1p([10.0, 20.0, 30.0, 40.0])),
        ({"kind": "bin", "column": "months", "edges": [6, 24]}, ["le_6", "le_6", "gt_24", np.nan]),
        (
            {"kind": "ratio", "numerator": "bill", "denominator": "months", "min_denominator": 1},
            [10.0, 20.0 / 6, 1.0, np.nan],
        ),
        (
            {"kind": "ratio", "numerator": "bill", "denominator": "months"},
            [np.nan, 20.0 / 6, 1.0, np.nan],
        ),
        ({"kind": "product", "columns": ["months", "bill"]}, [0.0, 120.0, 900.0, 40.0]),
        (
            {"kind": "group_relative", "column": "bill", "group": "plan"},
            [10 / 15, 20 / 15, 1.0, 40 / 25],
        ),
        ({"kind": "count_equal", "columns": ["tv", "phone"], "value": "Yes"}, [2, 1, 1, 2]),
    ],
)
def test_each_recipe(rows, recipe, expected):
    recipe = {"name": "new", **recipe}
    out = FeatureRecipes([recipe]).fit(rows).transform(rows)
    assert list(out.columns) == [*rows.columns, "new"]
    got = out["new"].tolist()
    if recipe["kind"] == "bin":
        assert got[:3] == expected[:3]
        assert pd.isna(got[3])
    else:
        np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(expected, dtype=float))


def test_product_of_all_missing_is_missing():
    frame = pd.DataFrame({"months": [np.nan], "bill": [np.nan]})
    out = FeatureRecipes([{"name": "p", "kind": "product", "columns": ["months", "bill"]}]).fit(
        frame
    )
    assert out.transform(frame)["p"].isna().all()


def test_group_means_come_from_fit_rows_only(rows):
    recipe = [{"name": "rel", "kind": "group_relative", "column": "bill", "group": "plan"}]
    fitted = FeatureRecipes(recipe).fit(rows.iloc[:2])  # plan a: mean 15
    new = pd.DataFrame({"bill": [30.0, 30.0], "plan": ["a", "unseen"]})
    # an unseen group falls back to the training rows' overall mean (15)
    assert fitted.transform(new)["rel"].tolist() == [2.0, 2.0]


@pytest.mark.parametrize(
    ("recipe", "message"),
    [
        ({"kind": "sqrt", "name": "x", "column": "bill"}, r"recipes\[0\]\.kind must be one of"),
        ({"kind": "log", "name": "x"}, r"\(log\) needs key 'column'"),
        ({"kind": "log", "name": "x", "column": "nope"}, r"uses column 'nope'"),
        (
            {"kind": "log", "name": "x", "column": "plan"},
            r"needs 'plan' to be numeric, but it is categorical",
        ),
        (
            {"kind": "group_relative", "name": "x", "column": "bill", "group": "months"},
            r"needs 'months' to be categorical",
        ),
        (
            {"kind": "bin", "name": "x", "column": "bill", "edges": [5, 1]},
            r"edges must be increasing",
        ),
        ({"kind": "log", "name": "bill", "column": "bill"}, r"name 'bill' is already a column"),
    ],
)
def test_check_recipes_names_the_recipe_and_problem(recipe, message):
    with pytest.raises(ParamsError, match=message):
        check_recipes([recipe], COLUMNS)


def test_recipes_can_build_on_earlier_recipes():
    recipes = [
        {"kind": "log", "name": "lb", "column": "bill"},
        {"kind": "product", "name": "p", "columns": ["lb", "months"]},
    ]
    check_recipes(recipes, COLUMNS)


def test_featurizer_is_fitted_on_train_and_ignores_unknown_categories(rows):
    recipes = [
        {"kind": "bin", "name": "grp", "column": "months", "edges": [6]},
        {"kind": "log", "name": "lb", "column": "bill"},
    ]
    featurizer = build_featurizer(COLUMNS, {**SETTINGS, "recipes": recipes}).fit(rows)
    names = list(featurizer.get_feature_names_out())
    assert names[:4] == ["num__months", "num__bill", "num__lb", "cat__plan_a"]
    assert "cat__plan_missing" in names
    assert "cat__grp_le_6" in names
    new = pd.DataFrame(
        {"months": [3.0], "bill": [15.0], "plan": ["zzz"], "tv": ["No"], "phone": ["No"]}
    )
    out = feature_frame(featurizer, new)
    plan_columns = [c for c in out.columns if c.startswith("cat__plan_")]
    assert out[plan_columns].to_numpy().sum() == 0
    assert not out.isna().any().any()


def test_featurizer_imputes_and_scales(rows):
    featurizer = build_featurizer(COLUMNS, SETTINGS).fit(rows)
    out = feature_frame(featurizer, rows)
    np.testing.assert_allclose(out["num__bill"].mean(), 0.0, atol=1e-12)
    assert not out.isna().any().any()


def test_polynomial_degree_adds_interactions(rows):
    featurizer = build_featurizer(COLUMNS, {**SETTINGS, "polynomial_degree": 2}).fit(rows)
    assert "num__months bill" in featurizer.get_feature_names_out()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"numeric_impute": "mode"}, r"numeric_impute must be 'median' or 'mean', got 'mode'"),
        ({"scale": "robust"}, r"scale must be one of .* got 'robust'"),
        ({"polynomial_degree": 0}, r"polynomial_degree must be an integer >= 1, got 0"),
        ({"categorical_fill": ""}, r"categorical_fill must be a non-empty string"),
    ],
)
def test_build_featurizer_rejects_bad_settings(change, message):
    with pytest.raises(ParamsError, match=message):
        build_featurizer(COLUMNS, {**SETTINGS, **change})


ALL_RECIPES = [
    {"name": "log_bill", "kind": "log", "column": "bill"},
    {"name": "months_bin", "kind": "bin", "column": "months", "edges": [6, 24]},
    {"name": "per_month", "kind": "ratio", "numerator": "bill", "denominator": "months"},
    {
        "name": "per_month_floor",
        "kind": "ratio",
        "numerator": "bill",
        "denominator": "months",
        "min_denominator": 1,
    },
    {"name": "months_x_bill", "kind": "product", "columns": ["months", "bill"]},
    {"name": "bill_vs_plan", "kind": "group_relative", "column": "bill", "group": "plan"},
    {"name": "n_yes", "kind": "count_equal", "columns": ["tv", "phone"], "value": "Yes"},
]


def test_transform_record_gives_what_transform_gives_row_by_row():
    """The serving path's row-wise recipes against the vectorised ones, on random rows with
    missing values, edge values on the bin edges, zeros and unseen groups."""
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        {
            "months": rng.choice([0.0, 1.0, 6.0, 6.5, 24.0, 30.0, np.nan], n),
            "bill": rng.choice([-5.0, 0.0, 10.0, 99.5, np.nan], n),
            "plan": rng.choice(np.array(["a", "b", "c", None], dtype=object), n),
            "tv": rng.choice(np.array(["Yes", "No", None], dtype=object), n),
            "phone": rng.choice(np.array(["Yes", "No"], dtype=object), n),
        }
    )
    recipes = FeatureRecipes(ALL_RECIPES).fit(frame.iloc[:200])
    expected = recipes.transform(frame)
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    for i, record in enumerate(records):
        got = recipes.transform_record(record)
        assert list(got) == list(expected.columns)
        for name in expected.columns:
            want = expected.iloc[i][name]
            if pd.isna(want):
                assert pd.isna(got[name]), (i, name, got[name])
            elif isinstance(want, str):
                assert got[name] == want, (i, name)
            else:
                assert got[name] == pytest.approx(float(want), rel=1e-12), (i, name)


def test_categorical_columns_give_what_text_columns_give():
    """The compiled batch path hands the recipes Categorical columns: every recipe's output is
    the one of the same values as object text."""
    rng = np.random.default_rng(1)
    n = 300
    frame = pd.DataFrame(
        {
            "months": rng.choice([0.0, 6.0, 30.0, np.nan], n),
            "bill": rng.choice([0.0, 10.0, 99.5, np.nan], n),
            "plan": rng.choice(np.array(["a", "b", "z", None], dtype=object), n),
            "tv": rng.choice(np.array(["Yes", "No", None], dtype=object), n),
            "phone": rng.choice(np.array(["Yes", "No"], dtype=object), n),
        }
    )
    recipes = FeatureRecipes(ALL_RECIPES).fit(frame.iloc[:150].replace({"plan": {"z": "a"}}))
    text = recipes.transform(frame)
    categorical = recipes.transform(frame.astype({c: "category" for c in ("plan", "tv", "phone")}))
    derived = [r["name"] for r in ALL_RECIPES]
    pd.testing.assert_frame_equal(categorical[derived], text[derived])
