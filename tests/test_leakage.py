"""The leakage check: a column that alone gives the answer away is found, an honest one is not,
a near-unique one cannot score by memorising rows, and `error` stops with the column named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnops.data import leakage
from churnops.data.schema import DataError


def _frame(n=600, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame(
        {
            "signal": y * 0.8 + rng.normal(0, 1, n),  # honest, moderate
            "leak": y + rng.normal(0, 0.05, n),  # the target plus noise
            "name": [f"person {i}" for i in range(n)],  # near-unique
            "plan": rng.choice(["a", "b", "c"], n),  # noise
        }
    )
    return frame, y


def test_the_target_plus_noise_scores_near_one_and_the_rest_do_not():
    frame, y = _frame()
    kinds = {"signal": "numeric", "leak": "numeric", "name": "categorical", "plan": "categorical"}
    scores = leakage.single_column_auc(frame, kinds, y, seed=0)
    assert scores["leak"] > 0.99
    assert 0.6 < scores["signal"] < 0.8
    assert scores["name"] < 0.6  # out of fold, memorised rows do not score
    assert scores["plan"] < 0.6
    assert scores == leakage.single_column_auc(frame, kinds, y, seed=0)  # seeded


def test_warn_reports_and_error_refuses_naming_the_column():
    scores = {"leak": 0.997, "signal": 0.71}
    report = leakage.check(scores, max_auc=0.95, action="warn", names=["leak", "closed_date"])
    assert report["suspects"] == {"leak": 0.997}
    assert report["after_the_fact_names"] == ["closed_date"]
    lines = leakage.warnings(report)
    assert any("'leak' alone gives cross-validated ROC-AUC 0.997" in w for w in lines)
    with pytest.raises(DataError, match=r"'leak' \(0\.997\).*prepare\.leakage: warn"):
        leakage.check(scores, max_auc=0.95, action="error", names=["leak"])
    assert leakage.check(scores, max_auc=0.999, action="error", names=[])["suspects"] == {}


@pytest.mark.parametrize(
    ("name", "after"),
    [
        ("death", True),
        ("ClosedDate", True),
        ("closed_date", True),
        ("x.refund_amount", True),
        ("tenure", False),
        ("Time", True),
        ("followup_days", True),
        ("duration", True),
        ("TimeToEvent", True),
        ("Timely", False),
        ("Outcomes", False),
    ],
)
def test_names_that_read_as_after_the_outcome(name, after):
    assert leakage.after_the_fact(name) is after
