"""Monitoring over time: one offline HTML page from the prediction log (as `churnops log export`
shapes it) and the training data - prediction volume, latency, scores and drift per time window,
performance as outcomes arrive, error rate by segment, performance by hour of day and weekday,
the A/B arms side by side, and the alert deliveries.

`series` computes every table (pure); `render` draws them and writes the page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from churnops.monitoring import drift
from churnops.reporting import pages, plots

WINDOWS = {"hour": "h", "day": "D"}
MIN_ROWS = 20  # a window with fewer rows gets no drift or performance figure


def series(
    rows: pd.DataFrame,
    reference: pd.DataFrame,
    schema: Mapping[str, Any],
    *,
    window: str,
    positive: str,
) -> dict[str, pd.DataFrame]:
    """Every table the page shows, from exported log rows and the training rows.

    Raises:
        ValueError: an unknown window, or no rows.
    """
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {list(WINDOWS)}, got {window!r}")
    if rows.empty:
        raise ValueError("the log holds no prediction to show")
    at = pd.to_datetime(rows["logged_at"], utc=True, format="ISO8601")
    rows = rows.assign(
        window=at.dt.floor(WINDOWS[window]), hour=at.dt.hour, weekday=at.dt.day_name()
    )
    target = schema["target"]["name"]
    labelled = rows[rows[target].notna()].assign(actual=lambda f: f[target] == positive)
    labelled = labelled.assign(error=labelled["actual"] != labelled["served_decision"])
    grouped = rows.groupby("window")
    out = {
        "volume": rows.groupby(["window", rows["arm"].fillna("(no experiment)")])
        .size()
        .unstack(fill_value=0),
        "latency": grouped["latency_ms"]
        .quantile([0.5, 0.99])
        .unstack()
        .rename(columns={0.5: "p50", 0.99: "p99"}),
        "scores": grouped["served_probability"]
        .quantile([0.1, 0.5, 0.9])
        .unstack()
        .rename(columns={0.1: "p10", 0.5: "p50", 0.9: "p90"}),
        "drift": _drift(rows, reference, schema),
        "performance": _performance(labelled, "window"),
        "by_hour": _performance(labelled, "hour"),
        "by_weekday": _performance(labelled, "weekday"),
        "segments": _segments(labelled, schema),
    }
    if rows["arm"].notna().any():
        out["arms"] = (
            labelled.groupby(["window", "arm"])["actual"].mean().unstack()
            if len(labelled)
            else pd.DataFrame()
        )
    return out


def _drift(rows: pd.DataFrame, reference: pd.DataFrame, schema: Mapping[str, Any]) -> pd.DataFrame:
    """Effect size of each feature in each window against the training rows (normalised
    Wasserstein for numbers, Jensen-Shannon for categories): a feature x window matrix."""
    table = {}
    for when, current in rows.groupby("window"):
        if len(current) < MIN_ROWS:
            continue
        column = {}
        for name, info in schema["features"].items():
            if info["kind"] == "numeric":
                result = drift.numeric_drift(
                    reference[name].to_numpy(dtype=float), current[name].to_numpy(dtype=float)
                )
            else:
                result = drift.categorical_drift(reference[name], current[name])
            column[name] = result["effect_size"]
        table[when] = column
    return pd.DataFrame(table)


def _performance(labelled: pd.DataFrame, by: str) -> pd.DataFrame:
    """Accuracy at the served decision and ROC-AUC of the served probability, per group."""
    records = []
    for key, group in labelled.groupby(by):
        if len(group) < MIN_ROWS:
            continue
        both = group["actual"].nunique() == 2
        records.append(
            {
                by: key,
                "labelled": len(group),
                "accuracy": 1 - group["error"].mean(),
                "roc_auc": roc_auc_score(group["actual"], group["served_probability"])
                if both
                else np.nan,
            }
        )
    return pd.DataFrame(records, columns=[by, "labelled", "accuracy", "roc_auc"])


def _segments(labelled: pd.DataFrame, schema: Mapping[str, Any]) -> pd.DataFrame:
    """Error rate per value of each categorical feature, worst first (values with enough rows)."""
    records = []
    for name, info in schema["features"].items():
        if info["kind"] == "numeric":
            continue
        for value, group in labelled.groupby(labelled[name].fillna("(missing)")):
            if len(group) >= MIN_ROWS:
                records.append(
                    {
                        "feature": name,
                        "value": value,
                        "labelled": len(group),
                        "error_rate": group["error"].mean(),
                    }
                )
    frame = pd.DataFrame(records, columns=["feature", "value", "labelled", "error_rate"])
    return frame.sort_values("error_rate", ascending=False, kind="stable").reset_index(drop=True)


def alerts(path: Path | None) -> pd.DataFrame:
    """The monitor's alert deliveries (`logs/alerts.jsonl`), oldest first; empty when none."""
    if path is None or not path.is_file():
        return pd.DataFrame(columns=["at", "level", "delivered", "batch"])
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    frame = pd.DataFrame(lines)
    return frame[
        [c for c in ("at", "level", "delivered", "attempts", "error", "batch") if c in frame]
    ]


