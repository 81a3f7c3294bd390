"""Where a compiled /predict spends its time beyond the no-op ceiling (figures printed, one run).

bench/serve.py measures real servers over HTTP; this script calls the same ASGI app in process
(no HTTP, no client, one event loop), so that the difference between `/predict` and the no-op
route of bench/serve.py is not hidden by the client's cost. It then swaps one part of the request
for a stand-in at a time and reports what each part costs:

  no-op route        parse the body, check the input contract, return a constant
  /predict           as served: contract, compiled scoring, the log's commit, the answer
  without the log    the batcher's log write replaced by nothing (what durability costs)
  constant score     the model replaced by a constant (what the recipes, encoding and ONNX cost)
  neither            both stand-ins: the route's own work (ids, batcher turn, metrics, answer)

The stand-ins exist only in this process, for the measurement; the service has no such switch.
Needs the pipeline's outputs (`make repro`). Usage: python bench/serve_profile.py [--requests N]
[--results F] (the figures are kept in bench/results/serve_profile.json, which
docs/benchmarks.md is rendered from)
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd
from bench_results import Results, add_option

ROOT = Path(__file__).resolve().parents[1]


def _body() -> bytes:
    schema = json.loads((ROOT / "data/prepared/schema.json").read_text())
    row = pd.read_parquet(ROOT / "data/prepared/test.parquet").iloc[0]
    record = {schema["id_column"]: str(row[schema["id_column"]])} if schema.get("id_column") else {}
    record.update({c: (None if pd.isna(row[c]) else row[c]) for c in schema["features"]})
    return json.dumps(record, default=float).encode()


class Caller:
    """Sends one POST to an ASGI app and checks its status, with no server in between."""

    def __init__(self, app, body: bytes) -> None:
        self.app, self.body = app, body

    async def __call__(self, path: str) -> None:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
            "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
            "headers": [(b"content-type", b"application/json"),
                        (b"content-length", str(len(self.body)).encode())],
        }  # fmt: skip
        delivered, status = False, []

        async def receive():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": self.body, "more_body": False}
            await asyncio.Event().wait()

        async def send(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await self.app(scope, receive, send)
        if status != [200]:
            raise SystemExit(f"{path} answered {status}")

    async def per_request_us(self, path: str, requests: int, repeats: int = 3) -> float:
        """The best of `repeats` runs of `requests` sequential calls (best: the least disturbed
        by the rest of the machine), microseconds per request."""
        for _ in range(300):
            await self(path)
        runs = []
        for _ in range(repeats):
            started = time.perf_counter()
            for _ in range(requests):
                await self(path)
            runs.append((time.perf_counter() - started) / requests * 1e6)
        return min(runs)


class Lifespan:
    """The app's startup and shutdown, as a server runs them."""

    def __init__(self, app) -> None:
        self.app, self.events, self.answers = app, asyncio.Queue(), asyncio.Queue()
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = asyncio.create_task(self.app(scope, self.events.get, self.answers.put))
        await self.events.put({"type": "lifespan.startup"})
        answer = await self.answers.get()
        if answer["type"] != "lifespan.startup.complete":
            raise SystemExit(f"the app did not start: {answer}")

    async def __aexit__(self, *exc: object) -> None:
        await self.events.put({"type": "lifespan.shutdown"})
        await self.answers.get()
        await self.task


async def _profile(requests: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT / "bench"))
    from serve import noop_app

    app = noop_app()
    async with Lifespan(app):
        return await _variants(app, requests)


async def _variants(app, requests: int) -> dict[str, float]:
    from churnops.serving.service import Service

    service = next(v for v in vars(app.state)["_state"].values() if isinstance(v, Service))
    batcher, caller = service.batcher, Caller(app, _body())
    model, record = batcher.model, batcher.log.record
    constant = types.SimpleNamespace(
        threshold=model.threshold, version=model.version, engine=model.engine,
        probabilities=lambda records: np.full(len(records), 0.3),
    )  # fmt: skip
    figures = {"no-op route": await caller.per_request_us("/noop", requests)}
    figures["/predict"] = await caller.per_request_us("/predict", requests)
    batcher.log.record = lambda rows, **_: None
    figures["without the log"] = await caller.per_request_us("/predict", requests)
    batcher.model = constant
    figures["neither"] = await caller.per_request_us("/predict", requests)
    batcher.log.record = record
    figures["constant score"] = await caller.per_request_us("/predict", requests)
    batcher.model = model
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=4000, help="per measurement")
    add_option(parser, "serve_profile")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="churnops-bench-profile-") as folder:
        os.environ["CHURNOPS_LOG"] = str(Path(folder) / "log.sqlite")
        os.environ.setdefault("CHURNOPS_PARAMS", "params.yaml")
        os.chdir(ROOT)
        figures = asyncio.run(_profile(args.requests))
    noop, full = figures["no-op route"], figures["/predict"]
    parts = {
        "the log's write and commit": full - figures["without the log"],
        "scoring (recipes, encoding, ONNX Runtime)": full - figures["constant score"],
        "the route's own work": figures["neither"] - noop,
    }
    kept = Results("serve_profile")
    kept.note(f"In-process ASGI calls, {args.requests:,} sequential requests, best of 3.")
    print(f"\nin-process ASGI calls, {args.requests:,} sequential requests, best of 3")
    print(f"{'variant':<20}{'us/request':>12}")
    for name in ("no-op route", "/predict", "without the log", "constant score", "neither"):
        print(f"{name:<20}{figures[name]:>12.1f}")
        kept.add(f"{name}: time per request", f"{figures[name]:.1f} µs")
    print(f"\n/predict costs {full - noop:.1f} us more than the no-op route:")
    for name, value in parts.items():
        print(f"  {name:<44}{value:>7.1f} us  ({value / (full - noop):.0%})")
        kept.add(
            f"of /predict's {full - noop:.1f} µs beyond the no-op route: {name}",
            f"{value:.1f} µs ({value / (full - noop):.0%})",
        )
    rates = (
        f"{noop / full:.2f}x of the no-op route's rate; without the log "
        f"{noop / figures['without the log']:.2f}x"
    )
    print(f"in process, /predict runs at {rates}")
    kept.add("/predict's rate in process", rates)
    kept.save(args.results, sys.argv[1:])


if __name__ == "__main__":
    main()
