"""Micro-batching: requests ready together are scored in one call and logged in one commit, each
gets its own probabilities; a request whose values break the model fails alone, and a log that
cannot be written fails every request of the group."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from churnops.serving import artifact
from churnops.serving.microbatch import MicroBatcher, ScoreError
from churnops.serving.prediction_log import PredictionLog


def _model(folder, engine="auto"):
    return artifact.load(
        folder / "model.joblib",
        folder / "meta.json",
        folder / "schema.json",
        compiled_dir=folder / "compiled",
        engine=engine,
    )


@pytest.fixture
def parts(model_files, tmp_path):
    folder, record = model_files
    model = _model(folder)
    log = PredictionLog(tmp_path / "log.sqlite")
    yield model, log, record
    log.close()


def _requests(record, n):
    features = {k: v for k, v in record.items() if k != "customerID"}
    return [[{**features, "tenure": float(i + j)} for j in range(i % 3 + 1)] for i in range(n)]


def _ids(i, request):
    return [f"c{i}-{j}" for j in range(len(request))]


def test_a_group_is_scored_once_and_committed_once(parts):
    model, log, record = parts
    calls = []
    original = model.probabilities

    class Counting:
        def __getattr__(self, name):
            return getattr(model, name)

        def probabilities(self, records):
            calls.append(len(records))
            return original(records)

    batcher = MicroBatcher(Counting(), log)
    requests = _requests(record, 6)

    async def all_at_once():
        return await asyncio.gather(
            *(
                batcher.predict(
                    r, record_ids=_ids(i, r), request_id=f"r{i}", received_at=time.perf_counter()
                )
                for i, r in enumerate(requests)
            )
        )

    answers = asyncio.run(all_at_once())
    assert calls == [sum(len(r) for r in requests)]  # one model call for the whole group
    for request, got in zip(requests, answers, strict=True):
        np.testing.assert_allclose(got, model.probabilities(request), atol=1e-12)
    logged = log.read()
    assert len(logged) == sum(len(r) for r in requests)
    assert logged["logged_at"].nunique() == 1  # one transaction
    first = logged[logged["request_id"] == "r1"].sort_values("item")
    assert first["record_id"].tolist() == ["c1-0", "c1-1"]
    assert "customerID" not in first["inputs"].iloc[0]
    assert (logged["latency_ms"] >= 0).all()


def test_a_failed_commit_fails_every_request_of_the_group(parts):
    model, log, record = parts
    batcher = MicroBatcher(model, log)
    log.close()  # writing now raises sqlite3.ProgrammingError

    async def two():
        return await asyncio.gather(
            batcher.predict(
                [record], record_ids=[None], request_id="a", received_at=time.perf_counter()
            ),
            batcher.predict(
                [record], record_ids=[None], request_id="b", received_at=time.perf_counter()
            ),
            return_exceptions=True,
        )

    results = asyncio.run(two())
    assert all(isinstance(r, Exception) for r in results), results


@pytest.mark.parametrize("engine", ["onnx", "sklearn"])
def test_a_request_that_breaks_the_model_fails_alone(model_files, tmp_path, engine):
    """Values the contract would refuse (1e308) reach the batcher here on purpose: ONNX Runtime
    returns NaN for them, scikit-learn raises; either way only that request fails."""
    folder, record = model_files
    model = _model(folder, engine)
    log = PredictionLog(tmp_path / "log.sqlite")
    batcher = MicroBatcher(model, log)
    bad = {**record, "tenure": 1e308, "MonthlyCharges": 1e308}

    async def mixed():
        return await asyncio.gather(
            *(
                batcher.predict(
                    [bad] if i == 3 else [record, record],
                    record_ids=[None] if i == 3 else [None, None],
                    request_id=f"r{i}",
                    received_at=time.perf_counter(),
                )
                for i in range(8)
            ),
            return_exceptions=True,
        )

    results = asyncio.run(mixed())
    assert isinstance(results[3], ScoreError)
    good = [r for i, r in enumerate(results) if i != 3]
    assert all(isinstance(r, np.ndarray) and np.isfinite(r).all() for r in good), results
    logged = log.read()
    assert sorted(logged["request_id"].unique()) == [f"r{i}" for i in range(8) if i != 3]
    log.close()
