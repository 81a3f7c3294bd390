"""Older prediction logs upgraded in place when opened: columns renamed since churnops 0.3 and
columns added since, in one transaction (nothing to do on a new log)."""

from __future__ import annotations

import sqlite3

# columns renamed since churnops 0.3 (table, old name, new name): a log written by an older
# service is upgraded in place when it is opened
_RENAMED = (
    ("predictions", "customer_id", "record_id"),
    ("outcomes", "customer_id", "record_id"),
    ("outcomes", "churned", "outcome"),
)


# columns added since (table, column, type): absent in an older log, added when it is opened
_ADDED = (("predictions", "arm", "TEXT"), ("predictions", "experiment", "TEXT"))


def upgrade(db: sqlite3.Connection) -> None:
    """Rename and add the columns of an older log (one transaction; nothing to do on a new
    one)."""
    columns = {
        table: {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for table in ("predictions", "outcomes")
    }
    renames = [(table, old, new) for table, old, new in _RENAMED if old in columns[table]]
    added = [
        (table, column, kind)
        for table, column, kind in _ADDED
        if columns[table] and column not in columns[table]  # an older table, not a new file
    ]
    if not renames and not added:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for index in ("predictions_customer", "outcomes_customer"):
            db.execute(f"DROP INDEX IF EXISTS {index}")
        for table, old, new in renames:
            db.execute(f"ALTER TABLE {table} RENAME COLUMN {old} TO {new}")
        for table, column, kind in added:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
