"""Privacy in the prediction log: with pseudonymisation the raw id never reaches the SQLite file
(its bytes are searched), feedback still finds the customer; `churnops log erase` leaves no row
and no byte of the customer, its HMAC or its outcomes, and records the erasure without the id;
`churnops log purge` deletes what is older than the retention period; the audit table only
grows."""

from __future__ import annotations

import datetime
import json
import sqlite3
import uuid

import pytest
import yaml

from churnops.cli import main
from churnops.governance.privacy import MissingKey, Privacy, load_key
from churnops.serving import log_export, log_retention
from churnops.serving.prediction_log import Failure, Prediction, PredictionLog
from tests.conftest import TEST_PARAMS

KEY = "a-secret-hmac-key-of-32-characters"
SECRET = "CUST-7731-ERASE-ME"
SCHEMA = {
    "features": {"tenure": {"kind": "numeric"}, "Contract": {"kind": "categorical"}},
    "id_column": "customerID",
    "target": {"name": "Churn", "labels": ["No", "Yes"]},
}


def _params(tmp_path, **governance):
    params = yaml.safe_load(TEST_PARAMS.read_text())
    params["governance"].update(governance)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def _fill(log, customers, *, at=None):
    for customer in customers:
        request = uuid.uuid4().hex  # as the service makes them: nothing of the customer
        log.record(
            [Prediction(request, 0, customer, "v1", "onnx",
                        {"tenure": 3.0, "Contract": "One year"}, 0.7, True, 1.0)],
            logged_at=at,
        )  # fmt: skip
        log.record_outcome(positive=True, record_id=customer)
        log.record_outcome(positive=False, request_id=request)
    log.record_failures([Failure("f1", 0, customers[0], "v1", "not a finite probability")])


def _mentions(path, *texts, tables=None):
    """Rows of any table (or of `tables`) with a cell containing one of `texts`."""
    found = []
    with sqlite3.connect(path) as db:
        names = tables or [
            r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for table in names:
            for row in db.execute(f"SELECT * FROM {table}"):
                found += [(table, row) for cell in row if any(t in str(cell) for t in texts)]
    return found


def test_a_pseudonymised_log_never_holds_the_raw_id(tmp_path):
    privacy = Privacy(key=KEY.encode())
    path = tmp_path / "log.sqlite"
    log = PredictionLog(path, privacy=privacy)
    _fill(log, [SECRET, "CUST-2"])
    assert log.record_outcome(positive=True, record_id=SECRET) == (1, 2)  # feedback finds it
    log.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("log.sqlite*"))
    assert SECRET.encode() not in raw
    assert privacy.pseudonym(SECRET).encode() in raw
    with log_export.LogReader(path) as reader:
        exported = next(reader.export(SCHEMA, positive_label="Yes", negative_label="No"))
    assert SECRET not in set(exported["customerID"])
    assert privacy.pseudonym(SECRET) in set(exported["customerID"])


def test_erase_leaves_no_row_and_no_byte_of_the_customer(tmp_path, capsys):
    params = _params(tmp_path, pseudonymize_ids=True)
    path = tmp_path / "log.sqlite"
    privacy = Privacy(key=KEY.encode())
    before = PredictionLog(path)  # rows from before pseudonymisation was turned on
    _fill(before, [SECRET])
    before.close()
    log = PredictionLog(path, privacy=privacy)
    _fill(log, [SECRET, "CUST-2", "CUST-3"])
    log.close()
    hmac_id = privacy.pseudonym(SECRET)
    assert _mentions(path, SECRET, hmac_id)

    args = ["log", "erase", "--customer", SECRET, "--reason", "GDPR art. 17 request 2026-118",
            "--log", str(path), "--params", str(params)]  # fmt: skip
    assert main(args) == 2  # no key: refused, nothing deleted
    assert "no key is set" in capsys.readouterr().err
    assert _mentions(path, SECRET, hmac_id)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CHURNOPS_HMAC_KEY", KEY)
        assert main(args) == 0
    said = capsys.readouterr().out
    assert "2 predictions, 4 outcomes and 2 scoring failures" in said, said
    assert _mentions(path, SECRET, hmac_id) == []
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("log.sqlite*"))
    assert SECRET.encode() not in raw
    assert hmac_id.encode() not in raw
    with log_export.LogReader(path) as reader:
        rows = next(reader.export(SCHEMA, positive_label="Yes", negative_label="No"))
    assert len(rows) == 2  # the other customers stay
    (audit,) = log_retention.audit_rows(path)
    assert (audit["action"], audit["why"]) == ("erase", "GDPR art. 17 request 2026-118")
    assert audit["details"]["predictions"] == 2
    with sqlite3.connect(path) as db, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit")


