"""Column kinds for `churnops init`: each rule on a column built to meet it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnops.data import profile

N = 200
rng = np.random.default_rng(0)
COLUMNS = {
    "amount": (rng.gamma(2, 50, N).round(2).astype(str), "numeric", "numeric"),
    "plan": (rng.choice(["a", "b", "c"], N), "categorical", "categorical"),
    "flag": (rng.choice(["0", "1"], N), "integer_code", "categorical"),
    "row": (np.arange(1, N + 1).astype(str), "id", None),
    "key": ([f"K-{i:05d}" for i in rng.permutation(N)], "id", None),
    "comment": (
        [f"said {w} on visit {i}" for i, w in enumerate(rng.choice(["x", "y"], N))],
        "free_text",
        None,
    ),
    "when": ([f"2026-0{1 + i % 9}-1{i % 10}" for i in range(N)], "date", None),
    "country": (["NZ"] * N, "constant", None),
    "extra": ([None] * (N - 2) + ["a", "b"], "mostly_empty", None),
}


@pytest.mark.parametrize("name", list(COLUMNS))
def test_each_kind_and_what_the_model_does_with_it(name):
    values, kind, use = COLUMNS[name]
    column = profile.classify(pd.Series(values, name=name, dtype=object))
    assert (column.kind, column.use) == (kind, use), column.reason
    assert column.reason


def test_a_few_bad_numbers_are_still_numeric_and_said_so():
    values = pd.Series([str(i) for i in range(198)] + ["n/a", "?"], name="x")
    column = profile.classify(values)
    assert column.kind == "numeric"
    assert "1.0% non-numeric text becomes missing" in column.reason


@pytest.mark.parametrize(
    ("counts", "positive"),
    [({"No": 70, "Yes": 30}, "Yes"), ({"0": 60, "1": 40}, "1"), ({"B": 357, "M": 212}, "M")],
)
def test_the_positive_label(counts, positive):
    assert profile.guess_positive(counts)[0] == positive
