"""One setting chooses the engine (params `base.scheduler`):

- `local`: in this process, as without Dask;
- `dask-local`: a `distributed.LocalCluster` of `base.n_workers` worker processes of one thread
  each, started for the command and closed after it;
- `tcp://host:8786` (or `tls://`): an existing Dask scheduler; its workers must see the same
  files as this machine (a shared file system or object store) and run the same versions of
  churnops and its dependencies.

The commands that can use a cluster (batch scoring, the monitor's statistics, tuning) open the
engine with `engine(...)` and take a `distributed.Client`, or None for `local`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

LOCAL = "local"
DASK_LOCAL = "dask-local"
DEFAULT_WORKERS = 2  # of dask-local, in the params `churnops init` writes
SCHEDULER = re.compile(r"^(local|dask-local|(tcp|tls)://[^\s/]+:\d+)$")
# how long to wait for an existing scheduler before saying it cannot be reached
CONNECT_TIMEOUT_S = 10
# distributed starts workers with glibc's MALLOC_TRIM_THRESHOLD_ at 64 KiB, so that freed memory
# goes back to the system at once; with the pandas work of batch scoring that made a worker 1.6x
# slower than this process (docs/scale.md). The LocalCluster keeps glibc's default: churnops'
# tasks read in bounded chunks, so the memory they keep is bounded too.
NANNY_TRIM = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


class EngineError(RuntimeError):
    """The engine cannot start or be reached; the message says which and why."""


def describe(scheduler: str, n_workers: int) -> str:
    """The engine in words, for progress lines."""
    if scheduler == LOCAL:
        return "in-process"
    if scheduler == DASK_LOCAL:
        return f"a Dask LocalCluster of {n_workers} worker process(es)"
    return f"the Dask scheduler at {scheduler}"


def check(scheduler: str) -> str:
    """The scheduler setting, when it is one of the three forms.

    Raises:
        EngineError: naming the value.
    """
    if not isinstance(scheduler, str) or not SCHEDULER.match(scheduler):
        raise EngineError(
            f"base.scheduler must be 'local', 'dask-local' or a scheduler address such as "
            f"tcp://host:8786, got {scheduler!r}"
        )
    return scheduler


@contextlib.contextmanager
def engine(
    scheduler: str,
    n_workers: int,
    *,
    say: Callable[[str], None] = lambda line: None,
    timeout: float = CONNECT_TIMEOUT_S,
) -> Iterator[Any]:
    """A `distributed.Client` of the engine `scheduler` (None for `local`), closed on exit;
    `timeout`: seconds to wait for an existing scheduler.

    Raises:
        EngineError: the scheduler is not one of the three forms, or cannot be reached.
    """
    check(scheduler)
    if scheduler == LOCAL:
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler == DASK_LOCAL:
        import dask

        with (
            _without_trim(dask.config.get(NANNY_TRIM, None)),
            dask.config.set({NANNY_TRIM: None}),
            LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address="127.0.0.1:0",
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            say(f"{describe(scheduler, n_workers)}; dashboard {client.dashboard_link}")
            yield client
        return
    try:
        client = Client(scheduler, timeout=timeout)
    except OSError as exc:
        raise EngineError(
            f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s "
            f"({exc}): start one (`dask scheduler`, then `dask worker {scheduler}`) or set "
            "base.scheduler: local"
        ) from None
    with client:
        workers = len(client.scheduler_info().get("workers", {}))
        where = describe(scheduler, n_workers)
        say(f"{where} ({workers} worker(s)); dashboard {client.dashboard_link}")
        yield client


def run_tasks(
    client: Any,
    function: Callable[..., Any],
    items: Sequence[Any],
    *,
    shared: Mapping[str, Any],
    done: Callable[[Any], None],
) -> None:
    """`function(item, **shared)` for every item: here, one after another, when `client` is
    None; else as one task per item on the client's workers, each shared value sent to every
    worker once (`Client.scatter(..., broadcast=True)`). `done` gets each result as its task
    finishes; on an error the remaining tasks are cancelled."""
    if client is None:
        for item in items:
            done(function(item, **shared))
        return
    from distributed import as_completed

    scattered = {k: client.scatter(v, broadcast=True, hash=False) for k, v in shared.items()}
    futures = client.map(function, list(items), pure=False, **scattered)
    try:
        for future in as_completed(futures):
            done(future.result())
    finally:
        client.cancel(futures)


@contextlib.contextmanager
def joblib_on(client: Any) -> Iterator[None]:
    """joblib's parallel work (scikit-learn's cross-validation and searches) on the client's
    workers; nothing changes without a client."""
    if client is None:
        yield
        return
    import joblib

    with joblib.parallel_config(backend="dask"):
        yield


@contextlib.contextmanager
def _without_trim(default: Any) -> Iterator[None]:
    """Starting workers, distributed writes its pre-spawn variables into this process's
    environment and leaves them there, so a second cluster would inherit the first one's trim
    threshold: remove it while workers start, when it holds distributed's value."""
    name = NANNY_TRIM.rsplit(".", 1)[1]
    inherited = os.environ.get(name)
    if default is None or inherited != str(default):
        yield
        return
    del os.environ[name]
    try:
        yield
    finally:
        os.environ[name] = inherited