def render(
    tables: Mapping[str, pd.DataFrame], deliveries: pd.DataFrame, out_dir: Path, *, title: str
) -> Path:
    """Draw every table and write `out_dir/index.html` with its figures beside it."""
    figures = out_dir / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    body = [pages.section("Over time", *_time_figures(tables, figures), anchor="over-time")]
    segments = tables["segments"].head(15)
    body.append(_table_section("Error rate by segment", segments, "No labelled rows yet."))
    body.append(_table_section("Alerts delivered", deliveries, "No alert delivered."))
    page = out_dir / "index.html"
    page.write_text(pages.page(title, "\n".join(body)), encoding="utf-8")
    return page


def _table_section(heading: str, frame: pd.DataFrame, empty: str) -> str:
    anchor = heading.lower().replace(" ", "-")
    content = pages.table(frame) if len(frame) else pages.paragraph(empty, "note")
    return pages.section(heading, content, anchor=anchor)


_LINES = (
    ("volume", "Predictions per window (by A/B arm)", "predictions", False),
    ("latency", "Latency per window, ms (p50, p99)", "ms", True),
    ("scores", "Served probability per window (p10, p50, p90)", "probability", False),
    (
        "performance",
        "Performance as outcomes arrive (accuracy at the served threshold, ROC-AUC)",
        None,
        False,
    ),
    ("arms", "Outcome rate per A/B arm and window", "outcome rate", False),
)


def _time_figures(tables: Mapping[str, pd.DataFrame], figures: Path) -> list[str]:
    """The figures over time, drawn into `figures`; their HTML."""
    parts = []
    for key, caption, ylabel, log_scale in _LINES:
        table = tables.get(key)
        if table is None or table.empty:
            continue
        frame = (
            table.set_index("window")[["accuracy", "roc_auc"]] if key == "performance" else table
        )
        plots.lines_png(
            frame, figures / f"{key}.png", title=caption, ylabel=ylabel, log_scale=log_scale
        )
        parts.append(pages.figure(f"figures/{key}.png", caption))
    if not tables["drift"].empty:
        caption = "Drift effect size per feature and window"
        plots.matrix_png(tables["drift"], figures / "drift.png", title=caption)
        parts.append(pages.figure("figures/drift.png", caption))
    for key, by, caption in (
        ("by_hour", "hour", "hour of day"),
        ("by_weekday", "weekday", "weekday"),
    ):
        if not tables[key].empty:
            plots.bars_by_png(
                tables[key], by, figures / f"{key}.png", title=f"Accuracy by {caption}"
            )
            parts.append(pages.figure(f"figures/{key}.png", f"Accuracy by {caption}"))
    return parts
