"""Drift statistics from partition-wise sufficient statistics: the KS statistic and p-value, the
chi-square test and the Jensen-Shannon distance equal the in-process ones float for float, the
Wasserstein effect size is within its stated bound (exact for values the reference holds), and
the parts' order and sizes change nothing."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from churnops.monitoring import drift, sufficient

KINDS = {"amount": "numeric", "months": "numeric", "plan": "categorical"}
EFFECT = {"numeric": 0.1, "categorical": 0.1}


def _frames():
    rng = np.random.default_rng(0)
    reference = pd.DataFrame(
        {
            "amount": rng.normal(size=4000).round(2),
            "months": rng.integers(0, 72, 4000).astype(float),
            "plan": rng.choice(np.array(["a", "b", "c", None], dtype=object), 4000),
        }
    )
    reference.loc[::97, "amount"] = np.nan
    batch = pd.DataFrame(
        {
            "amount": rng.normal(0.1, 1.1, 90_000),
            "months": rng.integers(0, 80, 90_000).astype(float),
            "plan": rng.choice(list("abcd"), 90_000, p=[0.3, 0.3, 0.3, 0.1]),
        }
    )
    batch.loc[::50, "months"] = np.nan
    return reference, batch


@pytest.mark.parametrize("sizes", [[90_000], [20_000, 30_000, 40_000], [1, 89_999]])
def test_the_parts_give_the_in_process_statistics(sizes):
    reference, batch = _frames()
    summary = sufficient.Reference.of(reference, KINDS, {"amount": (-3.0, 3.0)})
    bounds = np.cumsum([0, *sizes])
    parts = [summary.summarize(batch.iloc[a:b]) for a, b in itertools.pairwise(bounds)]
    total = sum(reversed(parts[1:]), parts[0])
    got = summary.column_drift(total, alpha=0.05, min_effect=EFFECT)
    want = drift.column_drift(reference, batch, KINDS, alpha=0.05, min_effect=EFFECT)
    for column in KINDS:
        for key in ("statistic", "p_value", "p_value_adjusted", "drifted", "test", "effect"):
            assert got[column][key] == want[column][key], (column, key)
    assert got["plan"]["effect_size"] == want["plan"]["effect_size"]
    assert got["months"]["effect_size"] == want["months"]["effect_size"]  # values it holds
    assert got["months"]["effect_bound"] == 0
    gap = abs(got["amount"]["effect_size"] - want["amount"]["effect_size"])
    assert gap <= got["amount"]["effect_bound"] + 1e-6
    assert 0 < got["amount"]["effect_bound"] < 0.001
    assert total.rows == len(batch)
    assert total.outside["amount"] == int(((batch.amount < -3) | (batch.amount > 3)).sum())
