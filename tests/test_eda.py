import numpy as np
import pandas as pd
import pytest

from churnops.data import eda


def test_top_k_pools_the_rest_so_ids_never_get_one_bar_per_row():
    ids = pd.Series([f"id{i}" for i in range(1000)])
    table = eda.top_k_counts(ids, 5)
    assert len(table) == 6
    assert table["value"].iloc[-1] == "(other) 995 values"
    assert table["count"].sum() == 1000


def test_top_k_orders_by_count_and_counts_missing():
    values = pd.Series(["b", "a", "a", None, "c", "a", "b"])
    table = eda.top_k_counts(values, 2)
    assert table["value"].tolist() == ["a", "b", "(other) 2 values"]
    assert table["count"].tolist() == [3, 2, 2]
    assert eda.top_k_counts(values, 10)["value"].tolist() == ["a", "b", "(missing)", "c"]


def test_numeric_vs_target_sorted_by_absolute_correlation():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    frame = pd.DataFrame(
        {
            "weak": rng.normal(size=500) + 0.1 * y,
            "strong_negative": -3 * y + rng.normal(size=500),
            "gappy": np.where(rng.random(500) < 0.1, np.nan, y + rng.normal(size=500)),
        }
    )
    table = eda.numeric_vs_target(frame, ["weak", "strong_negative", "gappy"], y)
    assert table["column"].tolist() == ["strong_negative", "gappy", "weak"]
    assert table.loc[0, "correlation"] < -0.7
    assert table.loc[0, "p_value"] < 1e-10
    assert table.loc[1, "n"] < 500


def test_category_rates_and_chi_square():
    frame = pd.DataFrame({"plan": ["a"] * 50 + ["b"] * 50})
    y = np.array([1] * 40 + [0] * 10 + [1] * 10 + [0] * 40)
    table, test = eda.category_rates(frame, "plan", y, 10)
    assert table.set_index("value")["positive_rate"].to_dict() == {"a": 0.8, "b": 0.2}
    assert test["dof"] == 1
    assert test["p_value"] < 1e-6
    independent, test2 = eda.category_rates(frame, "plan", np.array([1, 0] * 50), 10)
    assert test2["p_value"] > 0.5
    assert independent["count"].tolist() == [50, 50]


def test_category_rates_pool_rare_categories():
    frame = pd.DataFrame({"c": list("aaaabbbcdefg")})
    table, test = eda.category_rates(frame, "c", np.array([1, 0] * 6), 2)
    assert table.set_index("value")["count"].to_dict() == {"(other)": 5, "a": 4, "b": 3}
    assert test["categories"] == 7


def test_summarise_flags_significant_columns():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    frame = pd.DataFrame(
        {
            "id": [f"x{i}" for i in range(400)],
            "signal": np.where(y == 1, "hi", "lo"),
            "noise": rng.choice(["p", "q"], 400),
            "amount": y * 2.0 + rng.normal(size=400),
        }
    )
    out = eda.summarise(
        frame,
        {"signal": "categorical", "noise": "categorical", "amount": "numeric"},
        y,
        id_column="id",
        top_k=3,
        alpha=0.05,
    )
    assert out["significant_columns"] == ["amount", "signal"]
    assert out["categorical"]["noise"]["significant"] is False
    assert out["identifiers"]["id"]["distinct"] == 400
    assert len(out["identifiers"]["id"]["top"]) == 4
    assert out["numeric"]["amount"]["correlation_with_target"] == pytest.approx(0.7, abs=0.1)
