"""Drift benchmark (figures printed, all from one run):

1. detection: for each scenario of params `simulate` at its documented magnitude, the share of
   100 seeded resamples of the held-out rows on which the monitor raises a Warning or Critical
   alert; for `none`, the share with any such alert (false alarms);
2. speed: the monitor's checks (typing, scoring, quality, drift, alerts) on 7k, 100k and 1M-row
   batches beside a plain scipy loop (KS / chi-square per column) on the same rows, plus the
   Evidently report on its seeded sample; peak traced memory of the monitor's checks.

Needs the pipeline's outputs (`make repro`). Usage: python bench/drift.py [--resamples N]
[--results F] (the figures are kept in bench/results/drift.json, which docs/benchmarks.md is
rendered from)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import joblib
import pandas as pd
from bench_results import Results, add_option
from scipy import stats

from churnops.data import cleaning
from churnops.files import read_json
from churnops.monitoring import batch_monitor, evidently_report, monitor, simulate
from churnops.params import load_params

ROOT = Path(__file__).resolve().parents[1]
P, L = monitor.PREDICTION, monitor.LABEL


class Monitor:
    """The monitor stage's checks, set up once from the project's params and outputs."""

    def __init__(self) -> None:
        self.params = load_params(ROOT / "params.yaml")
        self.spec = cleaning.DataSpec.from_params(self.params)
        self.schema = read_json(ROOT / "data/prepared/schema.json")
        self.model = joblib.load(ROOT / "models/model.joblib")
        self.kinds = {c: f["kind"] for c, f in self.schema["features"].items()}
        train = pd.read_parquet(ROOT / "data/prepared/train.parquet")
        self.test = pd.read_parquet(ROOT / "data/prepared/test.parquet")
        self.reference = self.typed(train)
        # what the monitor stage checks a batch against (the served decision threshold, ...)
        self.checks = batch_monitor.checks(
            self.params,
            read_json(ROOT / "models/model_meta.json"),
            read_json(ROOT / "reports/evaluate/metrics.json"),
            read_json(ROOT / "reports/evaluate/classification_report.json"),
            self.spec.positive_label,
        )

    def typed(self, rows: pd.DataFrame) -> pd.DataFrame:
        return monitor.scored_rows(
            rows,
            self.schema,
            self.model,
            target=self.spec.target,
            positive_label=self.spec.positive_label,
        )

    def assess(self, rows: pd.DataFrame) -> dict:
        return monitor.assess(self.reference, self.typed(rows), self.schema, self.checks)


def detection(m: Monitor, resamples: int, kept: Results) -> None:
    settings = m.params["simulate"]
    print(
        f"\nDetection over {resamples} seeded resamples of the {len(m.test)} held-out rows "
        "(alert level Warning or Critical):"
    )
    print(f"{'scenario':<16}{'magnitude':<52}{'rate':>7}  alerts that fired (share of runs)")
    for scenario in simulate.SCENARIOS:
        changes = simulate.settings_for(scenario, settings)
        hits, fired = 0, {}
        for seed in range(resamples):
            rows = simulate.resample(m.test, len(m.test), seed)
            batch = simulate.apply(
                rows, scenario, changes, target=m.spec.target, labels=m.spec.labels, seed=seed
            )
            alerts = m.assess(batch)["alerts"]
            serious = [a for a in alerts["alerts"] if a["level"] in ("warning", "critical")]
            hits += bool(serious)
            for a in serious:
                fired[a["rule"]] = fired.get(a["rule"], 0) + 1
        label = "false alarms" if scenario == "none" else "detected"
        summary = ", ".join(f"{k} {v / resamples:.0%}" for k, v in sorted(fired.items()))
        print(
            f"{scenario:<16}{changes or '-'!s:<52}{hits / resamples:>6.0%}  "
            f"{label}; {summary or 'none'}"
        )
        kept.add(
            f"scenario `{scenario}`{f' {changes}' if changes else ''}: Warning or Critical, "
            f"{resamples} resamples",
            f"{hits / resamples:.0%} {label}; alerts: {summary or 'none'}",
            "low" if scenario == "none" else "high",
        )


def multiplicative(
    m: Monitor, resamples: int, kept: Results, percents: tuple[int, ...] = (5, 10)
) -> None:
    """Detection of a multiplicative rise of each numeric column (every value times 1 + p%),
    column by column: the share of resamples in which that column drifts, in which a derived
    feature built from it drifts, and in which the monitor raises a Warning or Critical alert."""
    numeric = [c for c, k in m.kinds.items() if k == "numeric"]
    print(f"\nMultiplicative shifts, {resamples} seeded resamples of {len(m.test)} held-out rows:")
    print(f"{'column':<18}{'rise':>6}{'column drifts':>15}{'derived drifts':>16}{'alert':>8}")
    for column in numeric:
        for percent in percents:
            drifts = derived = alerts = 0
            for seed in range(resamples):
                rows = simulate.resample(m.test, len(m.test), seed)
                rows[column] = rows[column] * (1 + percent / 100)
                result = m.assess(rows)
                drifts += result["drift"]["columns"][column]["drifted"]
                derived += any(
                    r["drifted"] and column in r["from"]
                    for r in result["drift"]["derived"].values()
                )
                alerts += any(
                    a["level"] in ("warning", "critical") for a in result["alerts"]["alerts"]
                )
            print(
                f"{column:<18}{percent:>5}%{drifts / resamples:>15.0%}"
                f"{derived / resamples:>16.0%}{alerts / resamples:>8.0%}"
            )
            kept.add(
                f"{column} +{percent}% (every value), {resamples} resamples",
                f"column drifts {drifts / resamples:.0%}, a derived feature "
                f"{derived / resamples:.0%}, alert {alerts / resamples:.0%}",
            )


def scipy_loop(reference: pd.DataFrame, batch: pd.DataFrame, kinds: dict) -> None:
    """The baseline: one KS or chi-square test per column, nothing else."""
    for column, kind in kinds.items():
        if kind == "numeric":
            a = reference[column].dropna().to_numpy()
            b = batch[column].dropna().to_numpy()
            stats.ks_2samp(a, b, method="asymp")
        else:
            counts = (
                pd.concat([reference[column].value_counts(), batch[column].value_counts()], axis=1)
                .fillna(0)
                .to_numpy()
            )
            stats.chi2_contingency(counts.T)


def one_size(m: Monitor, n: int) -> dict:
    """Time the monitor's checks, the scipy loop and Evidently on one batch size; peak RSS."""
    sample_rows = m.params["monitor"]["evidently_sample_rows"]
    seed = m.params["base"]["seed"]
    rows = simulate.resample(m.test, n, seed)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    typed_rows = m.typed(rows)
    monitor.assess(m.reference, typed_rows, m.schema, m.checks)
    monitor_s = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    scipy_loop(m.reference, typed_rows, m.kinds)
    loop_s = time.perf_counter() - start
    start = time.perf_counter()
    evidently_report.build(
        evidently_report.sample(m.reference, sample_rows, seed),
        evidently_report.sample(typed_rows, sample_rows, seed),
        m.kinds,
        target=L,
        prediction=P,
        labelled=L in typed_rows,
        threshold=m.checks.threshold,
        alpha=m.checks.alpha,
        drift_share=m.checks.drift_share,
    )
    evidently_s = time.perf_counter() - start
    return {
        "rows": n,
        "monitor_s": monitor_s,
        "loop_s": loop_s,
        "evidently_s": evidently_s,
        "rss_before_mib": before,
        "rss_peak_mib": peak,
    }


def speed(sizes: list[int], kept: Results) -> None:
    """Each size in a fresh process, so its peak RSS is its own."""
    print(
        "\nMonitor speed (scipy statistics on all rows, including scoring the batch; "
        "Evidently on its sample):"
    )
    print(
        f"{'rows':>10}{'monitor s':>11}{'scipy loop s':>14}{'evidently s':>13}"
        f"{'ratio':>8}{'peak RSS MiB':>14}"
    )
    for n in sizes:
        child = subprocess.run(
            [sys.executable, __file__, "--one-size", str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(child.stdout.strip().splitlines()[-1])
        ratio = r["monitor_s"] / (r["loop_s"] + r["evidently_s"])
        print(
            f"{n:>10,}{r['monitor_s']:>11.2f}{r['loop_s']:>14.2f}{r['evidently_s']:>13.2f}"
            f"{ratio:>7.2f}x{r['rss_peak_mib']:>9.0f} (from {r['rss_before_mib']:.0f})"
        )
        kept.add(
            f"monitor on {n:,} rows vs scipy loop + Evidently on its sample",
            f"{r['monitor_s']:.2f} s vs {r['loop_s']:.2f} s + {r['evidently_s']:.2f} s: "
            f"{ratio:.2f}x; peak RSS {r['rss_peak_mib']:,.0f} MiB",
        )
    print("ratio = monitor / (scipy loop + Evidently on the sample)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--resamples", type=int, default=100)
    parser.add_argument("--sizes", type=int, nargs="+", default=[7_043, 100_000, 1_000_000])
    parser.add_argument("--one-size", type=int, help=argparse.SUPPRESS)
    add_option(parser, "drift")
    args = parser.parse_args()
    if not (ROOT / "models/model.joblib").exists():
        sys.exit("bench: run `make repro` first (needs the model and the prepared data)")
    if args.one_size:
        print(json.dumps(one_size(Monitor(), args.one_size)))
        return
    m = Monitor()
    kept = Results("drift")
    detection(m, args.resamples, kept)
    multiplicative(m, args.resamples, kept)
    speed(args.sizes, kept)
    kept.note(
        "The monitor's time includes scoring the batch with the model, which the scipy loop "
        "does not do; each size runs in its own process, so its peak RSS is its own."
    )
    kept.save(args.results, sys.argv[1:])


if __name__ == "__main__":
    main()
