"""Reading a prediction log for the monitor: a read-only view of the file (it never creates
tables or changes the journal mode, and refuses a file that is not a churnops log), counts by
model version and input schema, and the export in the training data's shape, in chunks."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from churnops.serving.prediction_log import _OUTCOME, _SINCE

_TABLES = {"predictions", "outcomes"}


class LogFileError(ValueError):
    """The file is not a churnops prediction log (or cannot be read as one)."""


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
            query = f"SELECT * FROM ({query}) WHERE outcome IS NOT NULL"
        args = (*_paths(features), since, since, *params["version"], *params["schema"])
        for chunk in pd.read_sql_query(query, self._db, params=args, chunksize=chunk_rows):
            chunk = chunk.rename(columns={f"f{i}": n for i, n in enumerate(features)})
            yield _shaped(chunk, schema, positive_label, negative_label)

    def experiment_rows(self, experiment: str, *, since: str | None = None) -> pd.DataFrame:
        """The predictions an A/B experiment served (at or after `since`), in commit order:
        record_id, arm, model_version, decision, latency_ms, logged_at and the latest outcome
        (1 positive, 0 negative, null unknown). A log written before A/B columns existed has
        none."""
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(predictions)")}
        if "arm" not in columns:
            return pd.DataFrame(
                columns=[
                    "record_id",
                    "arm",
                    "model_version",
                    "decision",
                    "latency_ms",
                    "logged_at",
                    "outcome",
                ]
            )
        query = (
            "SELECT p.record_id, p.arm, p.model_version, p.decision, p.latency_ms, p.logged_at, "
            f"{_OUTCOME} FROM predictions p {_SINCE} AND p.experiment = ? ORDER BY p.rowid"
        )
        return pd.read_sql_query(query, self._db, params=(since, since, experiment))

    def experiment_failures(self, experiment: str, *, since: str | None = None) -> pd.DataFrame:
        """The records an A/B experiment's models could not score (at or after `since`):
        record_id, arm, model_version, reason, logged_at. A log older than the failures table
        has none."""
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
        if "failures" not in tables:
            return pd.DataFrame(
                columns=["record_id", "arm", "model_version", "reason", "logged_at"]
            )
        query = (
            "SELECT record_id, arm, model_version, reason, logged_at FROM failures "
            "WHERE (? IS NULL OR logged_at >= ?) AND experiment = ? ORDER BY id"
        )
        return pd.read_sql_query(query, self._db, params=(since, since, experiment))


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


SERVED = {
    "latency_ms": pa.float64(),
    "served_probability": pa.float64(),
    "served_decision": pa.bool_(),
    "model_version": pa.string(),
    "request_id": pa.string(),
    "logged_at": pa.string(),
    "arm": pa.string(),
    "experiment": pa.string(),
}


def export_columns(schema: Mapping[str, Any]) -> pa.Schema:
    """The exported batch's columns and types: the id column, the features (numbers as float64,
    categories as text), the target (the class label where the outcome is known, else null),
    then `latency_ms`, `served_probability`, `served_decision`, `model_version`, `request_id`,
    `logged_at`, and the A/B `arm` and `experiment` (null outside an experiment)."""
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
        out[schema["id_column"]] = chunk["record_id"].astype(object)
    for name, info in schema["features"].items():
        values = chunk[name]
        out[name] = (
            pd.to_numeric(values).astype("float64")
            if info["kind"] == "numeric"
            else values.astype(object).where(values.notna(), None)
        )
    target = schema.get("target", {}).get("name")
    if target:
        outcome = chunk["outcome"]
        labels = np.where(outcome == 1, positive_label, negative_label).astype(object)
        out[target] = np.where(outcome.isna(), None, labels)
    out["latency_ms"] = chunk["latency_ms"].astype("float64")
    out["served_probability"] = chunk["probability"].astype("float64")
    out["served_decision"] = chunk["decision"].astype(bool)
    for name in ("model_version", "request_id", "logged_at", "arm", "experiment"):
        out[name] = chunk[name].astype(object)
    return out.reset_index(drop=True)
