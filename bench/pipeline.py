"""Pipeline benchmark, all figures from one run on a fresh clone of the committed HEAD:

1. `dvc repro` on the fresh clone, as `make repro` runs it there (the stages whose outputs git
   does not hold run; the others are already current);
2. a no-op `dvc repro` beside `dvc status` (medians of interleaved repeats, and their ratio);
3. the train stage alone (`dvc repro --force --single-item train`) beside PyCaret 3 doing
   compare + blend + tune for the same candidates on the same train split (and its ratio).

Usage: python bench/pipeline.py [--repeats N] [--pycaret-python PATH] [--results F]
(or `make bench-pipeline`; the figures are kept in bench/results/pipeline.json, which
docs/benchmarks.md is rendered from)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml
from bench_results import Results, add_option

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _timed(command: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(
        command, cwd=cwd, env=_env(), capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"bench: {' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return seconds, result.stdout + result.stderr


def _dvc(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvc", *args]


def _pycaret(clone: Path, python: str, workdir: Path) -> dict:
    params = yaml.safe_load((clone / "params.yaml").read_text())
    for split in ("train", "test"):
        pd.read_parquet(clone / f"data/prepared/{split}.parquet").to_csv(
            workdir / f"{split}.csv", index=False
        )
    settings = {
        "seed": params["base"]["seed"],
        "folds": params["train"]["cv_folds"],
        "n_jobs": params["base"]["n_jobs"],
        "target": params["base"]["target"],
        "id_column": params["base"]["id_column"],
        "candidates": params["train"]["candidates"],
    }
    (workdir / "settings.json").write_text(json.dumps(settings))
    seconds, output = _timed(
        [
            python,
            str(ROOT / "bench" / "pycaret_baseline.py"),
            str(workdir / "train.csv"),
            str(workdir / "test.csv"),
            str(workdir / "settings.json"),
        ],
        workdir,
    )
    # PyCaret logs warnings around it: the result is the last line that is a JSON object
    result = json.loads(next(ln for ln in reversed(output.splitlines()) if ln.startswith("{")))
    result["process_seconds"] = seconds
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pycaret-python", default=str(ROOT / ".venv-pycaret" / "bin" / "python"))
    add_option(parser, "pipeline")
    args = parser.parse_args()
    # relative to where the command was typed, not to the temporary clone it later runs in
    args.pycaret_python = str(Path(args.pycaret_python).absolute())
    args.results = args.results.absolute()
    kept = Results("pipeline")
    if subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip():
        print("bench: note: uncommitted changes are not benchmarked (a clone of HEAD is)")

    with tempfile.TemporaryDirectory(prefix="churnops-bench-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        print(f"bench: fresh clone of {ROOT} at HEAD; {os.cpu_count()} cores")

        scratch, said = _timed(_dvc("repro"), clone)
        ran = said.count("Running stage")
        declared = len(yaml.safe_load((clone / "dvc.yaml").read_text())["stages"])
        print(f"dvc repro on the fresh clone: {scratch:.1f} s ({ran} of {declared} stages ran)")
        kept.add(
            f"`dvc repro` on a fresh clone: {ran} of {declared} stages ran (the others' outputs "
            "are in git)",
            f"{scratch:.1f} s",
        )

        noop, status = [], []
        for _ in range(args.repeats):
            noop.append(_timed(_dvc("repro"), clone)[0])
            status.append(_timed(_dvc("status"), clone)[0])
        noop_s, status_s = statistics.median(noop), statistics.median(status)
        print(
            f"no-op dvc repro: {noop_s:.2f} s   dvc status: {status_s:.2f} s   "
            f"ratio {noop_s / status_s:.2f}x  (medians of {args.repeats})"
        )
        kept.add(
            f"no-op `dvc repro` vs `dvc status` (medians of {args.repeats})",
            f"{noop_s:.2f} s vs {status_s:.2f} s ({noop_s / status_s:.2f}x)",
        )

        train_s, _ = _timed(_dvc("repro", "--force", "--single-item", "train"), clone)
        print(f"train stage (dvc repro --force --single-item train): {train_s:.1f} s")
        kept.add("the train stage (`dvc repro --force --single-item train`)", f"{train_s:.1f} s")

        if not Path(args.pycaret_python).exists():
            print(
                f"PyCaret baseline skipped: no {args.pycaret_python} (`make bench-pipeline` "
                "installs it)"
            )
            kept.note("The PyCaret baseline was skipped: its environment was not installed.")
            kept.save(args.results, sys.argv[1:])
            return
        baseline = _pycaret(clone, args.pycaret_python, Path(tmp))
        t = baseline["timings"]
        work = t["compare"] + t["blend"] + t["tune"]
        print(
            f"PyCaret 3: setup {t['setup']:.1f} s, compare {t['compare']:.1f} s, blend "
            f"{t['blend']:.1f} s, tune {t['tune']:.1f} s; compare+blend+tune {work:.1f} s "
            f"(best {baseline['best']}, tuned CV AUC {baseline['tuned_cv_auc']:.4f})"
        )
        print(
            f"train stage / PyCaret compare+blend+tune: {train_s / work:.2f}x; "
            f"/ PyCaret incl. setup: {train_s / (work + t['setup']):.2f}x"
        )
        cv = json.loads((clone / "reports/train/cv_results.json").read_text())
        print(
            f"churnops tuned CV {cv['scoring']}: {cv['tuned']['mean']:.4f} "
            f"({cv['tuned']['candidate']})"
        )
        kept.add(
            "the train stage vs PyCaret 3 compare + blend + tune, same candidates and split",
            f"{train_s:.1f} s vs {work:.1f} s ({train_s / work:.2f}x; with PyCaret's setup "
            f"{train_s / (work + t['setup']):.2f}x)",
        )
        kept.add(
            f"tuned CV {cv['scoring']}: churnops vs PyCaret's best",
            f"{cv['tuned']['mean']:.4f} ({cv['tuned']['candidate']}) vs "
            f"{baseline['tuned_cv_auc']:.4f} ({baseline['best']})",
        )
    kept.save(args.results, sys.argv[1:])


if __name__ == "__main__":
    main()