def test_purge_deletes_what_is_older_than_the_retention(tmp_path, capsys):
    params = _params(tmp_path, retention_days=30)
    path = tmp_path / "log.sqlite"
    old = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=45)).isoformat()
    log = PredictionLog(path)
    _fill(log, ["OLD-1", "OLD-2"], at=old)
    _fill(log, ["NEW-1"])
    log.close()
    assert main(["log", "purge", "--log", str(path), "--params", str(params)]) == 0
    said = capsys.readouterr().out
    assert "2 predictions" in said, said
    assert _mentions(path, "OLD-", tables=["predictions", "outcomes"]) == []
    assert len(_mentions(path, "NEW-1")) >= 3
    (audit,) = log_retention.audit_rows(path)
    assert audit["action"] == "purge"
    assert audit["why"] == "retention: older than 30d"
    assert main(["log", "purge", "--older-than", "soon", "--log", str(path)]) == 2
    assert "--older-than takes days such as 400d, got 'soon'" in capsys.readouterr().err


def test_a_key_is_required_and_long_enough(tmp_path):
    with pytest.raises(MissingKey, match=r"no key is set: set \$CHURNOPS_HMAC_KEY"):
        load_key(env="CHURNOPS_HMAC_KEY", file=None, environ={})
    with pytest.raises(MissingKey, match="fewer than 16"):
        load_key(env="K", file=None, environ={"K": "short"})
    key_file = tmp_path / "hmac.key"
    key_file.write_text(KEY + "\n")
    assert load_key(env="K", file=str(key_file), environ={}) == KEY.encode()
    assert Privacy().pseudonym("x") == "x"
    assert Privacy(key=KEY.encode()).pseudonym("x").startswith("hmac:")


def test_the_service_stores_hmac_ids_and_is_not_ready_without_a_key(model_files, tmp_path):
    from tests.test_api import _client

    folder, record = model_files
    log = tmp_path / "served.sqlite"
    with pytest.MonkeyPatch.context() as env:
        env.delenv("CHURNOPS_HMAC_KEY", raising=False)
        with _client(folder, pseudonymize_ids=True, log_path=log) as client:
            answer = client.get("/ready")
            assert answer.status_code == 503
            assert "no key is set" in answer.json()["detail"]
        env.setenv("CHURNOPS_HMAC_KEY", KEY)
        with _client(folder, pseudonymize_ids=True, log_path=log) as client:
            served = client.post("/predict", json={**record, "customerID": SECRET})
            assert served.json()["predictions"][0]["customerID"] == SECRET  # as given
            back = client.post("/feedback", json={"customerID": SECRET, "Churn": "Yes"})
            assert back.json()["predictions"] == 1
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("served.sqlite*"))
    assert SECRET.encode() not in raw
    assert Privacy(key=KEY.encode()).pseudonym(SECRET).encode() in raw


def test_pii_columns_are_scored_but_never_stored_and_the_monitor_takes_the_served_score(
    model_files, tmp_path
):
    import joblib

    from churnops.monitoring import monitor
    from tests.test_api import _client

    folder, record = model_files
    schema = json.loads((folder / "schema.json").read_text())
    charge = 73.4567  # a value no other byte of the log spells
    given = {**record, "MonthlyCharges": charge}
    answers = {}
    for name, withheld in (("kept", []), ("withheld", ["MonthlyCharges", "PaymentMethod"])):
        with _client(folder, log_path=tmp_path / f"{name}.sqlite", pii_columns=withheld) as client:
            answers[name] = client.post("/predict", json=given).json()["predictions"][0]
    assert answers["withheld"]["probability"] == answers["kept"]["probability"]  # scored with it

    def raw(name):
        return b"".join(p.read_bytes() for p in tmp_path.glob(f"{name}.sqlite*"))

    assert str(charge).encode() in raw("kept")  # the search can find it
    assert str(charge).encode() not in raw("withheld")
    assert record["PaymentMethod"].encode() not in raw("withheld")
    with log_export.LogReader(tmp_path / "withheld.sqlite") as reader:
        (rows,) = reader.export(schema, positive_label="Yes", negative_label="No")
    assert rows[["MonthlyCharges", "PaymentMethod"]].isna().all().all()
    assert rows["tenure"].tolist() == [record["tenure"]]

    model = joblib.load(folder / "model.joblib")
    typed = monitor.scored_rows(
        rows, schema, model, target="Churn", positive_label="Yes", withheld=["MonthlyCharges"]
    )
    assert typed.attrs["prediction"] == "served"
    assert typed[monitor.PREDICTION].tolist() == [answers["withheld"]["probability"]]
    derived = set(typed.attrs["derived"])
    assert not derived & {"tenure_x_monthly", "monthly_vs_internet_mean"}  # made from it
    assert {"log_total_charges", "avg_monthly_charge"} <= derived
