"""The prediction log: every served prediction and every observed outcome, in an embedded SQLite
database in WAL mode.

Durability: `record` commits before it returns, and the service answers only after that, so a
prediction acknowledged with 200 is in the database file (its WAL) even if the process is killed
the next instant. With `synchronous=NORMAL` (the default) a power cut can lose the last
transactions; `synchronous=FULL` also survives that, at the cost of an fsync per commit.

`PredictionLog.export` turns the log into batches the monitor stage reads: the id column, the
feature columns, the target (where the outcome is known, as the model's class labels) and
`latency_ms`, in chunks, so memory stays bounded.
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

import numpy as np
import pandas as pd
import pyarrow as pa

SYNC_MODES = ("NORMAL", "FULL")
_PAGE = 4096

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
CREATE TABLE IF NOT EXISTS health (
    id         INTEGER PRIMARY KEY,
    checked_at TEXT NOT NULL,
    pad        BLOB                      -- makes a probe after a failure need a new page
);
"""
_TABLES = {"predictions", "outcomes"}


class LogFileError(ValueError):
    """The file is not a churnops prediction log (or cannot be read as one)."""


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
        self.last_error: str | None = None

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
        with self._lock, self._tracked():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO predictions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
            except BaseException:
                if self._db.in_transaction:  # SQLite rolls back by itself on some errors
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def probe(self) -> None:
        """Commit a write, or raise. After a failed write (`last_error`), the probe needs a new
        page, as a prediction would, so a full disk stays detected until space is back."""
        pad = _PAGE if self.last_error else 0
        with self._lock, self._tracked():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO health (checked_at, pad) VALUES (?, zeroblob(?))", (utc_now(), pad)
                )
                self._db.execute("DELETE FROM health WHERE id <> last_insert_rowid()")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextlib.contextmanager
    def _tracked(self) -> Iterator[None]:
        """Remember whether the last write failed (the service's readiness reads it)."""
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            self.last_error = str(exc)
            raise
        self.last_error = None

    def record_outcome(
        self, *, churned: bool, request_id: str | None = None, customer_id: str | None = None
    ) -> tuple[int, int]:
        """Store an observed outcome for a request or a customer. Outcomes may be sent again
        (corrections): every one is kept, the latest wins (see `_OUTCOME`).

        Returns:
            How many logged predictions it applies to (0: nothing was stored), and how many
            outcomes are now recorded for that id.
        """
        if (request_id is None) == (customer_id is None):
            raise ValueError("give exactly one of request_id and customer_id")
        column, key = ("request_id", request_id) if request_id else ("customer_id", customer_id)
        with self._lock, self._tracked():
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
                (outcomes,) = self._db.execute(
                    f"SELECT COUNT(*) FROM outcomes WHERE {column} = ?", (key,)
                ).fetchone()
            except BaseException:
                if self._db.in_transaction:  # SQLite rolls back by itself on some errors
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return int(matches), int(outcomes)

    def read(self, *, since: str | None = None) -> pd.DataFrame:
        """The logged predictions in the order they were committed, each with its latest outcome
        (`churned`; see `_OUTCOME`), the inputs as the JSON text that was stored."""
        query = f"SELECT p.*, {_OUTCOME} FROM predictions p {_SINCE} ORDER BY p.rowid"
        with self._lock:
            return pd.read_sql_query(query, self._db, params=(since, since))

    def count(self, *, since: str | None = None) -> int:
        """How many predictions are logged (at or after `since`)."""
        query = f"SELECT COUNT(*) FROM predictions p {_SINCE}"
        with self._lock:
            return int(self._db.execute(query, (since, since)).fetchone()[0])


