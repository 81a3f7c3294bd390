"""Reason codes for single predictions: how much each input column moved the model's log-odds
away from a stated baseline, the log-odds of the mean encoded training row (`encoded_mean` in
the model's metadata).

Three methods, by estimator; every one answers in log-odds, and for every one the baseline plus
the contributions is the model's log-odds of the row:

- logistic regression: exact and additive. With x the encoded row, w the coefficients and m the
  mean encoded training row,

      log-odds(x) = b0 + w.x = [b0 + w.m] + sum_j w_j (x_j - m_j)

  so each encoded feature contributes w_j (x_j - m_j).
- histogram gradient boosting: SHAP's TreeExplainer, interventional, with the mean row as the
  one background row: exact Shapley values of the trees' raw output (log-odds), per encoded
  feature.
- any other classifier (random forest, SVM, k-NN, soft voting): SHAP's KernelExplainer over
  coalitions of input columns. A coalition's row takes the request's encoded values for the
  columns in it and the mean row's for the others; the model's log-odds of those rows give
  Shapley values per input column. Coalitions are sampled (SHAP's default count), seeded with
  the model's training seed, so one request always gets the same answer.

Encoded features are grouped to the input columns they are made from (one-hot columns to their
column, a recipe's output to the columns it reads), so the answer speaks of
"Contract=Month-to-month", not of `cat__Contract_Month-to-month`. The encoding is the compiled
path's plain code (`compiled.Encoder`), in float64. SHAP is the optional extra `explain`
(`pip install 'churnops[explain]'`); without it only linear models are explained.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from churnops.modeling.features import recipe_inputs
from churnops.serving import compiled

LINEAR = (
    "exact: coefficient x (encoded value - mean encoded training row), in log-odds, summed per "
    "input column"
)
TREE = (
    "SHAP TreeExplainer (interventional, exact for trees) against the mean encoded training "
    "row, in log-odds, summed per input column"
)
KERNEL = (
    "SHAP KernelExplainer over coalitions of input columns (seed {seed}) against the mean "
    "encoded training row, in log-odds"
)
TREES = (HistGradientBoostingClassifier,)
# log-odds of a probability of exactly 0 or 1 (k-NN, a forest's unanimous trees) are infinite
_EPSILON = 1e-12


class NoExplanation(ValueError):
    """The model cannot be explained by this module; the message says why."""


@dataclass(frozen=True)
class Groups:
    """The model's encoded features grouped to the input columns they are made from."""

    layout: compiled.Layout
    mean: np.ndarray  # per encoded feature: the mean encoded training row
    names: list[str]  # the groups' names (input columns joined by " & "), in order
    positions: np.ndarray  # per encoded feature: the index in `names` of its group

    def encode(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        rows = [self.layout.recipes.transform_record(r) for r in records]
        return np.array([self.layout.encoder.encode_one(r) for r in rows], dtype=np.float64)

    def sum_by_group(self, per_feature: np.ndarray) -> np.ndarray:
        return np.bincount(self.positions, weights=per_feature, minlength=len(self.names))

    def answers(
        self,
        records: Sequence[Mapping[str, Any]],
        method: str,
        baseline: float,
        per_feature: np.ndarray,
        top: int,
    ) -> list[dict[str, Any]]:
        """`answer` for each record, from its contributions per encoded feature."""
        return [
            self.answer(r, method, baseline, self.sum_by_group(v), top)
            for r, v in zip(records, per_feature, strict=True)
        ]

    def answer(
        self,
        record: Mapping[str, Any],
        method: str,
        baseline: float,
        by_input: np.ndarray,
        top: int,
    ) -> dict[str, Any]:
        """The explanation of one record: the `top` largest contributions by size (input, value,
        contribution) and the sum of the others; baseline + the listed contributions + `others`
        = log-odds."""
        order = np.argsort(-np.abs(by_input), kind="stable")
        shown, rest = order[:top], order[top:]
        return {
            "method": method,
            "baseline": baseline,
            "log_odds": baseline + float(by_input.sum()),
            "contributions": [
                {
                    "input": self.names[i],
                    "value": _value(record, self.names[i].split(" & ")),
                    "contribution": float(by_input[i]),
                }
                for i in shown
            ],
            "others": float(by_input[rest].sum()),
        }


@dataclass(frozen=True)
class LinearExplainer:
    groups: Groups
    weights: np.ndarray  # per encoded feature
    baseline: float  # log-odds of the mean encoded training row
    method: str = LINEAR

    def explain(self, records: Sequence[Mapping[str, Any]], top: int) -> list[dict[str, Any]]:
        """Per record, its explanation (see `Groups.answer`)."""
        parts = (self.groups.encode(records) - self.groups.mean) * self.weights
        return self.groups.answers(records, self.method, self.baseline, parts, top)


@dataclass
class TreeExplainer:
    groups: Groups
    shap_explainer: Any  # shap.TreeExplainer of the estimator, the mean row as background
    method: str = TREE
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def baseline(self) -> float:
        return float(np.ravel(self.shap_explainer.expected_value)[0])

    def explain(self, records: Sequence[Mapping[str, Any]], top: int) -> list[dict[str, Any]]:
        """Per record, its explanation (see `Groups.answer`)."""
        encoded = self.groups.encode(records)
        with self._lock:
            values = np.asarray(self.shap_explainer.shap_values(encoded, check_additivity=True))
        values = values.reshape(len(records), -1)
        return self.groups.answers(records, self.method, self.baseline, values, top)


@dataclass
class KernelExplainer:
    groups: Groups
    estimator: Any
    seed: int
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def method(self) -> str:
        return KERNEL.format(seed=self.seed)

    @functools.cached_property
    def baseline(self) -> float:
        return float(self._log_odds(self.groups.mean[None, :])[0])

    def _log_odds(self, rows: np.ndarray) -> np.ndarray:
        p = np.clip(self.estimator.predict_proba(rows)[:, 1], _EPSILON, 1 - _EPSILON)
        return np.log(p / (1 - p))

    def explain(self, records: Sequence[Mapping[str, Any]], top: int) -> list[dict[str, Any]]:
        """Per record, its explanation (see `Groups.answer`)."""
        import shap

        mean, positions = self.groups.mean, self.groups.positions
        size = len(self.groups.names)
        baseline, out = self.baseline, []
        for record, x in zip(records, self.groups.encode(records), strict=True):

            def coalitions(masks: np.ndarray, x: np.ndarray = x) -> np.ndarray:
                return self._log_odds(mean + masks[:, positions] * (x - mean))

            with self._lock:  # SHAP samples with NumPy's global generator: seed it, then restore
                state = np.random.get_state()
                np.random.seed(self.seed)
                try:
                    kernel = shap.KernelExplainer(coalitions, np.zeros((1, size)))
                    values = kernel.shap_values(np.ones((1, size)), l1_reg=False, silent=True)
                finally:
                    np.random.set_state(state)
            by_input = np.asarray(values, dtype=np.float64).reshape(size)
            out.append(self.groups.answer(record, self.method, baseline, by_input, top))
        return out


def explainer(pipeline: Any, meta: Mapping[str, Any]) -> Any:
    """The explainer of a fitted churnops pipeline (see the module docstring for the method).

    Raises:
        NoExplanation: the pipeline is not churnops' shape, the metadata has no baseline (a
            model trained before explanations existed: `dvc repro train`), or the estimator
            needs SHAP and it is not installed.
    """
    try:
        layout = compiled.layout(pipeline)
    except compiled.CompileError as exc:
        raise NoExplanation(f"the model's structure is not explainable here: {exc}") from None
    if "encoded_mean" not in meta:
        raise NoExplanation(
            "the model's metadata has no encoded_mean (trained before explanations existed): "
            "run `dvc repro train`"
        )
    mean = np.asarray(meta["encoded_mean"], dtype=np.float64)
    if mean.size != layout.encoder.width:
        raise NoExplanation(
            f"encoded_mean has {mean.size} values for {layout.encoder.width} encoded features"
        )
    names = _groups(layout)
    order = list(dict.fromkeys(names))
    groups = Groups(
        layout=layout,
        mean=mean,
        names=order,
        positions=np.array([order.index(g) for g in names]),
    )
    estimator = layout.estimator
    if isinstance(estimator, LogisticRegression):
        weights = np.asarray(estimator.coef_[0], dtype=np.float64)
        return LinearExplainer(
            groups=groups,
            weights=weights,
            baseline=float(estimator.intercept_[0] + weights @ mean),
        )
    try:
        import shap
    except ImportError:
        raise NoExplanation(
            f"explaining a {type(estimator).__name__} needs SHAP, which is not installed: "
            "pip install 'churnops[explain]' (linear models need nothing more)"
        ) from None
    if isinstance(estimator, TREES):
        return TreeExplainer(
            groups=groups,
            shap_explainer=shap.TreeExplainer(
                estimator,
                data=mean[None, :],
                feature_perturbation="interventional",
                model_output="raw",
            ),
        )
    return KernelExplainer(groups=groups, estimator=estimator, seed=int(meta.get("seed", 0)))


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
