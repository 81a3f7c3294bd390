"""Production batches for monitoring drills: held-out rows changed by a named scenario, seeded.

Scenarios (their columns and magnitudes come from params, not code):
    none            rows as they are
    price_increase  a numeric column multiplied by (1 + percent / 100)
    mix_shift       rows resampled so that `value` makes up `share` of a categorical column
    new_category    an unseen `value` written into `share` of a categorical column's rows
    missing_spike   `share` of a column's values removed
    concept_drift   the labels of rows where `column == value` flipped with probability
                    `flip_share`; features unchanged

Each row then gets a `logged_at` time within `days` days from `start` (`stamp`), as a row of an
exported prediction log has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from churnops.params import ParamsError

SCENARIOS = (
    "none",
    "price_increase",
    "mix_shift",
    "new_category",
    "missing_spike",
    "concept_drift",
)
_NEEDS = {
    "price_increase": ("column", "percent"),
    "mix_shift": ("column", "value", "share"),
    "new_category": ("column", "value", "share"),
    "missing_spike": ("column", "share"),
    "concept_drift": ("column", "value", "flip_share"),
}


def settings_for(scenario: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The scenario's settings from the `simulate` params, checked."""
    if scenario not in SCENARIOS:
        raise ParamsError(f"simulate.scenario must be one of {list(SCENARIOS)}, got {scenario!r}")
    if scenario == "none":
        return {}
    settings = params.get(scenario)
    if not isinstance(settings, Mapping):
        raise ParamsError(
            f"simulate.{scenario} must be a mapping of its settings, got {settings!r}"
        )
    missing = [k for k in _NEEDS[scenario] if k not in settings]
    if missing:
        raise ParamsError(f"simulate.{scenario} needs keys {missing}, got {sorted(settings)}")
    for key in ("share", "flip_share"):
        if key in settings and not 0 <= settings[key] <= 1:
            raise ParamsError(f"simulate.{scenario}.{key} must be in [0, 1], got {settings[key]!r}")
    return dict(settings)


def apply(
    rows: pd.DataFrame,
    scenario: str,
    settings: Mapping[str, Any],
    *,
    target: str,
    labels: list[str],
    seed: int,
) -> pd.DataFrame:
    """Return a changed copy of `rows` (same columns; `mix_shift` resamples to the same size)."""
    rng = np.random.default_rng(seed)
    out = rows.copy().reset_index(drop=True)
    if scenario == "none":
        return out
    column = settings["column"]
    if column not in out:
        raise ParamsError(f"simulate.{scenario}.column {column!r} is not a column of the batch")
    if scenario == "price_increase":
        out[column] = out[column] * (1 + settings["percent"] / 100)
    elif scenario == "mix_shift":
        is_value = (out[column] == settings["value"]).to_numpy()
        if not is_value.any() or is_value.all():
            raise ParamsError(
                f"simulate.mix_shift.value {settings['value']!r} must be one of "
                f"several values of {column!r}"
            )
        n_value = round(settings["share"] * len(out))
        picks = np.concatenate(
            [
                rng.choice(np.flatnonzero(is_value), n_value, replace=True),
                rng.choice(np.flatnonzero(~is_value), len(out) - n_value, replace=True),
            ]
        )
        out = out.iloc[rng.permutation(picks)].reset_index(drop=True)
    elif scenario == "new_category":
        chosen = rng.random(len(out)) < settings["share"]
        out[column] = out[column].astype(object)
        out.loc[chosen, column] = settings["value"]
    elif scenario == "missing_spike":
        chosen = rng.random(len(out)) < settings["share"]
        out.loc[chosen, column] = np.nan
    elif scenario == "concept_drift":
        if target not in out:
            raise ParamsError("simulate.concept_drift needs labelled rows (no target column)")
        segment = (out[column].astype(str) == str(settings["value"])).to_numpy()
        flip = segment & (rng.random(len(out)) < settings["flip_share"])
        negative, positive = labels
        current = out[target].astype(str)
        out.loc[flip, target] = np.where(current[flip] == positive, negative, positive)
    return out


def stamp(rows: pd.DataFrame, start: str, days: int, seed: int) -> pd.DataFrame:
    """Give the rows the times a service would have logged them at (`logged_at`, UTC ISO 8601
    as the prediction log writes it): spread at random over `days` days from `start`, in
    order, seeded, so that a batch can be watched over time as an exported log is."""
    origin = pd.Timestamp(start)
    origin = origin.tz_localize("UTC") if origin.tzinfo is None else origin.tz_convert("UTC")
    seconds = np.sort(np.random.default_rng(seed + 1).uniform(0, days * 86_400, len(rows)))
    at = origin + pd.to_timedelta(np.floor(seconds * 1e6), unit="us")
    return rows.assign(logged_at=[t.isoformat(timespec="microseconds") for t in at])


def resample(rows: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """Draw `n` rows with replacement (seeded); None keeps the rows as they are."""
    if n is None:
        return rows.reset_index(drop=True)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParamsError(f"simulate.rows must be a positive integer or null, got {n!r}")
    idx = np.random.default_rng(seed).integers(0, len(rows), n)
    return rows.iloc[idx].reset_index(drop=True)
