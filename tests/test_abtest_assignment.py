"""Arm assignment: sticky per id, in the planned shares over 100,000 ids (an SRM check passes),
and independent between experiments."""

from __future__ import annotations

import collections

import pytest

from churnops.abtest import stats
from churnops.abtest.assignment import Splitter


def test_the_same_id_gets_the_same_arm_in_every_splitter():
    first = Splitter("exp-1", ["control", "challenger"], [0.5, 0.5])
    again = Splitter("exp-1", ["control", "challenger"], [0.5, 0.5])  # a restarted service
    ids = [f"{i:04d}-ABCDE" for i in range(2000)]
    assert [first.arm(i) for i in ids] == [again.arm(i) for i in ids]


@pytest.mark.parametrize("shares", [[0.5, 0.5], [0.9, 0.1], [0.2, 0.3, 0.5]])
def test_shares_hold_over_100k_ids(shares):
    arms = [f"arm{k}" for k in range(len(shares))]
    splitter = Splitter("exp-1", arms, shares)
    counts = collections.Counter(splitter.arm(f"customer-{i}") for i in range(100_000))
    _, p = stats.srm([counts[a] for a in arms], shares)
    assert p > stats.SRM_ALPHA, counts


def test_two_experiments_assign_independently():
    one = Splitter("exp-1", ["a", "b"], [0.5, 0.5])
    two = Splitter("exp-2", ["a", "b"], [0.5, 0.5])
    pairs = collections.Counter((one.arm(f"c{i}"), two.arm(f"c{i}")) for i in range(40_000))
    _, p = stats.srm(
        [pairs[k] for k in [("a", "a"), ("a", "b"), ("b", "a"), ("b", "b")]], [0.25] * 4
    )
    assert p > stats.SRM_ALPHA, pairs


def test_bad_arms_are_refused():
    with pytest.raises(ValueError, match="sum to 1"):
        Splitter("s", ["a", "b"], [0.5, 0.6])
    with pytest.raises(ValueError, match="must differ"):
        Splitter("s", ["a", "a"], [0.5, 0.5])
    with pytest.raises(ValueError, match="one share per arm"):
        Splitter("s", ["a"], [0.5, 0.5])
