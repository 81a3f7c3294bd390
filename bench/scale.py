"""Scaling benchmark (figures printed, all from one run):

Batch scoring of synthetic Telco-shaped data (`churnops synth`, Parquet parts of 250k rows) at
several sizes (default 1M, 10M and 30M rows) on five engines: in-process with ONNX Runtime on
two threads (`local`, the command's default) and on one (`local-1`), a Dask LocalCluster of one
worker and one of two workers (one thread each), and two one-thread in-process runs side by
side, each on every other file (`2x-local-1`: what two processes reach here without Dask). Each
run is its own process; a sampler reads the RSS of every process of its tree (the client, the
scheduler, the nannies, the workers) every 0.1 s. Printed per run: the cluster's start-up
time, the scoring time, rows/s, the peak RSS of the largest process and of the client, and per
engine the growth exponent k of time ~ rows^k (least squares on log-log) and the throughput
per worker against each in-process run (a worker has one thread, so `local-1` is its like).
Every run's parts are checked to be the same bytes as the first engine's.

Then the partitioned monitor (`churnops monitor`, every check and the Evidently page) on the
sizes of --monitor-rows (default 1M and 10M), in-process and on two workers: the command's wall
time, rows/s and peak RSS, and whether the JSON reports are the same on both engines.

Needs the pipeline's outputs (`make repro`). Usage:
    python bench/scale.py [--rows 1000000,10000000,30000000]
        [--engines local,local-1,dask-1,dask-2,2x-local-1]
        [--monitor-rows 1000000,10000000] [--results F]
The figures are kept in bench/results/scale.json, which docs/scale.md is rendered from.
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
from bench_results import Results, add_option

ROOT = Path(__file__).resolve().parents[1]
PART_ROWS = 250_000  # 4 parts per million rows, so two workers share even the smallest size
ENGINES = {  # name: (scheduler, workers, ONNX Runtime threads in-process)
    "local": ("local", 1, 2),
    "local-1": ("local", 1, 1),
    "dask-1": ("dask-local", 1, 1),
    "dask-2": ("dask-local", 2, 1),
    # two in-process runs side by side, each on every other file: what two processes reach on
    # this machine without Dask (the ceiling for two workers)
    "2x-local-1": ("local", 2, 1),
}

# The scoring run: engine start and scoring timed apart, counts and timings as one JSON line.
_RUN = """
import json, sys, time
from pathlib import Path
from churnops.compute.engine import engine
from churnops.data.contract import Contract
from churnops.data import parts
from churnops.serving import artifact, batch_dataset
from churnops.serving.settings import Settings

source, output, scheduler = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
workers, threads = int(sys.argv[4]), int(sys.argv[5])
settings = Settings()
model = artifact.load(settings.model_path, settings.meta_path, settings.schema_path,
                      compiled_dir=settings.compiled_path, engine="onnx", threads=threads)
contract = Contract(model.schema, "reject")
files = parts.input_files(source)
if len(sys.argv) > 6:  # "i/n": every n-th file from the i-th (one of n processes side by side)
    first, step = map(int, sys.argv[6].split("/"))
    files = files[first::step]
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
    scheduler, workers, threads = ENGINES[engine]
    if scheduler == "local" and workers > 1:
        return _side_by_side(source, output, engine)
    command = [sys.executable, "-c", _RUN, str(source), str(output), scheduler, str(workers)]
    out, peaks = _sampled([*command, str(threads)], f"scoring on {engine}")
    result = json.loads(out.strip().splitlines()[-1])
    result.update(peaks)
    result["digest"] = _digest(output)
    return result


