"""Batch-scoring benchmark (figures printed, all from one run):

`churnops predict` on N rows (default 1,000,000) resampled with replacement (seeded by
`base.seed`) from the held-out test split, Parquet in and Parquet out, with the compiled engine
(ONNX Runtime) and with scikit-learn, each in its own process: wall time, rows/s and the
process's peak RSS. Then checks that the two outputs agree (same rows scored and rejected,
largest |Δ probability|).

Needs the pipeline's outputs (`make repro`). Usage: python bench/batch.py [--rows N] [--results F]
(the figures are kept in bench/results/batch.json, which docs/benchmarks.md is rendered from)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_results import Results, add_option

from churnops.params import get_number, load_params

ROOT = Path(__file__).resolve().parents[1]

# Runs a command and prints the peak RSS (KiB) of its process tree's largest member.
_MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(code)\n"
)


def _score(engine: str, source: Path, output: Path) -> dict[str, float]:
    command = [
        sys.executable,
        "-c",
        _MEASURE,
        sys.executable,
        "-m",
        "churnops.cli",
        "predict",
        "--input",
        str(source),
        "--output",
        str(output),
        "--engine",
        engine,
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"churnops predict --engine {engine} failed:\n{done.stderr[-2000:]}")
    lines = done.stdout.strip().splitlines()
    print(f"  {lines[-2]}", file=sys.stderr)
    return {"seconds": seconds, "peak_rss_mb": int(lines[-1]) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    add_option(parser, "batch")
    args = parser.parse_args()

    seed = get_number(load_params(ROOT / "params.yaml"), "base.seed", integer=True, low=0)
    test = pd.read_parquet(ROOT / "data/prepared/test.parquet")
    with tempfile.TemporaryDirectory(prefix="churnops-bench-batch-") as folder:
        work = Path(folder)
        source = work / "customers.parquet"
        test.sample(args.rows, replace=True, random_state=seed).reset_index(drop=True).to_parquet(
            source, index=False
        )
        print(
            f"{args.rows:,} rows resampled from {len(test):,} test rows (seed {seed}): "
            f"{source.stat().st_size / 1e6:.1f} MB Parquet",
            file=sys.stderr,
        )
        results = {}
        for engine in ("onnx", "sklearn"):
            print(f"scoring with {engine} ...", file=sys.stderr)
            results[engine] = _score(engine, source, work / f"{engine}.parquet")

        outputs = {e: pd.read_parquet(work / f"{e}.parquet") for e in results}
        rejects = {e: pd.read_parquet(work / f"{e}.rejects.parquet") for e in results}
        same_rows = outputs["onnx"]["row"].equals(outputs["sklearn"]["row"])
        same_rejects = rejects["onnx"]["row"].equals(rejects["sklearn"]["row"])
        delta = np.abs(
            outputs["onnx"]["probability"].to_numpy() - outputs["sklearn"]["probability"].to_numpy()
        )
        decisions = int((outputs["onnx"]["decision"] != outputs["sklearn"]["decision"]).sum())

    kept = Results("batch")
    print(f"\nchurnops predict, {args.rows:,} rows, Parquet in and out, each engine in its process")
    print(f"{'engine':<10}{'seconds':>9}{'rows/s':>12}{'peak RSS MB':>13}")
    for engine, r in results.items():
        rate = args.rows / r["seconds"]
        print(f"{engine:<10}{r['seconds']:>9.2f}{rate:>12,.0f}{r['peak_rss_mb']:>13,.0f}")
        kept.add(
            f"`churnops predict --engine {engine}`, {args.rows:,} rows, whole command",
            f"{r['seconds']:.2f} s ({rate:,.0f} rows/s), peak RSS {r['peak_rss_mb']:,.0f} MB",
        )
    ratio = results["onnx"]["seconds"] / results["sklearn"]["seconds"]
    print(f"\nonnx / sklearn time: {ratio:.2f}x")
    kept.add("onnx / sklearn time, same run", f"{ratio:.2f}x")
    agreement = {
        "same_rows_scored": bool(same_rows),
        "same_rows_rejected": bool(same_rejects),
        "scored": len(outputs["onnx"]),
        "rejected": len(rejects["onnx"]),
        "max_abs_diff_probability": float(delta.max(initial=0.0)),
        "decisions_that_differ": decisions,
    }
    print(json.dumps(agreement))
    kept.add(
        "the two engines' outputs",
        f"{agreement['scored']:,} scored and {agreement['rejected']:,} rejected by both: "
        f"{'the same' if same_rows and same_rejects else 'NOT the same'} rows; max |Δp| "
        f"{agreement['max_abs_diff_probability']:.1e}; {decisions} decisions differ",
        "the same rows, 0 decisions differ",
    )
    kept.save(args.results, sys.argv[1:])


if __name__ == "__main__":
    main()
