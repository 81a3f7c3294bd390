"""The prediction log: every served prediction and every observed outcome, in an embedded SQLite
database in WAL mode.

Durability: `record` commits before it returns, and the service answers only after that, so a
prediction acknowledged with 200 is in the database file (its WAL) even if the process is killed
the next instant. With `synchronous=NORMAL` (the default) a power cut can lose the last
transactions; `synchronous=FULL` also survives that, at the cost of an fsync per commit.

`churnops.serving.log_export` reads the file back, read-only, as batches the monitor stage reads:
the id column, the feature columns, the target (where the outcome is known, as the model's class
labels) and `latency_ms`, in chunks, so memory stays bounded.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from churnops.governance.privacy import Privacy
from churnops.serving import log_upgrade

SYNC_MODES = ("NORMAL", "FULL")
_COLUMNS = (
    "request_id, item, logged_at, record_id, model_version, engine, inputs, probability, "
    "decision, latency_ms, arm, experiment"
)
_PAGE = 4096

_SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    request_id    TEXT NOT NULL,
    item          INTEGER NOT NULL,      -- position in the request's list
    logged_at     TEXT NOT NULL,         -- UTC, ISO 8601 (+00:00), sortable as text
    record_id     TEXT,                  -- the id the request gave (the data's id column)
    model_version TEXT NOT NULL,
    engine        TEXT NOT NULL,
    inputs        TEXT NOT NULL,         -- the validated feature values, JSON
    probability   REAL NOT NULL,
    decision      INTEGER NOT NULL,
    latency_ms    REAL NOT NULL,         -- time to validate, score and log the request
    arm           TEXT,                  -- the A/B arm that scored it (null: no experiment)
    experiment    TEXT,                  -- the A/B experiment's name
    PRIMARY KEY (request_id, item)
);
CREATE INDEX IF NOT EXISTS predictions_record ON predictions (record_id);
CREATE TABLE IF NOT EXISTS outcomes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    request_id  TEXT,
    record_id   TEXT,
    outcome     INTEGER NOT NULL       -- 1: the positive label was observed, 0: the other
);
CREATE INDEX IF NOT EXISTS outcomes_request ON outcomes (request_id);
CREATE INDEX IF NOT EXISTS outcomes_record ON outcomes (record_id);
CREATE TABLE IF NOT EXISTS failures (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    logged_at     TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    item          INTEGER NOT NULL,      -- position in the request's list
    record_id     TEXT,
    model_version TEXT NOT NULL,         -- the model that could not score it
    arm           TEXT,                  -- its A/B arm (null: no experiment)
    experiment    TEXT,
    reason        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS health (
    id         INTEGER PRIMARY KEY,
    checked_at TEXT NOT NULL,
    pad        BLOB                      -- makes a probe after a failure need a new page
);
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
    record_id: str | None
    model_version: str
    engine: str
    inputs: Mapping[str, Any]
    probability: float
    decision: bool
    latency_ms: float
    arm: str | None = None  # the A/B arm that scored it
    experiment: str | None = None


class OutcomeLimit(Exception):
    """An id already has as many outcomes as the limit allows."""

    def __init__(self, recorded: int) -> None:
        super().__init__(f"{recorded} outcomes already recorded")
        self.recorded = recorded


@dataclass(frozen=True)
class Failure:
    """A record the model could not score (a non-finite score, or the model raised): kept so
    that error rates per model and A/B arm can be read from the log."""

    request_id: str
    item: int
    record_id: str | None
    model_version: str
    reason: str
    arm: str | None = None
    experiment: str | None = None


class PredictionLog:
    """Append-only log of predictions and outcomes in one SQLite file (WAL mode).

    One connection per process, shared by the server's threads under a lock; several worker
    processes may write to the same file (SQLite serialises the writers, `busy_timeout` waits).

    Args:
        path: the database file; its folder is created.
        synchronous: NORMAL (survives a killed process) or FULL (also a power cut).
        privacy: how record ids are stored (their keyed HMAC when pseudonymising) and which
            inputs are stored as null; the callers give raw ids and inputs, every method stores
            and looks up their stored form.
    """

    def __init__(
        self, path: str | Path, *, synchronous: str = "NORMAL", privacy: Privacy | None = None
    ) -> None:
        if synchronous not in SYNC_MODES:
            raise ValueError(
                f"prediction log synchronous mode must be one of {list(SYNC_MODES)}, "
                f"got {synchronous!r}"
            )
        self.path = Path(path)
        self.privacy = privacy or Privacy()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30
        )
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise sqlite3.OperationalError(f"{self.path}: cannot switch to WAL mode (got {mode})")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        log_upgrade.upgrade(self._db)
        self._db.executescript(_SCHEMA)
        self.last_error: str | None = None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record(self, predictions: Sequence[Prediction], *, logged_at: str | None = None) -> None:
        """Write the predictions of one request in one transaction; returns once committed."""
        at, privacy = logged_at or utc_now(), self.privacy
        rows = [
            (
                p.request_id,
                p.item,
                at,
                privacy.pseudonym(p.record_id),
                p.model_version,
                p.engine,
                json.dumps(privacy.stored_inputs(p.inputs), separators=(",", ":"), allow_nan=False),
                float(p.probability),
                int(bool(p.decision)),
                float(p.latency_ms),
                p.arm,
                p.experiment,
            )
            for p in predictions
        ]
        with self._transaction():
            self._db.executemany(
                f"INSERT INTO predictions ({_COLUMNS}) VALUES ({', '.join('?' * 12)})", rows
            )

    def record_failures(self, failures: Sequence[Failure]) -> None:
        """Write the records of one request the model could not score, in one transaction."""
        at = utc_now()
        rows = [
            (
                at,
                f.request_id,
                f.item,
                self.privacy.pseudonym(f.record_id),
                f.model_version,
                f.arm,
                f.experiment,
                f.reason,
            )
            for f in failures
        ]
        with self._transaction():
            self._db.executemany(
                "INSERT INTO failures (logged_at, request_id, item, record_id, model_version, "
                "arm, experiment, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def probe(self) -> None:
        """Commit a write, or raise. After a failed write (`last_error`), the probe needs a new
        page, as a prediction would, so a full disk stays detected until space is back."""
        pad = _PAGE if self.last_error else 0
        with self._transaction():
            self._db.execute(
                "INSERT INTO health (checked_at, pad) VALUES (?, zeroblob(?))", (utc_now(), pad)
            )
            self._db.execute("DELETE FROM health WHERE id <> last_insert_rowid()")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction under the lock, committed on success and rolled back on any
        error; remembers whether the last write failed (the service's readiness reads it)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    if self._db.in_transaction:  # SQLite rolls back by itself on some errors
                        self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except (sqlite3.Error, OSError) as exc:
                self.last_error = str(exc)
                raise
            self.last_error = None

    def record_outcome(
        self,
        *,
        positive: bool,
        request_id: str | None = None,
        record_id: str | None = None,
        limit: int | None = None,
    ) -> tuple[int, int]:
        """Store an observed outcome (`positive`: the positive label was observed) for a request
        or a record id. Outcomes may be sent again
        (corrections): every one is kept, the latest wins (see `_OUTCOME`).

        Returns:
            How many logged predictions it applies to (0: nothing was stored), and how many
            outcomes are now recorded for that id.

        Raises:
            OutcomeLimit: `limit` outcomes are already recorded for that id (nothing stored).
        """
        if (request_id is None) == (record_id is None):
            raise ValueError("give exactly one of request_id and record_id")
        record_id = self.privacy.pseudonym(record_id)
        column, key = ("request_id", request_id) if request_id else ("record_id", record_id)
        with self._transaction():
            (matches,) = self._db.execute(
                f"SELECT COUNT(*) FROM predictions WHERE {column} = ?", (key,)
            ).fetchone()
            if matches and limit is not None:
                (recorded,) = self._db.execute(
                    f"SELECT COUNT(*) FROM outcomes WHERE {column} = ?", (key,)
                ).fetchone()
                if recorded >= limit:
                    raise OutcomeLimit(recorded)
            if matches:
                self._db.execute(
                    "INSERT INTO outcomes (recorded_at, request_id, record_id, outcome) "
                    "VALUES (?, ?, ?, ?)",
                    (utc_now(), request_id, record_id, int(bool(positive))),
                )
            (outcomes,) = self._db.execute(
                f"SELECT COUNT(*) FROM outcomes WHERE {column} = ?", (key,)
            ).fetchone()
        return int(matches), int(outcomes)

    def read(self, *, since: str | None = None) -> pd.DataFrame:
        """The logged predictions in the order they were committed, each with its latest outcome
        (`outcome`, 1 for the positive label; see `_OUTCOME`), the inputs as the JSON text that
        was stored."""
        query = f"SELECT p.*, {_OUTCOME} FROM predictions p {_SINCE} ORDER BY p.rowid"
        with self._lock:
            return pd.read_sql_query(query, self._db, params=(since, since))

    def count(self, *, since: str | None = None) -> int:
        """How many predictions are logged (at or after `since`)."""
        query = f"SELECT COUNT(*) FROM predictions p {_SINCE}"
        with self._lock:
            return int(self._db.execute(query, (since, since)).fetchone()[0])


# The latest outcome of a prediction: the one recorded for its request, else the latest
# recorded for its record id; null when none is known.
_OUTCOME = """COALESCE(
    (SELECT o.outcome FROM outcomes o WHERE o.request_id = p.request_id
     ORDER BY o.id DESC LIMIT 1),
    (SELECT o.outcome FROM outcomes o WHERE p.record_id IS NOT NULL
     AND o.record_id = p.record_id ORDER BY o.id DESC LIMIT 1)
) AS outcome"""
_SINCE = "WHERE (? IS NULL OR p.logged_at >= ?)"
