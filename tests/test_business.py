import numpy as np
import pytest

from churnops.modeling import business
from churnops.params import ParamsError

ECON = business.Economics(offer_cost=10, retained_value=100, offer_success_rate=0.5)  # +40 / -10
Y = np.array([1, 1, 0, 0, 0, 1])
P = np.array([0.9, 0.6, 0.55, 0.3, 0.1, 0.2])


def test_profit_curve_counts_expected_gains_and_costs():
    curve = business.profit_curve(Y, P, ECON, np.array([0.5, 0.15, 0.95]))
    # 0.5: flags 0.9 (churn), 0.6 (churn), 0.55 (stay) -> 2*40 - 10 = 70
    assert curve["expected_profit"].tolist() == [70.0, 100.0, 0.0]  # 0.15: 3 churners, 2 not
    assert curve.loc[0, "precision"] == pytest.approx(2 / 3, abs=1e-6)
    assert curve.loc[0, "recall"] == pytest.approx(2 / 3, abs=1e-6)
    assert np.isnan(curve.loc[2, "precision"])
    assert curve.loc[1, "flagged_share"] == pytest.approx(5 / 6, abs=1e-6)


def test_choose_threshold_takes_max_profit_lowest_on_ties():
    grid = business.thresholds({"start": 0.05, "stop": 0.95, "step": 0.05})
    curve = business.profit_curve(Y, P, ECON, grid)
    chosen = business.choose_threshold(curve)
    best = curve["expected_profit"].max()
    assert best == 100.0
    assert chosen == curve.loc[curve["expected_profit"] == best, "threshold"].min() == 0.15


def test_threshold_is_chosen_on_the_data_it_is_given():
    # the same scores with the labels flipped for the middle band move the chosen threshold
    grid = business.thresholds({"start": 0.1, "stop": 0.9, "step": 0.1})
    flipped = np.array([1, 0, 0, 0, 0, 0])
    a = business.choose_threshold(business.profit_curve(Y, P, ECON, grid))
    b = business.choose_threshold(business.profit_curve(flipped, P, ECON, grid))
    assert a < b


def test_impact_against_doing_nothing_and_everyone():
    out = business.impact(Y, P, 0.5, ECON)
    assert out["flagged"] == 3
    assert out["expected_savings"] == 70.0
    assert out["savings_if_everyone_offered"] == 3 * 40 - 3 * 10


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"offer_cost": -1, "retained_value": 1, "offer_success_rate": 0.1},
            r"offer_cost must be a number >= 0, got -1",
        ),
        (
            {"offer_cost": 1, "retained_value": 1, "offer_success_rate": 1.5},
            r"offer_success_rate must be at most 1",
        ),
        ({"offer_cost": 1}, r"needs keys \['retained_value', 'offer_success_rate'\]"),
    ],
)
def test_economics_validation(settings, message):
    with pytest.raises(ParamsError, match=message):
        business.Economics.from_params(settings)


@pytest.mark.parametrize(
    "grid",
    [
        {"start": 0, "stop": 0.5, "step": 0.1},
        {"start": 0.5, "stop": 0.2, "step": 0.1},
        {"start": 0.1, "stop": 0.5, "step": 0},
        {"start": "a"},
        None,
    ],
)
def test_thresholds_validation(grid):
    with pytest.raises(ParamsError, match=r"business\.thresholds"):
        business.thresholds(grid)
