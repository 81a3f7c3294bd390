"""A/B statistics on hand-computed and published cases: the guide's chi-square example, the
classic sample size, Newcombe's interval and Wilson's, the SRM check, and a sequential boundary
that holds the false-positive rate under many looks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from churnops.abtest import stats


def test_the_guides_example_reproduces_its_p_value():
    # lifecycle guide, "A/B Testing in Production": 120/1000 vs 140/1000, scipy chi2_contingency
    statistic, p = stats.chi_square(120, 1000, 140, 1000)
    assert statistic == pytest.approx(1.5959, abs=1e-4)
    assert p == pytest.approx(0.2065, abs=1e-4)


def test_sample_size_for_two_proportions():
    # by hand: (1.95996 sqrt(2 .11 .89) + 0.84162 sqrt(.1 .9 + .12 .88))^2 / .02^2 = 3840.9
    assert stats.sample_size(0.10, 0.02) == 3841
    assert stats.sample_size(0.12, -0.02) == stats.sample_size(0.10, 0.02)  # symmetric
    assert stats.sample_size(0.10, 0.02, power=0.9) > 3841
    with pytest.raises(ValueError, match=r"baseline \+ mde must be a rate in \(0, 1\), got 1\.1"):
        stats.sample_size(0.6, 0.5)
    with pytest.raises(ValueError, match="must not be 0"):
        stats.sample_size(0.1, 0.0)


def test_wilson_and_newcombe_intervals_match_the_published_examples():
    # Newcombe (1998), Statistics in Medicine 17: 81/263 -> (0.2553, 0.3662); 56/70 - 48/80 =
    # 0.2000, method 10 (hybrid score) -> (0.0524, 0.3339)
    low, high = stats.wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    delta, low, high = stats.difference(48, 80, 56, 70)
    assert (round(delta, 4), round(low, 4), round(high, 4)) == (0.2, 0.0524, 0.3339)
    assert stats.wilson(0, 0) == (0.0, 1.0)


def test_relative_lift_interval_contains_the_lift_and_needs_successes():
    lift, low, high = stats.relative_lift(120, 1000, 140, 1000)
    assert lift == pytest.approx(140 / 120 - 1)
    assert low < lift < high
    assert low < 0  # not significant, as the chi-square says
    assert stats.relative_lift(0, 1000, 10, 1000) is None


def test_sample_ratio_mismatch():
    _, p = stats.srm([5000, 5000], [0.5, 0.5])
    assert p == 1.0
    _, p = stats.srm([5000, 4700], [0.5, 0.5])  # 3% of one arm lost
    assert p < 0.01
    _, p = stats.srm([5000, 4500], [0.5, 0.5])
    assert p < stats.SRM_ALPHA
    with pytest.raises(ValueError, match="sum to 1"):
        stats.srm([1, 1], [0.5, 0.6])


def test_the_boundary_constant_and_the_cost_of_looking_any_time():
    assert stats.boundary_constant(0.05) == pytest.approx(2.2414, abs=1e-4)
    assert stats.sequential_inflation(0.05, 0.8) == pytest.approx(1.211, abs=1e-3)


def test_the_sequential_boundary_holds_alpha_under_many_looks():
    """Brownian paths under the null looked at 100 times: the boundary c / sqrt(t) is crossed
    in about alpha of them; the fixed 1.96 at every look in far more."""
    rng = np.random.default_rng(0)
    looks = 100
    paths = np.cumsum(rng.standard_normal((20_000, looks)), axis=1)
    t = np.arange(1, looks + 1) / looks
    z = paths / np.sqrt(np.arange(1, looks + 1))
    guarded = (np.abs(z) >= stats.boundary_constant(0.05) / np.sqrt(t)).any(axis=1).mean()
    naive = (np.abs(z) >= 1.96).any(axis=1).mean()
    assert guarded <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 20_000)
    assert naive > 0.3


def test_a_look_reports_the_information_and_whether_it_is_final():
    early = stats.look(100, 1000, 140, 1000, planned=4000, alpha=0.05)
    assert early.information == 0.25
    assert early.boundary == pytest.approx(2 * stats.boundary_constant(0.05))
    assert not early.final
    assert not early.crossed  # z is about 2.8, the boundary at a quarter about 4.48
    late = stats.look(400, 4000, 560, 4000, planned=4000, alpha=0.05)
    assert late.final
    assert late.crossed
    with pytest.raises(ValueError, match="planned units"):
        stats.look(1, 2, 1, 2, planned=0, alpha=0.05)