def _side_by_side(source: Path, output: Path, engine: str) -> dict:
    """`workers` in-process runs at once, each on its share of the files: the slowest one's
    time; the parts are numbered per run, so they are not compared."""
    _, workers, threads = ENGINES[engine]
    runs: list[dict] = []

    def one(i: int) -> None:
        command = [sys.executable, "-c", _RUN, str(source), str(output / f"run-{i}"), "local"]
        out, peaks = _sampled([*command, "1", str(threads), f"{i}/{workers}"], engine)
        runs.append({**json.loads(out.strip().splitlines()[-1]), **peaks})

    threads_ = [threading.Thread(target=one, args=(i,)) for i in range(workers)]
    for thread in threads_:
        thread.start()
    for thread in threads_:
        thread.join()
    if len(runs) != workers:
        raise SystemExit(f"scoring on {engine} failed")
    return {
        "startup": 0.0,
        "scoring": max(r["scoring"] for r in runs),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "client_rss_mb": max(r["client_rss_mb"] for r in runs),
        "digest": None,
    }


def _sampled(command: list[str], what: str) -> tuple[str, dict[str, float]]:
    """Run `command`, sampling its tree's memory; its stdout and the peak RSS (MB) of the largest
    process and of the command's own."""
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = _Sampler(psutil.Process(process.pid))
    sampler.start()
    out, err = process.communicate()
    sampler.stop.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{what} failed:\n{err[-3000:]}")
    return out, {
        "peak_rss_mb": max(sampler.peaks.values()) / 2**20,
        "client_rss_mb": sampler.peaks.get(process.pid, 0) / 2**20,
    }


def _monitor(source: Path, output: Path, engine: str) -> dict:
    scheduler, workers, _ = ENGINES[engine]
    command = [sys.executable, "-m", "churnops.cli", "monitor", "--batch", str(source)]
    command += ["--out-dir", str(output), "--scheduler", scheduler, "--workers", str(workers)]
    # the run's history and deliveries beside its reports, not in the project's logs/
    command += ["--history", str(output / "history.jsonl")]
    command += ["--delivery-log", str(output / "alerts.jsonl")]
    started = time.perf_counter()
    _, peaks = _sampled(command, f"monitoring on {engine}")
    reports = {
        p.name: p.read_bytes() for p in sorted(output.glob("*.json")) if p.name != "evidently.json"
    }
    return {"wall": time.perf_counter() - started, **peaks, "reports": reports}


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
    parser.add_argument("--monitor-rows", default="1000000,10000000", help="'' for none")
    add_option(parser, "scale")
    args = parser.parse_args()
    sizes = [int(r) for r in args.rows.split(",")]
    monitored = [int(r) for r in args.monitor_rows.split(",") if r]
    engines = args.engines.split(",")
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise SystemExit(f"--engines: unknown {unknown}; choose from {list(ENGINES)}")
    results: dict[tuple[int, str], dict] = {}
    monitors: dict[tuple[int, str], dict] = {}
    with tempfile.TemporaryDirectory(prefix="churnops-bench-scale-", dir=ROOT / ".tmp") as tmp:
        work = Path(tmp)
        for rows in sorted(set(sizes) | set(monitored)):
            source = work / f"synthetic-{rows}"
            started = time.perf_counter()
            _synthesize(rows, source)
            size = sum(p.stat().st_size for p in source.iterdir()) / 1e6
            took = time.perf_counter() - started
            print(f"{rows:,} synthetic rows in {took:.1f} s ({size:,.0f} MB)", file=sys.stderr)
            for engine in engines if rows in sizes else []:
                output = work / f"out-{rows}-{engine}"
                results[rows, engine] = _score(source, output, engine)
                r = results[rows, engine]
                print(f"  {engine}: {r['scoring']:.1f} s", file=sys.stderr)
                shutil.rmtree(output)
            for engine in ("local", "dask-2") if rows in monitored else ():
                output = work / f"monitor-{rows}-{engine}"
                monitors[rows, engine] = _monitor(source, output, engine)
                print(
                    f"  monitor {engine}: {monitors[rows, engine]['wall']:.1f} s", file=sys.stderr
                )
                shutil.rmtree(output)
            shutil.rmtree(source)

    kept = Results("scale")
    kept.note(
        "Start-up is the cluster's start; scoring covers every part; RSS is the largest process "
        "of the run's tree, the client the command's own process. k: scoring time ~ rows^k, least "
        "squares over the sizes. Per worker: rows/s per worker over the in-process run's rows/s "
        "(`local-1` has one thread, a worker's like). The monitor's time is the whole command's "
        "(start-up and the Evidently page included)."
    )
    print("\nbatch scoring (churnops predict on a folder of parts), Parquet in and out")
    head = f"{'rows':>12} {'engine':<11}{'start s':>8}{'score s':>9}{'rows/s':>12}"
    print(head + f"{'per worker':>12}{'peak RSS MB':>13}{'client MB':>11}  same bytes")
    for (rows, engine), r in results.items():
        rate = rows / r["scoring"]
        per_worker = rate / ENGINES[engine][1]
        first = results.get((rows, engines[0]), r)["digest"]
        same = "-" if r["digest"] is None else "yes" if r["digest"] == first else "NO"
        print(
            f"{rows:>12,} {engine:<11}{r['startup']:>8.1f}{r['scoring']:>9.1f}{rate:>12,.0f}"
            f"{per_worker:>12,.0f}{r['peak_rss_mb']:>13,.0f}{r['client_rss_mb']:>11,.0f}  "
            f"{same}"
        )
        kept.add(
            f"scoring {rows:,} rows, `{engine}`",
            f"start {r['startup']:.1f} s, score {r['scoring']:.1f} s, {rate:,.0f} rows/s "
            f"({per_worker:,.0f} per worker); peak RSS {r['peak_rss_mb']:,.0f} MB (client "
            f"{r['client_rss_mb']:,.0f}); same bytes: {same}",
            "peak RSS < 1,500 MB",
        )
    print("\ngrowth exponent k (scoring time ~ rows^k) and throughput per worker vs in-process")
    for engine in engines:
        k = _exponent([(rows, results[rows, engine]["scoring"]) for rows in sizes])
        shown = "-" if k is None else f"{k:.3f}"
        versus = [
            f"per worker / {base}: {', '.join(_ratios(results, sizes, engine, base))}"
            for base in ("local", "local-1")
            if base in engines and engine not in ("local", "local-1")
        ]
        print(f"{engine:<11} k = {shown}" + "".join(f"; {v}" for v in versus))
        kept.add(
            f"`{engine}`: growth exponent k; per worker at each size",
            "; ".join([f"k = {shown}", *versus]),
        )
    if monitors:
        _print_monitors(monitors, monitored, kept)
    kept.save(args.results, sys.argv[1:])


