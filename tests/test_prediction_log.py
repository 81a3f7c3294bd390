"""The prediction log: WAL mode, what a prediction and an outcome store, and the export the
monitor stage reads."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from churnops.monitoring import monitor
from churnops.serving import log_export, prediction_log
from churnops.serving.log_export import LogFileError, LogReader
from churnops.serving.prediction_log import Prediction, PredictionLog

SCHEMA = {
    "features": {
        "tenure": {"kind": "numeric", "min": 0.0, "max": 72.0},
        "Contract": {"kind": "categorical", "categories": ["One year", "Two year"]},
    },
    "id_column": "customerID",
    "target": {"name": "Churn", "labels": ["No", "Yes"]},
}


def _prediction(
    request_id: str,
    item: int = 0,
    customer: str | None = "c1",
    p: float = 0.7,
    version: str = "abc",
    inputs: dict | None = None,
):
    return Prediction(
        request_id=request_id,
        item=item,
        record_id=customer,
        model_version=version,
        engine="onnx",
        inputs=inputs or {"tenure": 3.0, "Contract": "One year"},
        probability=p,
        decision=p >= 0.5,
        latency_ms=1.5,
    )


@pytest.fixture
def log(tmp_path):
    opened = PredictionLog(tmp_path / "logs" / "p.sqlite")
    yield opened
    opened.close()


def test_the_database_is_in_wal_mode(log):
    with sqlite3.connect(log.path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_committed_prediction_is_visible_to_another_connection(log):
    log.record([_prediction("r1"), _prediction("r1", item=1, customer="c2")])
    with sqlite3.connect(log.path) as other:
        assert other.execute("SELECT COUNT(*) FROM predictions").fetchone()[0] == 2


def test_outcomes_join_by_request_then_by_customer(log):
    log.record([_prediction("r1", customer="c1")])
    log.record([_prediction("r2", customer="c2")])
    log.record([_prediction("r3", customer=None)])
    assert log.record_outcome(positive=True, request_id="r1") == (1, 1)
    assert log.record_outcome(positive=False, record_id="c2") == (1, 1)
    assert log.record_outcome(positive=True, record_id="nobody") == (0, 0)
    read = log.read().set_index("request_id")
    assert read.loc["r1", "outcome"] == 1
    assert read.loc["r2", "outcome"] == 0
    assert pd.isna(read.loc["r3", "outcome"])
    # a later outcome for the same request wins, and is counted
    assert log.record_outcome(positive=False, request_id="r1") == (1, 2)
    assert log.read().set_index("request_id").loc["r1", "outcome"] == 0


def test_outcome_needs_exactly_one_key(log):
    with pytest.raises(ValueError, match="exactly one"):
        log.record_outcome(positive=True)


def test_since_keeps_later_predictions(log):
    log.record([_prediction("old")], logged_at="2026-01-01T00:00:00.000000+00:00")
    log.record([_prediction("new")], logged_at="2026-06-01T00:00:00.000000+00:00")
    since = prediction_log.parse_since("2026-03-01")
    assert log.read(since=since)["request_id"].tolist() == ["new"]
    moved = prediction_log.parse_since("2026-03-01T01:00:00+01:00")
    assert moved == "2026-03-01T00:00:00.000000+00:00"
    with pytest.raises(ValueError, match="--since must be an ISO date"):
        prediction_log.parse_since("last tuesday")


def test_unknown_sync_mode_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="synchronous mode must be one of"):
        PredictionLog(tmp_path / "p.sqlite", synchronous="OFF")


def _export(log, **options):
    with LogReader(log.path) as reader:
        return list(reader.export(SCHEMA, positive_label="Yes", negative_label="No", **options))


def test_export_has_the_training_shape_and_passes_the_monitor_checks(log):
    log.record([_prediction("r1", customer="c1", p=0.8)])
    log.record([_prediction("r2", customer="c2", p=0.2)])
    log.record_outcome(positive=True, request_id="r1")
    batch = pd.concat(_export(log))
    assert list(batch.columns[:4]) == ["customerID", "tenure", "Contract", "Churn"]
    assert batch["Churn"].tolist() == ["Yes", None]
    assert batch["latency_ms"].tolist() == [1.5, 1.5]
    assert batch["served_probability"].tolist() == [0.8, 0.2]
    typed, _ = monitor.check_batch(batch, SCHEMA)
    assert typed["tenure"].dtype == "float64"
    labelled = pd.concat(_export(log, labelled_only=True))
    assert labelled["customerID"].tolist() == ["c1"]


def test_export_in_chunks_gives_the_same_batch(log):
    for i in range(7):
        log.record([_prediction(f"r{i}", customer=f"c{i}", p=i / 10)])
    log.record_outcome(positive=False, record_id="c3")
    whole = pd.concat(_export(log))
    chunks = _export(log, chunk_rows=3)
    assert [len(c) for c in chunks] == [3, 3, 1]
    pd.testing.assert_frame_equal(pd.concat(chunks).reset_index(drop=True), whole)
    assert whole["Churn"].tolist() == [None, None, None, "No", None, None, None]
    assert whole["request_id"].tolist() == [f"r{i}" for i in range(7)]  # commit order
    columns = log_export.export_columns(SCHEMA)
    assert columns.names == list(whole.columns)


def test_export_keeps_one_model_version_and_its_schema(log):
    log.record([_prediction("a1", version="abc")])
    log.record([_prediction("b1", version="other")])
    log.record([_prediction("a2", version="abc", inputs={"age": 40, "Contract": "One year"})])
    log.record([_prediction("a3", version="abc", inputs={"tenure": "3", "Contract": "One year"})])
    with LogReader(log.path) as reader:
        assert reader.count(SCHEMA, version="abc") == {
            "selected": 1,
            "other_version": 1,
            "other_schema": 2,
        }
        assert reader.count(SCHEMA)["selected"] == 2  # every version
    assert pd.concat(_export(log, version="abc"))["request_id"].tolist() == ["a1"]
    assert pd.concat(_export(log))["request_id"].tolist() == ["a1", "b1"]


def test_the_reader_changes_nothing_and_refuses_foreign_files(tmp_path, log):
    log.record([_prediction("r1")])
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE people (name TEXT)")
    before = foreign.read_bytes()
    with pytest.raises(
        LogFileError, match=r"not a churnops prediction log: it has tables \['people'\]"
    ):
        LogReader(foreign)
    assert foreign.read_bytes() == before
    with sqlite3.connect(foreign) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(LogFileError, match="is not a SQLite database"):
        LogReader(junk)
    with pytest.raises(LogFileError, match="no prediction log at"):
        LogReader(tmp_path / "absent.sqlite")
    assert not (tmp_path / "absent.sqlite").exists()


def test_probe_fails_when_the_log_cannot_take_a_write(log):
    log.probe()
    (pages,) = log._db.execute("PRAGMA page_count").fetchone()
    log._db.execute(f"PRAGMA max_page_count = {pages}")  # as if the disk were full
    failure = None
    for i in range(200):
        try:
            log.record([_prediction(f"r{i}")])
        except sqlite3.OperationalError as exc:
            failure = exc
            break
    assert "full" in str(failure)
    assert log.last_error is not None
    with pytest.raises(sqlite3.OperationalError, match="full"):
        log.probe()  # after a failure the probe needs a page too
    log._db.execute("PRAGMA max_page_count = 1073741823")
    log.probe()
    assert log.last_error is None


def test_a_log_written_by_an_older_service_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE predictions (request_id TEXT NOT NULL, item INTEGER NOT NULL,
            logged_at TEXT NOT NULL, customer_id TEXT, model_version TEXT NOT NULL,
            engine TEXT NOT NULL, inputs TEXT NOT NULL, probability REAL NOT NULL,
            decision INTEGER NOT NULL, latency_ms REAL NOT NULL, PRIMARY KEY (request_id, item));
        CREATE INDEX predictions_customer ON predictions (customer_id);
        CREATE TABLE outcomes (id INTEGER PRIMARY KEY AUTOINCREMENT, recorded_at TEXT NOT NULL,
            request_id TEXT, customer_id TEXT, churned INTEGER NOT NULL);
        INSERT INTO predictions VALUES ('r1', 0, '2026-11-01T00:00:00+00:00', 'c1', 'v', 'onnx',
            '{"tenure": 3.0}', 0.7, 1, 1.5);
        INSERT INTO outcomes (recorded_at, request_id, customer_id, churned)
            VALUES ('2026-11-02T00:00:00+00:00', NULL, 'c1', 1);
        """
    )
    old.close()
    log = PredictionLog(path)
    read = log.read()
    assert read[["record_id", "outcome"]].values.tolist() == [["c1", 1]]
    assert log.record_outcome(positive=False, record_id="c1") == (1, 2)
    assert log.read()["outcome"].tolist() == [0]
    log.close()
    assert PredictionLog(path).count() == 1  # opening it again finds nothing to upgrade


def test_failures_are_kept_per_arm_and_read_back_by_experiment(tmp_path, log):
    old = tmp_path / "old.sqlite"  # a log from before the failures table: none to read
    with sqlite3.connect(old) as db:
        db.execute("CREATE TABLE predictions (request_id TEXT, item INTEGER, logged_at TEXT)")
        db.execute("CREATE TABLE outcomes (id INTEGER, request_id TEXT)")
    with LogReader(old) as reader:
        assert reader.experiment_failures("exp").empty
    log.record_failures(
        [
            prediction_log.Failure("r1", 0, "c1", "v2", "not a finite probability", "b", "exp"),
            prediction_log.Failure("r1", 1, "c2", "v1", "not a finite probability", "a", "exp"),
            prediction_log.Failure("r2", 0, None, "v1", "RuntimeError"),  # no experiment
        ]
    )
    with LogReader(log.path) as reader:
        failures = reader.experiment_failures("exp")
        assert reader.experiment_failures("exp", since="2999-01-01T00:00:00+00:00").empty
    assert failures[["record_id", "arm", "model_version"]].values.tolist() == [
        ["c1", "b", "v2"],
        ["c2", "a", "v1"],
    ]
