"""Reasons about received values: the value as safe, short text, and per-row messages built
column by column (the vectorised path of the input contract)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

SHOWN = 200  # characters of a received value echoed back in a reason


def not_a_number(name: str, text: str) -> str:
    return f"{name}={text} is not a number"


def not_finite(name: str, text: str) -> str:
    return f"{name}={text} is not finite"


def too_long(name: str, length: int, limit: int) -> str:
    return f"{name} is {length} characters long, above the limit of {limit}"


def shown(value: Any) -> str:
    """A received value as safe, short text for a reason: JSON-like for numbers, booleans and
    null, lone surrogates escaped, at most SHOWN characters."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, int | float):
        text = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else "a huge number"
    else:
        text = f"a {type(value).__name__}"
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= SHOWN else text[:SHOWN] + "..."


class Notes:
    """Per-row messages, added column by column without a Python call per row."""

    def __init__(self, index: pd.Index) -> None:
        self._parts: list[pd.Series] = []
        self._index = index

    def add(self, mask: pd.Series, values: pd.Series, message) -> None:
        """Add `message(shown value)` to the rows in `mask`; one call per distinct value."""
        if not mask.any():
            return
        picked = values[mask]
        codes, uniques = pd.factorize(picked, use_na_sentinel=False)
        texts = np.array([message(shown(_plain(u))) for u in uniques], dtype=object)
        self._parts.append(pd.Series(texts[codes], index=picked.index))

    def joined(self) -> pd.Series:
        out = pd.Series("", index=self._index, dtype=object)
        for part in self._parts:
            current = out[part.index]
            out[part.index] = np.where(current == "", part, current + "; " + part)
        return out


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value a JSON body would have held."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
