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


def save(fig: plt.Figure, path: str | Path) -> None:
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
    save(fig, path)


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
    save(fig, path)


def calibration_png(points: pd.DataFrame, brier: float, path: str | Path) -> None:
    """Reliability diagram: observed positive rate against mean predicted probability per bin."""
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    ax.plot(points["mean_predicted"], points["fraction_positive"], marker="o", label="model")
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed positive rate")
    ax.set_title(f"Calibration (test), Brier = {brier:.3f}")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    save(fig, path)


def learning_curve_png(
    points: pd.DataFrame, *, scoring: str, verdict: str, path: str | Path
) -> None:
    """Training and validation score against training-set size, with ±1 std bands."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for column, label in (("train_score", "training"), ("validation_score", "validation")):
        std = points[column.replace("score", "std")]
        ax.plot(points["train_size"], points[column], marker="o", label=label)
        ax.fill_between(
            points["train_size"], points[column] - std, points[column] + std, alpha=0.15
        )
    ax.set_xlabel("training rows")
    ax.set_ylabel(scoring)
    ax.set_title(f"Learning curve: {verdict}")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    save(fig, path)


def bars_png(
    table: pd.DataFrame,
    *,
    label: str,
    value: str,
    title: str,
    xlabel: str,
    path: str | Path,
    error: str | None = None,
    top: int = 15,
) -> None:
    """Horizontal bars of the `top` largest values, largest at the top."""
    shown = table.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(shown) + 1.2))
    ax.barh(
        shown[label].astype(str),
        shown[value],
        xerr=None if error is None else shown[error],
        color="#4C72B0",
    )
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    save(fig, path)


def profit_png(curve: pd.DataFrame, threshold: float, *, title: str, path: str | Path) -> None:
    """Expected profit per scored row against the decision threshold, the chosen one marked."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(curve["threshold"], curve["profit_per_row"])
    ax.axvline(threshold, color="firebrick", linestyle="--", label=f"chosen {threshold:.2f}")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("decision threshold")
    ax.set_ylabel("expected profit per row")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")
    save(fig, path)


def fairness_png(rates: pd.DataFrame, path: str | Path) -> None:
    """Selection rate, TPR and FPR per value of each group column, with bootstrap intervals."""
    columns = list(dict.fromkeys(rates["group"]))
    fig, axes = plt.subplots(1, len(columns), figsize=(4 * len(columns), 3.6), squeeze=False)
    metrics = ("selection_rate", "tpr", "fpr")
    for ax, column in zip(axes[0], columns, strict=True):
        part = rates[rates["group"] == column]
        x = np.arange(len(part))
        for i, metric in enumerate(metrics):
            values = part[metric].to_numpy(dtype=float)
            low = values - part[f"{metric}_low"].to_numpy(dtype=float)
            high = part[f"{metric}_high"].to_numpy(dtype=float) - values
            ax.bar(
                x + (i - 1) * 0.27, values, width=0.27, yerr=[low, high], capsize=2, label=metric
            )
        ax.set_xticks(x, part["value"].astype(str))
        ax.set_ylim(0, 1)
        ax.set_title(column)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(loc="upper left", fontsize=8)
    save(fig, path)


def _grid(n: int, cols: int = 3, size: tuple[float, float] = (4.2, 3.0)):
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def histograms_png(
    frame: pd.DataFrame,
    numeric: list[str],
    y: np.ndarray,
    labels: list[str],
    path: str | Path,
    bins: int = 30,
) -> None:
    """One histogram per numeric column, the two classes overlaid."""
    fig, axes = _grid(len(numeric))
    for ax, column in zip(axes, numeric, strict=False):
        values = frame[column].to_numpy(dtype=float)
        edges = np.histogram_bin_edges(values[~np.isnan(values)], bins=bins)
        for cls, label in enumerate(labels):
            ax.hist(values[(y == cls) & ~np.isnan(values)], bins=edges, alpha=0.6, label=label)
        ax.set_title(column)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    save(fig, path)


