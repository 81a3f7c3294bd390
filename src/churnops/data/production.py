"""Production feedback as training data: the labelled rows of the prediction log (as `churnops
log export --labelled-only` writes them) merged into the data the model was trained on, one row
per id with the latest outcome, and the newest window held out so the promotion gate can judge
the retrained model on rows it never saw.

The building block of retraining (`churnops retrain`, issue 12 step 6): pure, no files."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from churnops.data.schema import DataError

TIME = "logged_at"  # the export's time column (UTC ISO text, sortable)
SERVED_PROBABILITY = "served_probability"  # the export's score, as the service answered it


@dataclass(frozen=True)
class Merged:
    """The new training data version, the held-out newest window, and what was done."""

    training: pd.DataFrame
    holdout: pd.DataFrame
    report: dict[str, Any]


def merge(
    base: pd.DataFrame,
    production: pd.DataFrame,
    *,
    target: str,
    id_column: str | None,
    holdout_share: float,
    required: Collection[str] | None = None,
) -> Merged:
    """`base` with the labelled `production` rows added (see the module docstring).

    Rows are in the base data's columns (a base column outside `required`, e.g. one the model
    ignores, is missing in production rows; `required` defaults to all); production rows with no
    outcome are left out; within production the latest row per id wins; a production row whose
    id is in `base` replaces the base row (the latest known state and outcome); the newest
    `holdout_share` of the remaining production rows, by time, is held out.

    Raises:
        DataError: production lacks a required column, or the share is not in [0, 1).
    """
    if not 0 <= holdout_share < 1:
        raise DataError(f"the held-out share must be in [0, 1), got {holdout_share!r}")
    filled = _fillable(base, production, required)
    production = production.assign(**{c: None for c in filled})
    labelled = production[production[target].notna()]
    if TIME in labelled:
        labelled = labelled.sort_values(TIME, kind="stable")
    before = len(labelled)
    if id_column:
        labelled = labelled.drop_duplicates(id_column, keep="last")
    newest = round(len(labelled) * holdout_share)
    held, added = labelled.iloc[len(labelled) - newest :], labelled.iloc[: len(labelled) - newest]
    kept = base
    replaced = 0
    if id_column:
        known = base[id_column].astype(str).isin(added[id_column].astype(str))
        replaced = int(known.sum())
        kept = base[~known]
    training = pd.concat([kept, _shaped(added, base)], ignore_index=True)
    return Merged(
        training=training,
        holdout=_shaped(held, base),
        report={
            "production_rows": len(production),
            "labelled": before,
            "duplicates_dropped": before - len(labelled),
            "replaced_in_training_data": replaced,
            "appended": len(added) - replaced,
            "held_out_newest": len(held),
            "training_rows": len(training),
            "filled_missing": filled,
        },
    )


def _fillable(
    base: pd.DataFrame, production: pd.DataFrame, required: Collection[str] | None
) -> list[str]:
    """The base columns production rows lack, when none of them is required.

    Raises:
        DataError: production lacks a required column, naming it.
    """
    needed = list(base.columns) if required is None else [c for c in base if c in required]
    missing = [c for c in needed if c not in production.columns]
    if missing:
        raise DataError(
            f"the production rows lack column(s) {missing} of the training data; they have "
            f"{list(production.columns)}"
        )
    return [c for c in base.columns if c not in production.columns]


def _shaped(rows: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """`rows` in `like`'s columns, as text where `like` holds text (a CSV read as text)."""
    out = rows[list(like.columns)].copy()
    for name in like.columns:
        if like[name].dtype == object:
            out[name] = out[name].map(_text, na_action="ignore")
    return out.reset_index(drop=True)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def new_rows(before: pd.DataFrame, after: pd.DataFrame) -> int:
    """Rows of `after` (a merged training set) that `before` does not hold, value for value:
    appended production rows and replaced rows whose values or outcome changed."""
    columns = list(before.columns)

    def keys(frame: pd.DataFrame) -> pd.Series:
        text = frame[columns].astype(object)
        text = text.where(text.notna(), None).map(_key_text)
        return pd.util.hash_pandas_object(text, index=False)

    return int((~keys(after).isin(keys(before))).sum())


def _key_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def counts_line(report: Mapping[str, Any]) -> str:
    """One line for the command's output."""
    return (
        f"{report['labelled']:,} labelled production rows ({report['duplicates_dropped']:,} "
        f"older duplicates dropped): {report['appended']:,} appended, "
        f"{report['replaced_in_training_data']:,} replacing training rows, "
        f"{report['held_out_newest']:,} newest held out for the gate -> "
        f"{report['training_rows']:,} training rows"
    )
