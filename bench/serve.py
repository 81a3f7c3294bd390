"""Serving benchmark (figures printed, all from one run, server on 127.0.0.1 only):

single-customer POSTs against three servers started one after the other with the same settings,
each a real `uvicorn` process with one worker:

  (a) compiled: `churnops serve --engine onnx` — ONNX Runtime, prediction log on;
  (b) naive:    `churnops serve --engine sklearn` — a one-row DataFrame through
                `Pipeline.predict_proba`, prediction log on;
  (c) no-op:    the same app with a `/noop` route that parses and validates the same request
                body and returns a constant: the ceiling for this stack;
  (a') explained: server (a) asked for reason codes (`/predict?explain=true`);
  (d) A/B:      (a) inside an A/B experiment of two arms (both the workspace's bundle, an A/A
                test): the cost of the traffic split, each customer id hashed to its arm;
  (e) MLflow:   with --mlflow-python, `mlflow models serve` of the same pickled pipeline (saved
                as an MLflow model whose pyfunc calls `predict_proba`), in its own environment
                (bench/requirements-mlflow.txt; `make bench-serve` creates .venv-mlflow), one
                worker, POST /invocations with the same customer as `dataframe_records`.

All of them run at once (an idle server costs nothing) and are measured in alternating rounds, so a
slow spell of the machine hits all of them. For each: latency p50/p99 at concurrency 1 (sequential
requests on one keep-alive connection) and requests/s at concurrency 1 and 16 (16 connections),
measured by a small asyncio HTTP/1.1 client in this process. The client shares the 2 cores with
the server, so absolute figures include its cost; the ratios compare like with like.

Needs the pipeline's outputs (`make repro`).
Usage: python bench/serve.py [--seconds S] [--rounds N] [--mlflow-python PATH] [--results F]
(the figures are kept in bench/results/serve.json, which docs/benchmarks.md is rendered from)
"""

# No `from __future__ import annotations`: FastAPI reads the /noop route's types at runtime.
import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_results import Results, add_option

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent


def noop_app():
    """The service app plus `POST /noop`: the same middleware, body parsing and input contract
    as `/predict`, no model, no log (uvicorn factory for server (c))."""
    import json

    from fastapi import Request

    from churnops.data.contract import Contract
    from churnops.files import read_json
    from churnops.serving.app import app_from_env
    from churnops.serving.settings import settings_from_env

    app = app_from_env()
    settings = settings_from_env()
    contract = Contract(read_json(settings.schema_path), settings.policy)

    @app.post("/noop")
    async def noop(request: Request) -> dict:
        payload = json.loads(await request.body())
        for record in payload if isinstance(payload, list) else [payload]:
            contract.check_record(record)
        return {"ok": True}

    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _experiment(folder: Path) -> Path:
    """An A/A experiment file: two arms, both the workspace's serving bundle."""
    from churnops.registry import bundle
    from churnops.serving import experiment

    paths = {k: str(v) for k, v in bundle.paths(ROOT / "models/serving").items()}
    arms = [{"name": n, "share": 0.5, "registry_version": None, **paths} for n in ("a", "b")]
    path = folder / "experiment.json"
    experiment.write(path, "bench-split", "bench", arms)
    return path