def category_png(rates: dict[str, list[dict]], path: str | Path, positive: str) -> None:
    """Per categorical column: bars of counts per category, each labelled with its positive rate."""
    fig, axes = _grid(len(rates), size=(4.6, 3.2))
    for ax, (column, rows) in zip(axes, rates.items(), strict=False):
        table = pd.DataFrame(rows)
        bars = ax.bar(range(len(table)), table["count"], color="#4C72B0")
        for bar, rate in zip(bars, table["positive_rate"], strict=True):
            ax.annotate(
                f"{rate:.0%}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=7,
            )
        ax.set_xticks(
            range(len(table)),
            [str(v)[:14] for v in table["value"]],
            rotation=30,
            ha="right",
            fontsize=7,
        )
        ax.set_title(f"{column} (label: {positive} rate)", fontsize=9)
        ax.margins(y=0.15)
    save(fig, path)


def heatmap_png(matrix: pd.DataFrame, title: str, path: str | Path) -> None:
    """A correlation matrix with its values written in the cells."""
    n = len(matrix)
    fig, ax = plt.subplots(figsize=(1.1 * n + 2.5, 0.9 * n + 1.8))
    image = ax.imshow(matrix.to_numpy(dtype=float), cmap="RdBu_r", vmin=-1, vmax=1)
    for (i, j), value in np.ndenumerate(matrix.to_numpy(dtype=float)):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(n), matrix.columns, rotation=30, ha="right")
    ax.set_yticks(range(n), matrix.index)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046)
    save(fig, path)


def cv_scores_png(cv: dict, path: str | Path) -> None:
    """Each candidate's mean CV score with its standard error, simplest first, the one-SE bar
    (the best mean minus its SE) as a dashed line, the chosen candidate in another colour."""
    selection = cv["selection"]
    candidates = sorted(cv["candidates"].items(), key=lambda kv: kv[1]["complexity"])
    names = [n for n, _ in candidates]
    means = [c["mean"] for _, c in candidates]
    errors = [c["se"] for _, c in candidates]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(names) + 1.4))
    for y, (name, mean, se) in enumerate(zip(names, means, errors, strict=True)):
        chosen = name == selection["chosen"]
        ax.errorbar(mean, y, xerr=se, fmt="o", capsize=4, color="#d62728" if chosen else "#4C72B0")
    ax.axvline(selection["bar"], linestyle="--", color="grey", label="one-SE bar")
    ax.set_yticks(range(len(names)), [f"{n} (chosen)" if n == selection["chosen"] else n
                                      for n in names])  # fmt: skip
    ax.invert_yaxis()  # the simplest at the top
    ax.set_xlabel(f"CV {cv['scoring']} (mean ± 1 SE, {cv['folds']} folds)")
    ax.set_title(f"Model selection: rule {selection['rule']}")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    save(fig, path)


def drift_effects_png(drift: dict, path: str | Path) -> None:
    """Every monitored column's drift effect size, largest at the top, drifted columns in red,
    the `min_effect` of each kind as a dashed line."""
    columns = {**drift["columns"], **drift.get("derived", {})}
    shown = sorted(columns.items(), key=lambda kv: kv[1]["effect_size"])
    fig, ax = plt.subplots(figsize=(7, 0.25 * len(shown) + 1.4))
    ax.barh(
        [name for name, _ in shown],
        [c["effect_size"] for _, c in shown],
        color=["#d62728" if c["drifted"] else "#4C72B0" for _, c in shown],
    )
    styles = {"numeric": "--", "categorical": ":"}
    for kind, limit in sorted(drift["min_effect"].items()):
        ax.axvline(limit, linestyle=styles.get(kind, "-."), color="grey", label=f"{kind} min")
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel("effect size (normalised Wasserstein / Jensen-Shannon)")
    ax.set_title("Drift per column (red: drifted)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    save(fig, path)
