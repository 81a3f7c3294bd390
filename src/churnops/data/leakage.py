"""Columns that give the answer away: a feature that alone predicts the target almost perfectly
is usually recorded after the outcome (a closing date, a refund, a code for the result) and will
not be there, or not mean the same, when the model is used.

Each feature alone is scored by out-of-fold ROC-AUC of its own target rate: numbers in quantile
bins, categories as they are, missing values as a value of their own, the rate learned on the
other folds (so a near-unique column cannot score by memorising rows). Column names that read
like a date, a follow-up time or a result after the fact are named too (a warning only: a
column named "time" may be a loan's term, known at the start, or a patient's follow-up, known
only at the end).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from churnops.data.schema import DataError, category_text

BINS = 20  # quantile bins of a numeric column
FOLDS = 5
SMOOTHING = 10.0  # rows' worth of the overall rate mixed into each bin's or category's rate
ACTIONS = ("warn", "error", "off")
# words in a column name that suggest something known only after the outcome: a date, a
# follow-up time or duration (survival data: time to the event or to censoring), a result
AFTER_THE_FACT = frozenset(
    [
        "date",
        "timestamp",
        "time",
        "futime",
        "duration",
        "followup",
        "survival",
        "censor",
        "censored",
        "death",
        "died",
        "dead",
        "close",
        "closed",
        "cancel",
        "canceled",
        "cancelled",
        "cancellation",
        "ended",
        "exit",
        "outcome",
        "result",
        "refund",
        "refunded",
        "churned",
        "terminated",
        "termination",
    ]
)
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def after_the_fact(name: str) -> bool:
    """Whether a column name has a word of AFTER_THE_FACT (snake_case, camelCase, dotted)."""
    return any(word.lower() in AFTER_THE_FACT for word in _WORD.findall(name))


def single_column_auc(
    frame: pd.DataFrame, kinds: Mapping[str, str], y: np.ndarray, *, seed: int
) -> dict[str, float]:
    """Out-of-fold ROC-AUC of each feature alone (0.5: no signal, 1: the answer)."""
    folds = min(FOLDS, int(np.bincount(y).min()))
    if folds < 2:
        return {}
    split = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(frame, y))
    return {name: _auc(_groups(frame[name], kind), y, split) for name, kind in kinds.items()}


def _groups(values: pd.Series, kind: str) -> np.ndarray:
    """Integer group codes: quantile bins of a number, or the category; missing is a group."""
    if kind == "numeric":
        numbers = pd.to_numeric(values, errors="coerce")
        ranks = numbers.rank(method="average", pct=True)
        codes = np.ceil(ranks * BINS).fillna(-1).to_numpy()
    else:
        codes = pd.factorize(category_text(values), use_na_sentinel=True)[0]
    return pd.factorize(codes)[0]


def _auc(groups: np.ndarray, y: np.ndarray, split: list[tuple[np.ndarray, np.ndarray]]) -> float:
    scores = np.empty(len(y), dtype=np.float64)
    for fit, held in split:
        prior = y[fit].mean()
        positives = np.bincount(groups[fit], weights=y[fit], minlength=groups.max() + 1)
        counts = np.bincount(groups[fit], minlength=groups.max() + 1)
        rate = (positives + SMOOTHING * prior) / (counts + SMOOTHING)
        scores[held] = rate[groups[held]]
    return round(float(roc_auc_score(y, scores)), 6)


def check(
    scores: Mapping[str, float], *, max_auc: float, action: str, names: list[str]
) -> dict[str, Any]:
    """The leakage report: columns at or above `max_auc`, and names that read as after the fact.

    Raises:
        DataError: under action `error`, naming each suspect column and its score.
    """
    if action not in ACTIONS:
        raise DataError(f"prepare.leakage must be one of {list(ACTIONS)}, got {action!r}")
    suspects = {c: s for c, s in scores.items() if s >= max_auc}
    report = {
        "action": action,
        "max_auc": max_auc,
        "single_column_auc": dict(sorted(scores.items(), key=lambda kv: -kv[1])),
        "suspects": suspects,
        "after_the_fact_names": [n for n in names if after_the_fact(n)],
    }
    if suspects and action == "error":
        listed = ", ".join(f"'{c}' ({s:.3f})" for c, s in suspects.items())
        raise DataError(
            f"leakage: column(s) {listed} alone give a cross-validated ROC-AUC at or above "
            f"prepare.leakage_max_auc={max_auc}: they probably hold the outcome itself or "
            "something recorded after it. Remove them from prepare.columns, or set "
            "prepare.leakage: warn to keep them"
        )
    return report


def warnings(report: Mapping[str, Any]) -> list[str]:
    """The loud lines for the stage's output and the reports."""
    lines = [
        f"LEAKAGE? column '{c}' alone gives cross-validated ROC-AUC {s:.3f} "
        f"(>= {report['max_auc']}): check it is known before the outcome"
        for c, s in report["suspects"].items()
    ]
    lines += [
        f"LEAKAGE? column '{n}' is named like something recorded after the outcome: check when "
        "it is known"
        for n in report["after_the_fact_names"]
    ]
    return lines