class LogReader:
    """A read-only view of a prediction log file, for export: it never creates tables, never
    changes the journal mode, and refuses a file that is not a churnops log.

    Raises:
        LogFileError: the file is missing, not SQLite, or has no predictions/outcomes tables.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise LogFileError(f"no prediction log at {self.path}")
        self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {
                r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise LogFileError(f"{self.path} is not a SQLite database ({exc})") from None
        if not tables >= _TABLES:
            self._db.close()
            raise LogFileError(
                f"{self.path} is not a churnops prediction log: it has tables "
                f"{sorted(tables) or 'none'}, not {sorted(_TABLES)}"
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> LogReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def versions(self) -> dict[str, int]:
        """Predictions per model version."""
        rows = self._db.execute(
            "SELECT model_version, COUNT(*) FROM predictions GROUP BY model_version"
        )
        return {v: int(n) for v, n in rows}

    def count(
        self, schema: Mapping[str, Any], *, since: str | None = None, version: str | None = None
    ) -> dict[str, int]:
        """Predictions at or after `since`: `selected` (of `version`, or of every version when
        None, with inputs of this schema's features), `other_version`, `other_schema`."""
        where, params = _selection(schema, since, version)
        query = f"""SELECT
            COUNT(*) FILTER (WHERE {where["version"]} AND {where["schema"]}),
            COUNT(*) FILTER (WHERE NOT {where["version"]}),
            COUNT(*) FILTER (WHERE {where["version"]} AND NOT {where["schema"]})
            FROM predictions p {_SINCE}"""
        args = (
            *params["version"],
            *params["schema"],
            *params["version"],
            *params["version"],
            *params["schema"],
            since,
            since,
        )
        selected, other_version, other_schema = self._db.execute(query, args).fetchone()
        return {
            "selected": int(selected),
            "other_version": int(other_version),
            "other_schema": int(other_schema),
        }

    def export(
        self,
        schema: Mapping[str, Any],
        *,
        positive_label: str,
        negative_label: str,
        since: str | None = None,
        version: str | None = None,
        labelled_only: bool = False,
        chunk_rows: int = 100_000,
    ) -> Iterator[pd.DataFrame]:
        """The log as batches in the training data's shape, which the monitor stage reads (see
        `export_columns`), `chunk_rows` predictions at a time, in commit order: only predictions
        of model `version` (every version when None) whose inputs hold exactly this schema's
        features, numbers where the schema has numbers. SQLite takes the feature values out of
        the stored JSON, so memory stays bounded whatever the log's size.
        """
        features = list(schema["features"])
        picks = ", ".join(f"json_extract(p.inputs, ?) AS f{i}" for i in range(len(features)))
        where, params = _selection(schema, since, version)
        query = (
            f"SELECT p.*, {picks}, {_OUTCOME} FROM predictions p {_SINCE} "
            f"AND {where['version']} AND {where['schema']} ORDER BY p.rowid"
        )
        if labelled_only:
            query = f"SELECT * FROM ({query}) WHERE churned IS NOT NULL"
        args = (*_paths(features), since, since, *params["version"], *params["schema"])
        for chunk in pd.read_sql_query(query, self._db, params=args, chunksize=chunk_rows):
            chunk = chunk.rename(columns={f"f{i}": n for i, n in enumerate(features)})
            yield _shaped(chunk, schema, positive_label, negative_label)


def _paths(features: Sequence[str]) -> list[str]:
    return ['$."' + name.replace('"', '\\"') + '"' for name in features]


def _selection(
    schema: Mapping[str, Any], since: str | None, version: str | None
) -> tuple[dict[str, str], dict[str, tuple]]:
    """SQL conditions (and their parameters) on a prediction row `p`: of the model version, and
    with inputs of exactly the schema's features (numeric ones numbers or null)."""
    features = list(schema["features"])
    checks = ["(SELECT COUNT(*) FROM json_each(p.inputs)) = ?"]
    args: list[Any] = [len(features)]
    for name, path in zip(features, _paths(features), strict=True):
        allowed = (
            "('integer', 'real', 'null')"
            if schema["features"][name]["kind"] == "numeric"
            else "('text', 'null')"
        )
        checks.append(f"COALESCE(json_type(p.inputs, ?) IN {allowed}, 0)")
        args.append(path)
    return (
        {
            "version": "(? IS NULL OR p.model_version = ?)",
            "schema": "(" + " AND ".join(checks) + ")",
        },
        {"version": (version, version), "schema": tuple(args)},
    )


# The latest outcome of a prediction: the one recorded for its request, else the latest
# recorded for its customer; null when none is known.
_OUTCOME = """COALESCE(
    (SELECT o.churned FROM outcomes o WHERE o.request_id = p.request_id
     ORDER BY o.id DESC LIMIT 1),
    (SELECT o.churned FROM outcomes o WHERE p.customer_id IS NOT NULL
     AND o.customer_id = p.customer_id ORDER BY o.id DESC LIMIT 1)
) AS churned"""
_SINCE = "WHERE (? IS NULL OR p.logged_at >= ?)"
SERVED = {
    "latency_ms": pa.float64(),
    "served_probability": pa.float64(),
    "served_decision": pa.bool_(),
    "model_version": pa.string(),
    "request_id": pa.string(),
    "logged_at": pa.string(),
}


def export_columns(schema: Mapping[str, Any]) -> pa.Schema:
    """The exported batch's columns and types: the id column, the features (numbers as float64,
    categories as text), the target (the class label where the outcome is known, else null),
    then `latency_ms`, `served_probability`, `served_decision`, `model_version`, `request_id`
    and `logged_at`."""
    fields = []
    if schema.get("id_column"):
        fields.append((schema["id_column"], pa.string()))
    for name, info in schema["features"].items():
        fields.append((name, pa.float64() if info["kind"] == "numeric" else pa.string()))
    if schema.get("target", {}).get("name"):
        fields.append((schema["target"]["name"], pa.string()))
    return pa.schema([*fields, *SERVED.items()])


def _shaped(
    chunk: pd.DataFrame, schema: Mapping[str, Any], positive_label: str, negative_label: str
) -> pd.DataFrame:
    out = pd.DataFrame(index=chunk.index)
    if schema.get("id_column"):
        out[schema["id_column"]] = chunk["customer_id"].astype(object)
    for name, info in schema["features"].items():
        values = chunk[name]
        out[name] = (
            pd.to_numeric(values).astype("float64")
            if info["kind"] == "numeric"
            else values.astype(object).where(values.notna(), None)
        )
    target = schema.get("target", {}).get("name")
    if target:
        churned = chunk["churned"]
        labels = np.where(churned == 1, positive_label, negative_label).astype(object)
        out[target] = np.where(churned.isna(), None, labels)
    out["latency_ms"] = chunk["latency_ms"].astype("float64")
    out["served_probability"] = chunk["probability"].astype("float64")
    out["served_decision"] = chunk["decision"].astype(bool)
    for name in ("model_version", "request_id", "logged_at"):
        out[name] = chunk[name].astype(object)
    return out.reset_index(drop=True)
