"""The engine setting: `local` is this process, `dask-local` a real LocalCluster that is closed
afterwards, an address an existing scheduler (refused clearly when nobody answers), anything
else refused by name; joblib's work goes to the cluster's workers."""

from __future__ import annotations

import os

import joblib
import pytest

from churnops.compute import engine
from tests.servers import free_port


def test_local_is_this_process():
    with engine.engine("local", 2) as client:
        assert client is None


@pytest.mark.parametrize("given", ["dask", "tcp://nohost", "local ", "http://h:8786"])
def test_anything_else_is_refused_by_name(given):
    with (
        pytest.raises(engine.EngineError, match=r"base.scheduler must be .*got"),
        engine.engine(given, 2),
    ):
        pass


def test_an_address_nobody_answers_is_refused_with_what_to_do():
    address = f"tcp://127.0.0.1:{free_port()}"
    with (
        pytest.raises(
            engine.EngineError, match=r"cannot reach the Dask scheduler .*dask scheduler"
        ),
        engine.engine(address, 2, timeout=1),
    ):
        pass


def test_dask_local_starts_the_workers_and_runs_joblib_on_them():
    said = []
    with engine.engine("dask-local", 2, say=said.append) as client:
        workers = client.scheduler_info()["workers"]
        assert len(workers) == 2
        assert all(w["nthreads"] == 1 for w in workers.values())
        trim = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
        assert set(trim.values()) == {None}  # glibc's default: see engine.NANNY_TRIM
        with engine.joblib_on(client):
            pids = joblib.Parallel(n_jobs=-1)(joblib.delayed(_pid)() for _ in range(8))
        assert set(pids) <= set(client.run(os.getpid).values())  # the workers, not loky's
        cluster = client.cluster
    assert "LocalCluster of 2 worker process(es); dashboard http" in said[0]
    assert cluster.status.name == "closed"


def _pid() -> int:
    return os.getpid()


def test_an_existing_scheduler_is_reached_by_its_address(dask_client):
    address = dask_client.scheduler.address  # a real scheduler with two workers, tcp://...
    assert address.startswith("tcp://127.0.0.1:")
    said = []
    with engine.engine(address, 99, say=said.append) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        assert client.submit(sum, [1, 2, 3]).result() == 6
    assert said[0].startswith(f"the Dask scheduler at {address} (2 worker(s)); dashboard")