def _ratios(results: dict, sizes: list[int], engine: str, base: str) -> list[str]:
    """Rows/s per worker of `engine` over `base`'s rows/s, at each size."""
    out = []
    for rows in sizes:
        mine = rows / results[rows, engine]["scoring"] / ENGINES[engine][1]
        out.append(f"{mine / (rows / results[rows, base]['scoring']):.2f}")
    return out


def _print_monitors(monitors: dict, sizes: list[int], kept: Results) -> None:
    print("\nmonitoring (churnops monitor on the folder of parts: every check, the Evidently page)")
    print(
        f"{'rows':>12} {'engine':<11}{'wall s':>8}{'rows/s':>12}{'peak RSS MB':>13}  same reports"
    )
    for (rows, engine), r in monitors.items():
        same = r["reports"] == monitors[rows, "local"]["reports"]
        print(
            f"{rows:>12,} {engine:<11}{r['wall']:>8.1f}{rows / r['wall']:>12,.0f}"
            f"{r['peak_rss_mb']:>13,.0f}  {'yes' if same else 'NO'}"
        )
        kept.add(
            f"`churnops monitor` on {rows:,} rows, `{engine}`",
            f"{r['wall']:.1f} s ({rows / r['wall']:,.0f} rows/s); peak RSS "
            f"{r['peak_rss_mb']:,.0f} MB; the same reports as in-process: "
            f"{'yes' if same else 'NO'}",
        )
    k = _exponent([(rows, monitors[rows, "local"]["wall"]) for rows in sizes])
    if k is not None:
        print(
            f"monitor in-process k = {k:.3f} (wall time, start-up and the Evidently page included)"
        )
        kept.add("`churnops monitor` in-process: growth exponent k", f"{k:.3f}")


if __name__ == "__main__":
    main()
