"""The prediction log: every served prediction and every observed outcome, in an embedded SQLite
database in WAL mode.

Durability: `record` commits before it returns, and the service answers only after that, so a
prediction acknowledged with 200 is in the database file (its WAL) even if the process is killed
the next instant. With `synchronous=NORMAL` (the default) a power cut can lose the last
transactions; `synchronous=FULL` also survives that, at the cost of an fsync per commit.

`export` turns the log into a batch the monitor stage reads: the feature columns, the id column,
the target (where the outcome is known, as the model's class labels) and `latency_ms`.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from churnops.features import missing

SYNC_MODES = ("NORMAL", "FULL")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    request_id    TEXT NOT NULL,
    item          INTEGER NOT NULL,      -- position in the request's list
    logged_at     TEXT NOT NULL,         -- UTC, ISO 8601 (+00:00), sortable as text
    customer_id   TEXT,
    model_version TEXT NOT NULL,
    engine        TEXT NOT NULL,
    inputs        TEXT NOT NULL,         -- the validated feature values, JSON
    probability   REAL NOT NULL,
    decision      INTEGER NOT NULL,
    latency_ms    REAL NOT NULL,         -- time to validate, score and log the request
    PRIMARY KEY (request_id, item)
);
CREATE INDEX IF NOT EXISTS predictions_customer ON predictions (customer_id);
CREATE TABLE IF NOT EXISTS outcomes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    request_id  TEXT,
    customer_id TEXT,
    churned     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outcomes_request ON outcomes (request_id);
CREATE INDEX IF NOT EXISTS outcomes_customer ON outcomes (customer_id);
"""


def utc_now() -> str:
    """Now in UTC as ISO 8601 text with microseconds (sorts as time)."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")


def parse_since(text: str) -> str:
    """A `--since` value (ISO date or date-time; no zone means UTC) in the log's format.

    Raises:
        ValueError: naming the value when it is not a date or date-time.
    """
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--since must be an ISO date or date-time such as 2026-11-26 or "
            f"2026-11-26T14:00:00Z, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return _format(moment)


def _format(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Prediction:
    """One logged prediction."""

    request_id: str
    item: int
    customer_id: str | None
    model_version: str
    engine: str
    inputs: Mapping[str, Any]
    probability: float
    decision: bool
    latency_ms: float


class PredictionLog:
    """Append-only log of predictions and outcomes in one SQLite file (WAL mode).

    One connection per process, shared by the server's threads under a lock; several worker
    processes may write to the same file (SQLite serialises the writers, `busy_timeout` waits).

    Args:
        path: the database file; its folder is created.
        synchronous: NORMAL (survives a killed process) or FULL (also a power cut).
    """

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL") -> None:
        if synchronous not in SYNC_MODES:
            raise ValueError(
                f"prediction log synchronous mode must be one of {list(SYNC_MODES)}, "
                f"got {synchronous!r}"
            )
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30
        )
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise sqlite3.OperationalError(f"{self.path}: cannot switch to WAL mode (got {mode})")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record(self, predictions: Sequence[Prediction], *, logged_at: str | None = None) -> None:
        """Write the predictions of one request in one transaction; returns once committed."""
        at = logged_at or utc_now()
        rows = [
            (
                p.request_id,
                p.item,
                at,
                p.customer_id,
                p.model_version,
                p.engine,
                json.dumps(p.inputs, separators=(",", ":"), allow_nan=False),
                float(p.probability),
                int(bool(p.decision)),
                float(p.latency_ms),
            )
            for p in predictions
        ]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO predictions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def record_outcome(
        self, *, churned: bool, request_id: str | None = None, customer_id: str | None = None
    ) -> int:
        """Store an observed outcome for a request or a customer.

        Returns:
            How many logged predictions it applies to; 0 means nothing was stored.
        """
        if (request_id is None) == (customer_id is None):
            raise ValueError("give exactly one of request_id and customer_id")
        column, key = ("request_id", request_id) if request_id else ("customer_id", customer_id)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                (matches,) = self._db.execute(
                    f"SELECT COUNT(*) FROM predictions WHERE {column} = ?", (key,)
                ).fetchone()
                if matches:
                    self._db.execute(
                        "INSERT INTO outcomes (recorded_at, request_id, customer_id, churned) "
                        "VALUES (?, ?, ?, ?)",
                        (utc_now(), request_id, customer_id, int(bool(churned))),
                    )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return int(matches)

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM predictions").fetchone()[0])

    def read(self, *, since: str | None = None) -> pd.DataFrame:
        """The logged predictions (oldest first), each with its latest outcome: the one recorded
        for its request, else the latest recorded for its customer (`churned` is null when
        none is known)."""
        query = """
            SELECT p.*, COALESCE(
                (SELECT o.churned FROM outcomes o WHERE o.request_id = p.request_id
                 ORDER BY o.id DESC LIMIT 1),
                (SELECT o.churned FROM outcomes o WHERE p.customer_id IS NOT NULL
                 AND o.customer_id = p.customer_id ORDER BY o.id DESC LIMIT 1)
            ) AS churned
            FROM predictions p
            WHERE (? IS NULL OR p.logged_at >= ?)
            ORDER BY p.logged_at, p.request_id, p.item
        """
        with self._lock:
            return pd.read_sql_query(query, self._db, params=(since, since))


def export(
    logged: pd.DataFrame,
    schema: Mapping[str, Any],
    *,
    positive_label: str,
    negative_label: str,
    labelled_only: bool = False,
) -> pd.DataFrame:
    """The log as a batch in the training data's shape, which the monitor stage reads: the id
    column, the feature columns, the target column (the class label where the outcome is known,
    else missing), `latency_ms`, and `served_probability`, `served_decision`, `model_version`,
    `request_id` and `logged_at`.
    """
    if labelled_only:
        logged = logged[logged["churned"].notna()]
    features = list(schema["features"])
    inputs = pd.DataFrame.from_records(
        [json.loads(text) for text in logged["inputs"]], columns=features, index=logged.index
    )
    for name, info in schema["features"].items():
        if info["kind"] == "numeric":
            inputs[name] = pd.to_numeric(inputs[name]).astype("float64")
        else:
            inputs[name] = inputs[name].astype(object)
    target = schema.get("target", {}).get("name")
    out = pd.DataFrame(index=logged.index)
    id_column = schema.get("id_column")
    if id_column:
        out[id_column] = logged["customer_id"].astype(object)
    out = pd.concat([out, inputs], axis=1)
    if target:
        labels = {1: positive_label, 0: negative_label}
        out[target] = [None if missing(v) else labels[int(v)] for v in logged["churned"]]
    out["latency_ms"] = logged["latency_ms"].astype("float64")
    out["served_probability"] = logged["probability"].astype("float64")
    out["served_decision"] = logged["decision"].astype(bool)
    out["model_version"] = logged["model_version"].astype(object)
    out["request_id"] = logged["request_id"].astype(object)
    out["logged_at"] = logged["logged_at"].astype(object)
    return out.reset_index(drop=True)
