"""The rows the promotion gate scores both models on: the test split less what the champion
trained on, plus a held-out production window read the way the service reads rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from churnops.data.contract import Contract


def typed_holdout(rows: pd.DataFrame, schema: Mapping[str, Any]) -> tuple[pd.DataFrame, int]:
    """Held-out rows as the models take them (numbers parsed, rare categories pooled, as the
    input contract does for the service), with the id and target; rows the contract refuses
    even under policy `flag` are left out. Returns them and how many were left out.

    Raises:
        DataError: a feature column is absent, naming it.
    """
    typed, reasons, _ = Contract(schema, policy="flag").check_frame(rows)
    keep = (reasons == "").to_numpy()
    out = typed[keep]
    for column in (schema.get("id_column"), schema.get("target", {}).get("name")):
        if column and column in rows:
            out = out.assign(**{column: rows[column][keep]})
    return out.reset_index(drop=True), int((~keep).sum())


def rows_neither_trained_on(
    test: pd.DataFrame, champion_train: pd.DataFrame | None, id_column: str | None
) -> pd.DataFrame:
    """The test rows, less any the champion trained on (by id, else by the whole row)."""
    if champion_train is None:
        return test
    if id_column and id_column in test and id_column in champion_train:
        seen = test[id_column].isin(champion_train[id_column])
    else:
        columns = [c for c in test.columns if c in champion_train.columns]
        keys = pd.util.hash_pandas_object(champion_train[columns], index=False)
        seen = pd.util.hash_pandas_object(test[columns], index=False).isin(keys)
    return test[~seen.to_numpy()].reset_index(drop=True)


def with_holdout(rows: pd.DataFrame, holdout: pd.DataFrame | None) -> pd.DataFrame:
    """The gate's rows and, when given, the newest labelled production window that retraining
    held out (in the same columns; neither model trained on it).

    Raises:
        ValueError: the window lacks a column of the rows, naming it.
    """
    if holdout is None:
        return rows
    missing = [c for c in rows.columns if c not in holdout.columns]
    if missing:
        raise ValueError(f"the held-out rows lack column(s) {missing}; they have {list(holdout)}")
    return pd.concat([rows, holdout[list(rows.columns)]], ignore_index=True)
