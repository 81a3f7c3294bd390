import numpy as np
import pandas as pd
import pytest

from churnops.monitoring import simulate
from churnops.params import ParamsError

LABELS = ["No", "Yes"]


@pytest.fixture
def rows() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    return pd.DataFrame(
        {
            "charge": rng.uniform(20, 100, n),
            "net": rng.choice(["dsl", "fiber", "none"], n, p=[0.4, 0.4, 0.2]),
            "pay": rng.choice(["card", "check"], n),
            "plan": rng.choice(["monthly", "yearly"], n),
            "churn": rng.choice(LABELS, n),
        }
    )


def _apply(rows, scenario, **settings):
    return simulate.apply(rows, scenario, settings, target="churn", labels=LABELS, seed=1)


def test_none_changes_nothing(rows):
    pd.testing.assert_frame_equal(_apply(rows, "none"), rows)


def test_price_increase(rows):
    out = _apply(rows, "price_increase", column="charge", percent=20)
    np.testing.assert_allclose(out["charge"], rows["charge"] * 1.2)


def test_mix_shift_reaches_the_share(rows):
    out = _apply(rows, "mix_shift", column="net", value="fiber", share=0.75)
    assert len(out) == len(rows)
    assert (out["net"] == "fiber").mean() == pytest.approx(0.75, abs=0.01)


def test_new_category(rows):
    out = _apply(rows, "new_category", column="pay", value="crypto", share=0.25)
    assert (out["pay"] == "crypto").mean() == pytest.approx(0.25, abs=0.06)
    assert set(out["pay"]) == {"card", "check", "crypto"}


def test_missing_spike(rows):
    out = _apply(rows, "missing_spike", column="charge", share=0.3)
    assert out["charge"].isna().mean() == pytest.approx(0.3, abs=0.06)


def test_concept_drift_flips_labels_in_the_segment_only(rows):
    out = _apply(rows, "concept_drift", column="plan", value="monthly", flip_share=1.0)
    segment = rows["plan"] == "monthly"
    assert (out.loc[segment, "churn"] != rows.loc[segment, "churn"]).all()
    assert (out.loc[~segment, "churn"] == rows.loc[~segment, "churn"]).all()
    pd.testing.assert_frame_equal(out.drop(columns="churn"), rows.drop(columns="churn"))


def test_scenarios_are_seeded(rows):
    settings = {"column": "charge", "share": 0.3}
    first = simulate.apply(rows, "missing_spike", settings, target="churn", labels=LABELS, seed=5)
    again = simulate.apply(rows, "missing_spike", settings, target="churn", labels=LABELS, seed=5)
    pd.testing.assert_frame_equal(first, again)


@pytest.mark.parametrize(
    ("scenario", "settings", "message"),
    [
        ("earthquake", {}, r"simulate\.scenario must be one of"),
        ("price_increase", {"price_increase": {"column": "x"}}, r"needs keys \['percent'\]"),
        ("missing_spike", {"missing_spike": {"column": "x", "share": 2}}, r"share must be in"),
        ("mix_shift", {}, r"simulate\.mix_shift must be a mapping"),
    ],
)
def test_settings_validation(scenario, settings, message):
    with pytest.raises(ParamsError, match=message):
        simulate.settings_for(scenario, settings)


def test_unknown_column_is_named(rows):
    with pytest.raises(ParamsError, match="'price' is not a column"):
        _apply(rows, "price_increase", column="price", percent=5)


def test_resample(rows):
    assert len(simulate.resample(rows, 1000, 0)) == 1000
    assert simulate.resample(rows, None, 0).equals(rows)
    with pytest.raises(ParamsError, match=r"simulate\.rows must be a positive integer"):
        simulate.resample(rows, 0, 0)


def test_stamped_rows_are_in_order_within_the_days_and_seeded():
    rows = pd.DataFrame({"x": range(500)})
    stamped = simulate.stamp(rows, "2026-01-05", 14, seed=3)
    at = pd.to_datetime(stamped["logged_at"], utc=True, format="ISO8601")
    assert at.is_monotonic_increasing
    assert at.min() >= pd.Timestamp("2026-01-05", tz="UTC")
    assert at.max() < pd.Timestamp("2026-01-19", tz="UTC")
    assert at.dt.floor("D").nunique() == 14
    assert stamped["logged_at"].iloc[0].endswith("+00:00")
    assert stamped.equals(simulate.stamp(rows, "2026-01-05", 14, seed=3))
    assert not stamped.equals(simulate.stamp(rows, "2026-01-05", 14, seed=4))
    assert "logged_at" not in rows
