"""The monitor's history: one line per monitored batch in a JSON-lines file (`logs/
monitor_history.jsonl` by default), so that drift, performance and alert levels have trends.

A history is an event log, not a pipeline result: it lives outside the stage's outputs (like the
alert deliveries) and grows with every new batch. Monitoring the same batch with the same model
again replaces that batch's line instead of adding one, so `dvc repro --force` does not fake a
trend.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd


def entry(
    reports: Mapping[str, Mapping[str, Any]], *, batch: str, batch_sha256: str, model: str
) -> dict[str, Any]:
    """One batch's line from the monitor's reports (`metrics`, `alerts`, `drift`)."""
    metrics, fired, drift = reports["metrics"], reports["alerts"], reports["drift"]
    performance = metrics.get("performance") or {}
    return {
        "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "batch": batch,
        "batch_sha256": batch_sha256,
        "model": model,
        "rows": metrics["rows"],
        "level": fired["level"],
        "alerts": fired["counts"],
        "retrain": metrics["retrain"],
        "drift_share": metrics["drift_share"],
        "drifted": drift["dataset"]["drifted_columns"],
        "effect_sizes": {name: c["effect_size"] for name, c in drift["columns"].items()},
        "accuracy": performance.get("accuracy"),
        "roc_auc": performance.get("roc_auc"),
    }


def append(line: Mapping[str, Any], path: Path) -> int:
    """Add a batch's line to the history, replacing an earlier line of the same batch and model
    (written whole to a temporary file, then moved into place). Returns the history's length."""
    kept = [
        old
        for old in read_lines(path)
        if (old.get("batch_sha256"), old.get("model")) != (line["batch_sha256"], line["model"])
    ]
    kept.append(dict(line))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text("".join(json.dumps(e) + "\n" for e in kept), encoding="utf-8")
    temporary.replace(path)
    return len(kept)


def read_lines(path: Path | None) -> list[dict[str, Any]]:
    """The history's lines, oldest first; none when the file does not exist.

    Raises:
        ValueError: a line that is not JSON, naming the file and the line number.
    """
    if path is None or not path.is_file():
        return []
    lines = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            lines.append(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}, line {number}: not JSON ({exc.msg})") from None
    return lines


def frame(path: Path | None) -> pd.DataFrame:
    """The history as a table indexed by time (UTC): rows, level, drift share, accuracy,
    ROC-AUC, retrain; empty when there is none."""
    lines = read_lines(path)
    columns = ["batch", "rows", "level", "drift_share", "accuracy", "roc_auc", "retrain"]
    if not lines:
        return pd.DataFrame(columns=columns)
    table = pd.DataFrame(lines)
    table.index = pd.to_datetime(table["at"], utc=True, format="ISO8601")
    return table.reindex(columns=columns).sort_index(kind="stable")
