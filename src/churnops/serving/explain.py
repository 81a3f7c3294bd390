"""Reason codes for single predictions: how much each input column moved the model's log-odds
away from a stated baseline.

For a linear model (logistic regression, the estimator after churnops' features) the
contributions are exact and additive: with x the encoded row, w the coefficients and m the mean
encoded training row (`encoded_mean` in the model's metadata),

    log-odds(x) = b0 + w.x = [b0 + w.m] + sum_j w_j (x_j - m_j)

so the baseline is the log-odds of the mean training row and each encoded feature contributes
w_j (x_j - m_j). Encoded features are grouped to the input columns they are made from (one-hot
columns to their column, a recipe's output to the columns it reads), so the answer speaks of
"Contract=Month-to-month", not of `cat__Contract_Month-to-month`. The encoding is the compiled
path's plain code (`compiled.Encoder`), in float64.

Other models get no explanation, and the answer says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from churnops.modeling.features import recipe_inputs
from churnops.serving import compiled

METHOD = (
    "exact: coefficient x (encoded value - mean encoded training row), in log-odds, summed per "
    "input column"
)


class NoExplanation(ValueError):
    """The model cannot be explained by this module; the message says why."""


@dataclass(frozen=True)
class LinearExplainer:
    layout: compiled.Layout
    weights: np.ndarray  # per encoded feature
    mean: np.ndarray  # per encoded feature
    baseline: float  # log-odds of the mean encoded training row
    names: list[str]  # the input columns' groups, in order of first appearance
    positions: np.ndarray  # per encoded feature: the index in `names` of its group
    sources: dict[str, list[str]]  # group name -> its input columns

    def explain(self, records: Sequence[Mapping[str, Any]], top: int) -> list[dict[str, Any]]:
        """Per record: the baseline, the log-odds, the `top` largest contributions by size
        (input, value, contribution) and the sum of the others; baseline + the listed
        contributions + `others` = log-odds."""
        rows = [self.layout.recipes.transform_record(r) for r in records]
        encoded = np.array([self.layout.encoder.encode_one(r) for r in rows], dtype=np.float64)
        parts = (encoded - self.mean) * self.weights
        out = []
        for record, contributions in zip(records, parts, strict=True):
            by_input = np.bincount(self.positions, weights=contributions, minlength=len(self.names))
            order = np.argsort(-np.abs(by_input), kind="stable")
            shown, rest = order[:top], order[top:]
            out.append(
                {
                    "method": METHOD,
                    "baseline": self.baseline,
                    "log_odds": self.baseline + float(by_input.sum()),
                    "contributions": [
                        {
                            "input": self.names[i],
                            "value": _value(record, self.sources[self.names[i]]),
                            "contribution": float(by_input[i]),
                        }
                        for i in shown
                    ],
                    "others": float(by_input[rest].sum()),
                }
            )
        return out


def explainer(pipeline: Any, meta: Mapping[str, Any]) -> LinearExplainer:
    """The explainer of a fitted churnops pipeline.

    Raises:
        NoExplanation: the estimator is not a logistic regression, or the metadata has no
            baseline (a model trained before explanations existed: `dvc repro train`).
    """
    try:
        layout = compiled.layout(pipeline)
    except compiled.CompileError as exc:
        raise NoExplanation(f"the model's structure is not explainable here: {exc}") from None
    estimator = layout.estimator
    if not isinstance(estimator, LogisticRegression):
        raise NoExplanation(
            f"exact explanations need a linear model (logistic regression); this model is "
            f"{type(estimator).__name__}"
        )
    if "encoded_mean" not in meta:
        raise NoExplanation(
            "the model's metadata has no encoded_mean (trained before explanations existed): "
            "run `dvc repro train`"
        )
    mean = np.asarray(meta["encoded_mean"], dtype=np.float64)
    weights = np.asarray(estimator.coef_[0], dtype=np.float64)
    if mean.shape != weights.shape:
        raise NoExplanation(
            f"encoded_mean has {mean.size} values for {weights.size} encoded features"
        )
    groups = _groups(layout)
    names = list(dict.fromkeys(groups))
    return LinearExplainer(
        layout=layout,
        weights=weights,
        mean=mean,
        baseline=float(estimator.intercept_[0] + weights @ mean),
        names=names,
        positions=np.array([names.index(g) for g in groups]),
        sources={name: name.split(" & ") for name in names},
    )


def _groups(layout: compiled.Layout) -> list[str]:
    """The input column(s) each encoded feature is made from, joined by " & "."""
    made_from = {r["name"]: recipe_inputs(r) for r in layout.recipes.recipes}
    encoder = layout.encoder

    def inputs(column: str) -> list[str]:
        return made_from.get(column, [column])

    numeric = [inputs(c) for c in encoder.numeric]
    if encoder.powers is not None:  # interaction terms: every column with a non-zero power
        terms = [
            [col for p, cols in zip(term, numeric, strict=True) if p for col in cols]
            for term in encoder.powers.tolist()
        ]
    else:
        terms = numeric
    groups = [" & ".join(dict.fromkeys(t)) for t in terms]
    for column, lookup in zip(encoder.categorical, encoder.categories, strict=True):
        groups += [" & ".join(inputs(column))] * len(lookup)
    return groups


def _value(record: Mapping[str, Any], columns: list[str]) -> Any:
    if len(columns) == 1:
        return record.get(columns[0])
    return {c: record.get(c) for c in columns}