def _mlflow_model(python: str, folder: Path) -> Path:
    """The workspace's pipeline saved as an MLflow model by MLflow itself (in its environment;
    churnops' own transformers are imported from src/)."""
    target = folder / "mlflow-model"
    script = (
        "import sys, joblib, mlflow.sklearn; "
        "mlflow.sklearn.save_model(joblib.load(sys.argv[1]), sys.argv[2], "
        "pyfunc_predict_fn='predict_proba', serialization_format='cloudpickle')"
    )
    subprocess.run(
        [python, "-c", script, str(ROOT / "models/model.joblib"), str(target)],
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    return target


def _start(kind: str, port: int, log_dir: Path, mlflow_python: str | None = None):
    env = {
        **os.environ,
        "CHURNOPS_LOG": str(log_dir / f"{kind}.sqlite"),
        "PYTHONPATH": os.pathsep.join([str(BENCH), os.environ.get("PYTHONPATH", "")]),
    }
    if kind == "A/B":
        env["CHURNOPS_EXPERIMENT"] = str(_experiment(log_dir))
    host = ["--host", "127.0.0.1", "--port", str(port)]
    probe_path = "/ready"
    if kind == "MLflow":
        model = _mlflow_model(mlflow_python, log_dir)
        env["PYTHONPATH"] = str(ROOT / "src")
        # MLflow starts `uvicorn` by name: its environment's bin folder first on the PATH
        env["PATH"] = os.pathsep.join([os.path.dirname(os.path.abspath(mlflow_python)),
                                       env.get("PATH", "")])  # fmt: skip
        command = [mlflow_python, "-m", "mlflow", "models", "serve", "-m", str(model),
                   "--env-manager", "local", "--workers", "1", *host]  # fmt: skip
        probe_path = "/ping"
    elif kind == "no-op":
        command = [sys.executable, "-m", "uvicorn", "serve:noop_app", "--factory", *host]
    else:
        engine = {"compiled": "onnx", "naive": "sklearn", "A/B": "onnx"}[kind]
        command = [sys.executable, "-m", "churnops.cli", "serve", "--engine", engine, *host]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the {kind} server exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(
                    f"GET {probe_path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
                )
                if probe.recv(64).startswith(b"HTTP/1.1 200"):
                    return server
        except OSError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit(f"the {kind} server did not become ready")


def _request(path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def _load(port: int, request: bytes, connections: int, seconds: float) -> list[float]:
    """Send `request` over `connections` keep-alive connections for `seconds`; return each
    request's latency in seconds (a non-200 answer stops the run)."""
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop_at:
                start = time.perf_counter()
                status = await _one(reader, writer, request)
                latencies.append(time.perf_counter() - start)
                if status != 200:
                    raise SystemExit(f"the server answered {status}")
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies


def _measure(port: int, request: bytes, seconds: float) -> dict[str, float]:
    single = asyncio.run(_load(port, request, 1, seconds))
    started = time.perf_counter()
    many = asyncio.run(_load(port, request, 16, seconds))
    elapsed = time.perf_counter() - started
    return {
        "latencies": single,
        "rps_1": len(single) / float(np.sum(single)),
        "rps_16": len(many) / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="measurements per server")
    parser.add_argument(
        "--mlflow-python",
        help="the Python of an environment with MLflow (bench/requirements-mlflow.txt): adds "
        "`mlflow models serve` of the same pipeline",
    )
    add_option(parser, "serve")
    args = parser.parse_args()

    schema = json.loads((ROOT / "data/prepared/schema.json").read_text())
    features = list(schema["features"])
    row = pd.read_parquet(ROOT / "data/prepared/test.parquet").iloc[0]
    id_column = schema.get("id_column")
    customer = {id_column: str(row[id_column])} if id_column else {}
    customer.update({c: (None if pd.isna(row[c]) else row[c]) for c in features})
    body = json.dumps(customer, default=float).encode()
    features_only = {c: customer[c] for c in features}
    bodies = {"MLflow": json.dumps({"dataframe_records": [features_only]}, default=float).encode()}

    kinds = [
        ("compiled", "/predict"),
        ("explained", "/predict?explain=true"),  # the compiled server, with reason codes
        ("naive", "/predict"),
        ("no-op", "/noop"),
        ("A/B", "/predict"),
    ]
    if args.mlflow_python:
        kinds.append(("MLflow", "/invocations"))
    rounds: dict[str, list[dict[str, float]]] = {kind: [] for kind, _ in kinds}
    with tempfile.TemporaryDirectory(prefix="churnops-bench-serve-") as logs:
        ports = {kind: _free_port() for kind, _ in kinds}
        ports["explained"] = ports["compiled"]
        servers = {}
        try:
            for kind, _ in kinds:
                if kind != "explained":
                    servers[kind] = _start(kind, ports[kind], Path(logs), args.mlflow_python)
            requests = {k: _request(path, bodies.get(k, body)) for k, path in kinds}
            for kind, _ in kinds:  # warm-up
                _measure(ports[kind], requests[kind], 1.0)
            # rounds alternate the servers, so a slow spell of the machine hits all of them
            for i in range(args.rounds):
                for kind, path in kinds:
                    print(f"round {i + 1}/{args.rounds}: {kind} {path}", file=sys.stderr)
                    rounds[kind].append(_measure(ports[kind], requests[kind], args.seconds))
        finally:
            for server in servers.values():
                server.terminate()
                server.wait(timeout=30)

    results = {}
    for kind, measured in rounds.items():
        ms = np.asarray([t for m in measured for t in m["latencies"]]) * 1000
        results[kind] = {
            "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)),
            "rps_1": float(np.median([m["rps_1"] for m in measured])),
            "rps_16": float(np.median([m["rps_16"] for m in measured])),
        }

    print(
        f"\nsingle-customer POST; {args.rounds} rounds of {args.seconds:g} s per server and "
        f"concurrency, servers alternating; 1 uvicorn worker each, 2 cores"
    )
    print("p50/p99 over every request at c=1; req/s: median over the rounds")
    print(f"{'server':<10}{'p50 ms':>9}{'p99 ms':>9}{'req/s c=1':>12}{'req/s c=16':>12}")
    kept = Results("serve")
    kept.note(
        f"Single-customer POSTs; {args.rounds} rounds of {args.seconds:g} s per server and "
        "concurrency, servers alternating, one uvicorn worker each; p50/p99 over every request at "
        "c=1, requests/s the median over the rounds. The client shares the cores with the "
        "servers: compare the ratios, not the times."
    )
    for kind, r in results.items():
        print(
            f"{kind:<10}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['rps_1']:>12.0f}{r['rps_16']:>12.0f}"
        )
        kept.add(
            f"{kind}: p50 / p99 at c=1; requests/s at c=1 and c=16",
            f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f} ms; {r['rps_1']:,.0f} and {r['rps_16']:,.0f}",
        )
    fast, naive, ceiling, split = (results[k] for k in ("compiled", "naive", "no-op", "A/B"))
    explained = results["explained"]
    ratios = [
        (
            "compiled vs naive",
            f"p99 {naive['p99_ms'] / fast['p99_ms']:.1f}x lower, p50 "
            f"{naive['p50_ms'] / fast['p50_ms']:.1f}x lower, throughput c=16 "
            f"{fast['rps_16'] / naive['rps_16']:.1f}x",
            "",
        ),
        (
            "compiled vs the no-op ceiling",
            f"throughput c=1 {fast['rps_1'] / ceiling['rps_1']:.2f}x, c=16 "
            f"{fast['rps_16'] / ceiling['rps_16']:.2f}x",
            ">= 0.7x at c=1",
        ),
        (
            "A/B split vs compiled",
            f"p99 {split['p99_ms'] / fast['p99_ms']:.3f}x "
            f"({(split['p99_ms'] / fast['p99_ms'] - 1) * 100:+.1f}%), p50 "
            f"{split['p50_ms'] / fast['p50_ms']:.3f}x, throughput c=16 "
            f"{split['rps_16'] / fast['rps_16']:.2f}x",
            "p99 within 5%",
        ),
        (
            "?explain=true vs plain compiled",
            f"p99 {explained['p99_ms'] / fast['p99_ms']:.2f}x, p50 "
            f"{explained['p50_ms'] / fast['p50_ms']:.2f}x",
            "p99 <= 2x",
        ),
    ]
    if "MLflow" in results:
        mlflow = results["MLflow"]
        ratios.append(
            (
                "compiled vs `mlflow models serve`",
                f"p99 {mlflow['p99_ms'] / fast['p99_ms']:.1f}x lower, p50 "
                f"{mlflow['p50_ms'] / fast['p50_ms']:.1f}x lower, throughput c=1 "
                f"{fast['rps_1'] / mlflow['rps_1']:.1f}x, c=16 "
                f"{fast['rps_16'] / mlflow['rps_16']:.1f}x",
                "p99 >= 14x lower",
            )
        )
    print()
    for name, value, target in ratios:
        print(f"{name}: {value}" + (f" (target: {target})" if target else ""))
        kept.add(name, value, target)
    kept.save(args.results, sys.argv[1:])


if __name__ == "__main__":
    main()
