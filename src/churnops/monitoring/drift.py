"""Drift statistics between a reference sample and a current batch: a test and an effect size
per column, and a dataset verdict corrected for testing many columns.

Numeric columns: two-sample Kolmogorov-Smirnov test; effect size the Wasserstein distance divided
by the reference standard deviation. Categorical columns: chi-square test of the category counts;
effect size the Jensen-Shannon distance (base 2, in [0, 1]). p-values are adjusted with
Benjamini-Hochberg over all tested columns. A column drifts when its adjusted p-value is below
alpha AND its effect size reaches `min_effect`: at large batch sizes every trivial shift is
"significant", so the effect size decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

DIGITS = 6  # digits the monitor's reports keep
MISSING = "(missing)"  # the category counts' key for missing values


def numeric_drift(reference: np.ndarray, current: np.ndarray) -> dict[str, float | None]:
    """KS p-value and normalised Wasserstein distance (missing values left out)."""
    ref = reference[~np.isnan(reference)]
    cur = current[~np.isnan(current)]
    if len(ref) < 2 or len(cur) < 2:
        return {"statistic": None, "p_value": None, "effect_size": None}
    ks = stats.ks_2samp(ref, cur, method="asymp")
    scale = ref.std() or 1.0
    return {
        "statistic": float(ks.statistic),
        "p_value": float(ks.pvalue),
        "effect_size": float(stats.wasserstein_distance(ref, cur) / scale),
    }


def categorical_drift(reference: pd.Series, current: pd.Series) -> dict[str, float | None]:
    """Chi-square p-value of the category counts and Jensen-Shannon distance (missing values
    count as a category of their own)."""
    return counts_drift(category_counts(reference), category_counts(current))


def counts_drift(ref: pd.Series, cur: pd.Series) -> dict[str, float | None]:
    """`categorical_drift` from the counts per category (as `category_counts` gives them)."""
    categories = sorted(set(ref.index) | set(cur.index))
    counts = np.array(
        [
            ref.reindex(categories, fill_value=0).to_numpy(),
            cur.reindex(categories, fill_value=0).to_numpy(),
        ]
    )
    if len(categories) < 2:
        return {"statistic": 0.0, "p_value": 1.0, "effect_size": 0.0}
    chi2, p, _, _ = stats.chi2_contingency(counts)
    distance = jensenshannon(counts[0] / counts[0].sum(), counts[1] / counts[1].sum(), base=2)
    return {"statistic": float(chi2), "p_value": float(p), "effect_size": float(distance)}


def category_counts(values: pd.Series) -> pd.Series:
    """Counts per category as text, missing values under "(missing)" (no copy of the rows)."""
    counts = values.value_counts(dropna=False)
    counts.index = [MISSING if pd.isna(k) else str(k) for k in counts.index]
    return counts.groupby(level=0).sum()


def benjamini_hochberg(p_values: Mapping[str, float | None]) -> dict[str, float | None]:
    """Benjamini-Hochberg adjusted p-values (None stays None)."""
    tested = {k: v for k, v in p_values.items() if v is not None}
    if not tested:
        return dict.fromkeys(p_values)
    adjusted = stats.false_discovery_control(list(tested.values()), method="bh")
    out: dict[str, float | None] = dict.fromkeys(p_values)
    out.update({k: float(a) for k, a in zip(tested, adjusted, strict=True)})
    return out


def column_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: Mapping[str, str],
    *,
    alpha: float,
    min_effect: Mapping[str, float],
) -> dict[str, dict[str, Any]]:
    """Test every column of `kinds` (numeric or categorical); decide drift per column."""
    raw = {}
    for column, kind in kinds.items():
        if kind == "numeric":
            raw[column] = numeric_drift(
                reference[column].to_numpy(dtype=float), current[column].to_numpy(dtype=float)
            )
        else:
            raw[column] = categorical_drift(reference[column], current[column])
        raw[column]["test"] = "ks" if kind == "numeric" else "chi-square"
        raw[column]["effect"] = "wasserstein_normed" if kind == "numeric" else "jensen_shannon"
        raw[column]["kind"] = kind
    return decide(raw, alpha=alpha, min_effect=min_effect)


def decide(
    raw: dict[str, dict[str, Any]], *, alpha: float, min_effect: Mapping[str, float]
) -> dict[str, dict[str, Any]]:
    """Adjust the columns' p-values together (Benjamini-Hochberg) and decide drift per column;
    statistics and effect sizes rounded."""
    adjusted = benjamini_hochberg({c: r["p_value"] for c, r in raw.items()})
    for column, result in raw.items():
        result["p_value_adjusted"] = adjusted[column]
        floor = min_effect[result["kind"]]
        result["drifted"] = bool(
            adjusted[column] is not None
            and adjusted[column] < alpha
            and result["effect_size"] is not None
            and result["effect_size"] >= floor
        )
        for key in ("statistic", "effect_size"):
            if result[key] is not None:
                result[key] = round(result[key], DIGITS)
    return raw


def dataset_verdict(columns: Mapping[str, Mapping[str, Any]], drift_share: float) -> dict[str, Any]:
    """The batch drifts when the share of drifted columns exceeds `drift_share`."""
    drifted = sorted(c for c, r in columns.items() if r["drifted"])
    effects = [(r["effect_size"], c) for c, r in columns.items() if r["effect_size"] is not None]
    worst = max(effects) if effects else (None, None)
    share = len(drifted) / max(len(columns), 1)
    return {
        "drifted": share > drift_share,
        "drift_share": round(share, DIGITS),
        "drifted_columns": drifted,
        "worst_effect_size": worst[0],
        "worst_column": worst[1],
    }
