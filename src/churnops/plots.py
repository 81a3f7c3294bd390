"""Offline-viewable PNG figures of the evaluation (DVC's own plots need a CDN to render)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # non-interactive: figures go to files, never to a screen
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

# No software version or date inside the files, so the same data gives the same bytes.
_PNG_METADATA = {"Software": None}


def _save(fig: plt.Figure, path: str | Path) -> None:
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100, metadata=_PNG_METADATA)
    plt.close(fig)


def confusion_png(rows: pd.DataFrame, labels: list[str], path: str | Path) -> None:
    """Confusion matrix heat map with counts."""
    matrix = pd.crosstab(rows["actual"], rows["predicted"]).reindex(
        index=labels, columns=labels, fill_value=0
    )
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(matrix.to_numpy(), cmap="Blues")
    for (i, j), n in np.ndenumerate(matrix.to_numpy()):
        ax.text(
            j,
            i,
            str(n),
            ha="center",
            va="center",
            color="white" if n > matrix.to_numpy().max() / 2 else "black",
        )
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.set_title("Confusion matrix (test)")
    _save(fig, path)


def curve_png(
    points: pd.DataFrame,
    x: str,
    y: str,
    *,
    title: str,
    label: str,
    path: str | Path,
    diagonal: bool = False,
) -> None:
    """A single curve (ROC or precision-recall)."""
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot(points[x], points[y], label=label)
    if diagonal:
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right" if diagonal else "lower left")
    _save(fig, path)
