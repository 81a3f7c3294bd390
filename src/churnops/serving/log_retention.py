"""Retention and erasure in the prediction log, each in one transaction and recorded in the
log's append-only audit table (where other commands, such as a retraining, record theirs too):

- `erase`: every prediction, outcome and scoring failure of one customer (the right to erasure),
  found by the id as given and by its keyed HMAC, so rows logged before or after pseudonymisation
  was turned on both go; the audit row counts them and does not name the customer;
- `purge`: everything logged before a cutoff (the retention period).

Deleted content is overwritten in the database file (`secure_delete`) and the WAL is truncated
afterwards, so the bytes are gone from disk as well as from the tables.
"""

from __future__ import annotations

import datetime
import getpass
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from churnops.governance.privacy import Privacy

AUDIT_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,          -- UTC, ISO 8601
    action  TEXT NOT NULL,          -- erase, purge, ...
    who     TEXT NOT NULL,
    why     TEXT NOT NULL,
    details TEXT NOT NULL           -- JSON: what the action did (counts, cutoff)
);
CREATE TRIGGER IF NOT EXISTS audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit table is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit table is append-only'); END;
"""
TABLES = ("predictions", "outcomes", "failures")


def who() -> str:
    """The operator: the login name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@contextmanager
def _writing(path: Path) -> Iterator[sqlite3.Connection]:
    """One write transaction on the log file with secure deletion; the WAL truncated after."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no prediction log at {path}")
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        db.execute("PRAGMA secure_delete=ON")
        db.executescript(AUDIT_SCHEMA)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "predictions" not in tables:
            raise ValueError(f"{path} is not a churnops prediction log (no predictions table)")
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def _record(db: sqlite3.Connection, action: str, who_: str, why: str, details: Mapping) -> None:
    at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    db.execute(
        "INSERT INTO audit (at, action, who, why, details) VALUES (?, ?, ?, ?, ?)",
        (at, action, who_, why, json.dumps(dict(details), sort_keys=True)),
    )


def _existing(db: sqlite3.Connection) -> set[str]:
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def erase(path: Path, record_id: str, privacy: Privacy, *, why: str, by: str) -> dict[str, int]:
    """Delete every row of one customer; returns how many per table.

    Raises:
        FileNotFoundError, ValueError: no log, or not a prediction log.
    """
    forms = sorted({record_id, privacy.pseudonym(record_id)})
    marks = ", ".join("?" * len(forms))
    with _writing(path) as db:
        tables = _existing(db)
        requests = [
            r[0]
            for r in db.execute(
                f"SELECT DISTINCT request_id FROM predictions WHERE record_id IN ({marks})", forms
            )
        ]
        counts = {"outcomes": 0}
        if "outcomes" in tables:
            counts["outcomes"] = db.execute(
                f"DELETE FROM outcomes WHERE record_id IN ({marks}) OR request_id IN "
                f"(SELECT request_id FROM predictions WHERE record_id IN ({marks}))",
                [*forms, *forms],
            ).rowcount
        counts["predictions"] = db.execute(
            f"DELETE FROM predictions WHERE record_id IN ({marks})", forms
        ).rowcount
        counts["failures"] = (
            db.execute(f"DELETE FROM failures WHERE record_id IN ({marks})", forms).rowcount
            if "failures" in tables
            else 0
        )
        _record(db, "erase", by, why, {**counts, "requests": len(requests)})
    return counts


def purge(path: Path, cutoff: str, *, why: str, by: str) -> dict[str, int]:
    """Delete what was logged before `cutoff` (the log's ISO format): predictions, outcomes
    recorded before it or left without any kept prediction, scoring failures. Returns how many
    per table."""
    with _writing(path) as db:
        tables = _existing(db)
        counts = {"outcomes": 0, "failures": 0}
        if "outcomes" in tables:
            counts["outcomes"] = db.execute(
                "DELETE FROM outcomes WHERE recorded_at < ? OR request_id IN "
                "(SELECT request_id FROM predictions WHERE logged_at < ?)",
                (cutoff, cutoff),
            ).rowcount
        counts["predictions"] = db.execute(
            "DELETE FROM predictions WHERE logged_at < ?", (cutoff,)
        ).rowcount
        if "outcomes" in tables:  # outcomes no kept prediction needs (they hold a record id)
            counts["outcomes"] += db.execute(
                "DELETE FROM outcomes WHERE NOT EXISTS (SELECT 1 FROM predictions p WHERE "
                "p.request_id = outcomes.request_id OR p.record_id = outcomes.record_id)"
            ).rowcount
        if "failures" in tables:
            counts["failures"] = db.execute(
                "DELETE FROM failures WHERE logged_at < ?", (cutoff,)
            ).rowcount
        _record(db, "purge", by, why, {**counts, "before": cutoff})
    return counts


def record_event(path: Path, action: str, *, why: str, by: str, details: Mapping[str, Any]) -> None:
    """Append one event of another command (a retraining) to the log's audit table."""
    with _writing(path) as db:
        _record(db, action, by, why, details)


def audit_rows(path: Path) -> list[dict[str, Any]]:
    """The audit table's rows, oldest first (none when the log has no audit table yet)."""
    if not Path(path).is_file():
        return []
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        if "audit" not in _existing(db):
            return []
        rows = db.execute("SELECT at, action, who, why, details FROM audit ORDER BY id")
        return [
            {"at": at, "action": a, "who": w, "why": y, "details": json.loads(d)}
            for at, a, w, y, d in rows
        ]


def cutoff(older_than: str, now: datetime.datetime | None = None) -> str:
    """The log-format time `older_than` ("400d" or "400": days) before now.

    Raises:
        ValueError: naming the value when it is not a positive number of days.
    """
    text = older_than.strip().removesuffix("d")
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"--older-than takes days such as 400d, got {older_than!r}")
    moment = (now or datetime.datetime.now(datetime.UTC)) - datetime.timedelta(days=int(text))
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")
