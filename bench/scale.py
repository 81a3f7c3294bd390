"""Scaling benchmark (figures printed, all from one run):

Batch scoring of synthetic Telco-shaped data (`churnops synth`, 1M-row Parquet parts) at several
sizes (default 1M, 10M and 30M rows) on three engines: in-process, a Dask LocalCluster of one
worker and one of two workers (one thread each). Each run is its own process; a sampler reads
the RSS of every process of its tree (the client, the scheduler, the nannies, the workers)
every 0.1 s. Printed per run: the cluster's start-up time, the scoring time, rows/s, the peak
RSS of the largest process and of the client, and per engine the growth exponent k of
time ~ rows^k (least squares on log-log) and the throughput per worker against the in-process
path. Every run's parts are checked to be the same bytes as the in-process run's.

Needs the pipeline's outputs (`make repro`). Usage:
    python bench/scale.py [--rows 1000000,10000000,30000000] [--engines local,dask-1,dask-2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
PART_ROWS = 1_000_000
ENGINES = {"local": ("local", 1), "dask-1": ("dask-local", 1), "dask-2": ("dask-local", 2)}

# The scoring run: engine start and scoring timed apart, counts and timings as one JSON line.
_RUN = """
import json, sys, time
from pathlib import Path
from churnops.compute.engine import engine
from churnops.data.contract import Contract
from churnops.serving import artifact, batch_dataset
from churnops.serving.settings import Settings

source, output, scheduler, workers = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
settings = Settings()
model = artifact.load(settings.model_path, settings.meta_path, settings.schema_path,
                      compiled_dir=settings.compiled_path, engine="onnx", threads=2)
contract = Contract(model.schema, "reject")
files = batch_dataset.input_files(source)
(output / "scores").mkdir(parents=True)
(output / "rejects").mkdir()
started = time.perf_counter()
with engine(scheduler, workers) as client:
    ready = time.perf_counter()
    counts = batch_dataset.score_dataset(files, model, contract, output=output / "scores",
                                         rejects=output / "rejects", chunk_rows=100_000,
                                         client=client)
    done = time.perf_counter()
print(json.dumps({"startup": ready - started, "scoring": done - ready, **counts}))
"""


class _Sampler(threading.Thread):
    """The peak RSS of every process in a tree, sampled every 0.1 s."""

    def __init__(self, root: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.root, self.peaks, self.stop = root, {}, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                tree = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for process in tree:
                try:
                    rss = process.memory_info().rss
                except psutil.Error:
                    continue
                self.peaks[process.pid] = max(self.peaks.get(process.pid, 0), rss)
            time.sleep(0.1)


def _synthesize(rows: int, folder: Path) -> None:
    command = [sys.executable, "-m", "churnops.cli", "synth", "--rows", str(rows)]
    command += ["--part-rows", str(PART_ROWS), "--out", str(folder), "--no-check"]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)


def _score(source: Path, output: Path, engine: str) -> dict:
    scheduler, workers = ENGINES[engine]
    command = [sys.executable, "-c", _RUN, str(source), str(output), scheduler, str(workers)]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = _Sampler(psutil.Process(process.pid))
    sampler.start()
    out, err = process.communicate()
    sampler.stop.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"scoring on {engine} failed:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = max(sampler.peaks.values()) / 2**20
    result["client_rss_mb"] = sampler.peaks.get(process.pid, 0) / 2**20
    result["digest"] = _digest(output)
    return result


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.parquet")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _exponent(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of log(time) on log(rows)."""
    if len(points) < 2:
        return None
    xs = [math.log(r) for r, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", default="1000000,10000000,30000000")
    parser.add_argument("--engines", default=",".join(ENGINES))
    args = parser.parse_args()
    sizes = [int(r) for r in args.rows.split(",")]
    engines = args.engines.split(",")
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise SystemExit(f"--engines: unknown {unknown}; choose from {list(ENGINES)}")
    results: dict[tuple[int, str], dict] = {}
    with tempfile.TemporaryDirectory(prefix="churnops-bench-scale-", dir=ROOT / ".tmp") as tmp:
        work = Path(tmp)
        for rows in sizes:
            source = work / f"synthetic-{rows}"
            started = time.perf_counter()
            _synthesize(rows, source)
            size = sum(p.stat().st_size for p in source.iterdir()) / 1e6
            took = time.perf_counter() - started
            print(f"{rows:,} synthetic rows in {took:.1f} s ({size:,.0f} MB)", file=sys.stderr)
            for engine in engines:
                output = work / f"out-{rows}-{engine}"
                results[rows, engine] = _score(source, output, engine)
                r = results[rows, engine]
                print(f"  {engine}: {r['scoring']:.1f} s", file=sys.stderr)
                shutil.rmtree(output)
            shutil.rmtree(source)

    print("\nbatch scoring (churnops predict on a folder of parts), Parquet in and out")
    head = f"{'rows':>12} {'engine':<8}{'start s':>8}{'score s':>9}{'rows/s':>12}"
    print(head + f"{'per worker':>12}{'peak RSS MB':>13}{'client MB':>11}  same bytes")
    for (rows, engine), r in results.items():
        rate = rows / r["scoring"]
        per_worker = rate / ENGINES[engine][1]
        same = r["digest"] == results.get((rows, engines[0]), r)["digest"]
        print(
            f"{rows:>12,} {engine:<8}{r['startup']:>8.1f}{r['scoring']:>9.1f}{rate:>12,.0f}"
            f"{per_worker:>12,.0f}{r['peak_rss_mb']:>13,.0f}{r['client_rss_mb']:>11,.0f}  "
            f"{'yes' if same else 'NO'}"
        )
    print("\ngrowth exponent k (scoring time ~ rows^k) and throughput per worker vs in-process")
    for engine in engines:
        k = _exponent([(rows, results[rows, engine]["scoring"]) for rows in sizes])
        shown = "-" if k is None else f"{k:.3f}"
        ratios = []
        if "local" in engines and engine != "local":
            for rows in sizes:
                local = rows / results[rows, "local"]["scoring"]
                mine = rows / results[rows, engine]["scoring"] / ENGINES[engine][1]
                ratios.append(f"{mine / local:.2f}")
        versus = f"; per worker / in-process: {', '.join(ratios)}" if ratios else ""
        print(f"{engine:<8} k = {shown}{versus}")


if __name__ == "__main__":
    main()
