"""Figures over time for the monitoring dashboard: lines per time window, a feature x window
heat map, bars per hour or weekday, and the alert timeline (offline PNGs, as `plots`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from churnops.reporting.plots import plt, save


def lines_png(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    title: str,
    ylabel: str | None = None,
    log_scale: bool = False,
) -> None:
    """One line per column over the frame's index (time windows)."""
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for column in frame.columns:
        ax.plot(frame.index, frame[column].to_numpy(dtype=float), marker=".", label=str(column))
    if log_scale:
        ax.set_yscale("log")
    ax.set_title(title)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    save(fig, path)


def matrix_png(matrix: pd.DataFrame, path: str | Path, *, title: str) -> None:
    """A rows x columns heat map of non-negative values (effect sizes), values in the cells."""
    values = matrix.to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(0.9 * matrix.shape[1] + 3.5, 0.32 * matrix.shape[0] + 1.5))
    image = ax.imshow(
        values, cmap="Reds", vmin=0, vmax=max(0.2, float(np.nanmax(values))), aspect="auto"
    )
    if matrix.shape[1] <= 14:
        for (i, j), value in np.ndenumerate(values):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7)
    labels = [
        c.strftime("%m-%d %H:%M") if hasattr(c, "strftime") else str(c) for c in matrix.columns
    ]
    ax.set_xticks(range(matrix.shape[1]), labels, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(matrix.shape[0]), matrix.index, fontsize=7)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.03)
    save(fig, path)


def bars_by_png(table: pd.DataFrame, by: str, path: str | Path, *, title: str) -> None:
    """Accuracy per group (hour of day, weekday) as bars, each labelled with its row count."""
    fig, ax = plt.subplots(figsize=(8, 3))
    keys = [str(k) for k in table[by]]
    ax.bar(range(len(keys)), table["accuracy"], color="#4c78a8")
    ax.set_xticks(range(len(keys)), keys)
    for x, (value, n) in enumerate(zip(table["accuracy"], table["labelled"], strict=True)):
        ax.text(x, value, f"{n}", ha="center", va="bottom", fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.tick_params(axis="x", labelsize=7, rotation=45)
    save(fig, path)


def timeline_png(events: pd.DataFrame, path: str | Path, *, levels: list[str], title: str) -> None:
    """Events over time (`at`, UTC) on one row per level (`levels`, lowest first), one marker
    per `kind`: when each monitored batch ran and at which alert level, when alerts were
    delivered and when a delivery failed."""
    markers = ("o", "^", "x", "s", "D")
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(levels) + 1.6))
    for (kind, group), marker in zip(events.groupby("kind", sort=True), markers, strict=False):
        rows = [levels.index(level) for level in group["level"]]
        ax.scatter(group["at"], rows, marker=marker, s=40, label=str(kind))
    ax.set_yticks(range(len(levels)), levels)
    ax.set_ylim(-0.5, len(levels) - 0.5)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.autofmt_xdate()
    save(fig, path)
