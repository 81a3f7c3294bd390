"""Number and table formatting shared by the model card's sections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def interval(intervals: Mapping[str, list[float]], key: str) -> str:
    low, high = intervals[key]
    return f"[{low:.3f}, {high:.3f}]"


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines
