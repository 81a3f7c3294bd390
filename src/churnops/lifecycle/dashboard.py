"""Monitoring over time: one offline HTML page from the prediction log (as `churnops log export`
shapes it) and the training data - prediction volume, latency, scores and drift per time window,
performance as outcomes arrive, error rate by segment, performance by hour of day and weekday,
the A/B arms side by side, and the alert deliveries.

`series` computes every table (pure); `render` draws them and writes the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from churnops.monitoring import drift, history, monitor
from churnops.monitoring.alerts import LEVELS
from churnops.reporting import pages, time_plots

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
        .rename(columns={0.5: "p50", 0.99: "p99"})
        .dropna(how="all"),  # none in a batch nobody served
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


def as_served(
    rows: pd.DataFrame, schema: Mapping[str, Any], model: Any, threshold: float
) -> tuple[pd.DataFrame, bool]:
    """The rows as an exported log has them, and whether they were served. A batch nobody
    served (the simulate stage's) is scored here by `model` at `threshold`, with no latency and
    no A/B arm; its features are typed as the monitor types them.

    Raises:
        ValueError: no `logged_at` column (a batch without times cannot be drawn over time), or
            what the monitor's batch check raises.
    """
    if "logged_at" not in rows:
        raise ValueError(
            f"the batch has no logged_at column (columns: {list(rows.columns)[:8]}...): export "
            "the service's log (`churnops log export`) or use the simulate stage's batch"
        )
    if "served_probability" in rows:
        return rows, True
    typed, _ = monitor.check_batch(rows, schema)
    features = list(schema["features"])
    probability = model.predict_proba(typed[features])[:, 1]
    out = rows.assign(**{name: typed[name] for name in features})
    out = out.assign(
        served_probability=probability,
        served_decision=probability >= threshold,
        latency_ms=np.nan,
        arm=None,
    )
    return out, False


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
    frame = pd.DataFrame(history.read_lines(path))
    return frame[
        [c for c in ("at", "level", "delivered", "attempts", "error", "batch") if c in frame]
    ]


NO_ALERT = "no alert"


def timeline(runs: pd.DataFrame, deliveries: pd.DataFrame) -> pd.DataFrame:
    """The alert timeline: each monitored batch at its alert level (from the monitor's history,
    indexed by time) and each delivery, delivered or not; columns at, level, kind."""
    parts = []
    if len(runs):
        parts.append(
            pd.DataFrame(
                {"at": runs.index, "level": runs["level"].fillna(NO_ALERT).to_numpy(),
                 "kind": "monitored batch"}
            )
        )  # fmt: skip
    if len(deliveries):
        parts.append(
            pd.DataFrame(
                {
                    "at": pd.to_datetime(deliveries["at"], utc=True, format="ISO8601"),
                    "level": deliveries["level"].to_numpy(),
                    "kind": np.where(deliveries["delivered"], "delivered", "delivery failed"),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["at", "level", "kind"])
    return pd.concat(parts, ignore_index=True).sort_values("at", kind="stable")


def title(schema: Mapping[str, Any]) -> str:
    """The page's title in the data's words ("Churn predictions over time")."""
    return f"{schema.get('words', {}).get('outcome', 'outcome').capitalize()} predictions over time"


def render(
    tables: Mapping[str, pd.DataFrame],
    out_dir: Path,
    *,
    title: str,
    runs: pd.DataFrame | None,
    deliveries: pd.DataFrame | None,
    note: str | None = None,
) -> Path:
    """Draw every table, the monitor's history (`runs`, from `monitoring.history.frame`) and the
    alert timeline, and write `out_dir/index.html` with its figures beside it. `runs` and
    `deliveries` None: not read (the pipeline's stage: they are events outside it)."""
    figures = out_dir / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    intro = [pages.paragraph(note, "note")] if note else []
    body = [pages.section("Over time", *intro, *_time_figures(tables, figures), anchor="over-time")]
    if runs is None or deliveries is None:
        body.append(pages.section("Monitor runs and alerts", pages.paragraph(
            "The monitor's history (logs/monitor_history.jsonl) and its alert deliveries "
            "(logs/alerts.jsonl) are events outside the pipeline: `churnops dashboard` draws "
            "them.", "note"), anchor="monitor-runs"))  # fmt: skip
    else:
        body.append(_monitor_section(runs, timeline(runs, deliveries), figures))
    segments = tables["segments"].head(15)
    body.append(_table_section("Error rate by segment", segments, "No labelled rows yet."))
    if deliveries is not None:
        body.append(_table_section("Alerts delivered", deliveries, "No alert delivered."))
    page = out_dir / "index.html"
    page.write_text(pages.page(title, "\n".join(body)), encoding="utf-8")
    return page


def _monitor_section(runs: pd.DataFrame, events: pd.DataFrame, figures: Path) -> str:
    parts = []
    trend = runs.reindex(columns=["drift_share", "accuracy", "roc_auc"]).dropna(axis=1, how="all")
    if len(trend) and not trend.empty:
        caption = "Monitored batches: drift share and performance per batch"
        time_plots.lines_png(trend, figures / "monitor_runs.png", title=caption)
        parts.append(pages.figure("figures/monitor_runs.png", caption))
    if len(events):
        caption = "Alert timeline: monitored batches by alert level, and deliveries"
        levels = [NO_ALERT, *LEVELS]
        time_plots.timeline_png(events, figures / "alerts.png", levels=levels, title=caption)
        parts.append(pages.figure("figures/alerts.png", caption))
    if not parts:
        parts.append(
            pages.paragraph(
                "No monitored batch and no alert delivery yet: the monitor stage writes its "
                "history to logs/monitor_history.jsonl and its deliveries to logs/alerts.jsonl.",
                "note",
            )
        )
    return pages.section("Monitor runs and alerts", *parts, anchor="monitor-runs")


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
        time_plots.lines_png(
            frame, figures / f"{key}.png", title=caption, ylabel=ylabel, log_scale=log_scale
        )
        parts.append(pages.figure(f"figures/{key}.png", caption))
    if not tables["drift"].empty:
        caption = "Drift effect size per feature and window"
        time_plots.matrix_png(tables["drift"], figures / "drift.png", title=caption)
        parts.append(pages.figure("figures/drift.png", caption))
    for key, by, caption in (
        ("by_hour", "hour", "hour of day"),
        ("by_weekday", "weekday", "weekday"),
    ):
        if not tables[key].empty:
            time_plots.bars_by_png(
                tables[key], by, figures / f"{key}.png", title=f"Accuracy by {caption}"
            )
            parts.append(pages.figure(f"figures/{key}.png", f"Accuracy by {caption}"))
    return parts
