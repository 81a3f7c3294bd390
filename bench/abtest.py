"""A/B test benchmark: the experiment design proven on a simulated world (figures printed, all
from one seeded run).

The world: customers drawn with replacement from the held-out split, each with its real label.
Two real scikit-learn pipelines score them at their own decision thresholds: the challenger is
the pipeline's model (`models/model.joblib`); the control is the same pipeline trained on
shuffled labels, a stand-in for an uninformed current policy, flagging as many customers (the
same offer budget). A
flagged customer who would churn is kept with probability `business.offer_success_rate`; every
other customer's outcome is its label. So each arm has a true churn rate, and the challenger's
true effect is their difference.

Each simulated experiment assigns synthetic customer ids to the arms with the service's own
salted hash (`churnops.abtest.assignment`) until both arms reach the planned units, and is
judged by `churnops.abtest.analysis.analyze`, the code `churnops abtest analyze` runs:

1. A/A (both arms the control): the rate of a false `go`, with its Wilson interval (target:
   at most alpha);
2. A/B at the planned effect (the plan's mde set to the true effect): the rate of `go` against
   the planned power (target: within 5 points);
3. daily peeking under A/A, 14 looks: the guarded boundary's false-positive rate (target: at most
   alpha) beside naive peeking at |z| >= 1.96 every day;
4. SRM: 3% of one arm's customers lost from the log, `--srm-units` customers per arm: the share
   flagged invalid (target: at least 95%).

Needs the pipeline's outputs (`make repro`). Usage: python bench/abtest.py [--runs N] [--results F]
(the figures are kept in bench/results/abtest.json, which docs/benchmarks.md is rendered from)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from bench_results import Results, add_option
from scipy.stats import norm
from sklearn.base import clone

from churnops.abtest import analysis, stats
from churnops.abtest.assignment import Splitter
from churnops.data.cleaning import binary_target
from churnops.files import read_json
from churnops.params import load_params

ROOT = Path(__file__).resolve().parents[1]
ARMS = ("control", "challenger")


class World:
    """The held-out customers, their labels, and each arm's flags."""

    def __init__(self, seed: int) -> None:
        params = load_params(ROOT / "params.yaml")
        base, self.params = params["base"], params
        meta = read_json(ROOT / "models/model_meta.json")
        threshold = meta["decision_threshold"]["value"]
        model = joblib.load(ROOT / "models/model.joblib")
        train = pd.read_parquet(ROOT / "data/prepared/train.parquet")
        test = pd.read_parquet(ROOT / "data/prepared/test.parquet")
        drop = [c for c in (base["target"], base["id_column"]) if c]
        y_train = binary_target(train[base["target"]], base["positive_label"])
        shuffled = np.random.default_rng(seed).permutation(y_train)
        uninformed = clone(model).fit(train.drop(columns=drop), shuffled)
        x = test.drop(columns=drop)
        self.y = binary_target(test[base["target"]], base["positive_label"]).astype(bool)
        challenger = model.predict_proba(x)[:, 1] >= threshold
        # the control spends the same budget: it flags as many customers, its top scores
        scores = uninformed.predict_proba(x)[:, 1]
        cut = np.quantile(scores, 1 - challenger.mean())
        self.flags = {"challenger": challenger, "control": scores >= cut}
        self.save = params["business"]["offer_success_rate"] if params.get("business") else 0.3

    def true_rate(self, arm: str) -> float:
        """The churn rate of a random customer under this arm's flags."""
        return float(np.mean(self.y) - self.save * np.mean(self.y & self.flags[arm]))


def _experiment(world, rng, *, run: int, planned: int, arm_models: dict[str, str]) -> pd.DataFrame:
    """One experiment's log: customers in arrival order until both arms reach `planned`."""
    splitter = Splitter(f"bench-{run}", list(ARMS), [0.5, 0.5])
    total = int(planned * 2.3)  # enough that both arms pass planned (checked below)
    ids = [f"r{run}-c{i}" for i in range(total)]
    arms = np.array([splitter.arm(i) for i in ids])
    picks = rng.integers(0, len(world.y), total)
    churner = world.y[picks]
    offered = np.empty(total, dtype=bool)
    for arm in ARMS:
        mine = arms == arm
        offered[mine] = world.flags[arm_models[arm]][picks[mine]]
    saved = offered & churner & (rng.random(total) < world.save)
    outcome = (churner & ~saved).astype(float)
    seen = {arm: np.cumsum(arms == arm) for arm in ARMS}
    enough = np.flatnonzero((seen["control"] >= planned) & (seen["challenger"] >= planned))
    if not len(enough):
        raise RuntimeError("too few customers generated for the planned units")
    end = enough[0] + 1
    return pd.DataFrame(
        {
            "record_id": ids[:end],
            "arm": arms[:end],
            "model_version": [arm_models[a] for a in arms[:end]],
            "decision": offered[:end],
            "latency_ms": 1.0,
            "logged_at": "",
            "outcome": outcome[:end],
        }
    )


def _rate(figures: Results, name: str, hits: int, runs: int, target: str) -> None:
    """Print a rate with its Wilson interval and keep it for the docs."""
    low, high = stats.wilson(hits, runs)
    print(f"{name:<46} {hits / runs:7.3f}  [{low:.3f}, {high:.3f}]  ({hits}/{runs}; {target})")
    value = f"{hits / runs:.3f} [{low:.3f}, {high:.3f}] ({hits:,}/{runs:,})"
    figures.add(name.strip(), value, target.removeprefix("target "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000, help="experiments per scenario")
    parser.add_argument("--days", type=int, default=14, help="looks in the peeking scenario")
    parser.add_argument("--srm-units", type=int, default=60_000, help="customers per arm, SRM")
    parser.add_argument("--seed", type=int, default=0)
    add_option(parser, "abtest")
    args = parser.parse_args()
    start = time.perf_counter()
    world = World(args.seed)
    config = world.params["abtest"]
    alpha, power = config["alpha"], config["power"]
    rates = {arm: world.true_rate(arm) for arm in ARMS}
    effect = rates["challenger"] - rates["control"]
    planned = stats.planned_units(rates["control"], effect, alpha=alpha, power=power)
    print(f"abtest bench: {args.runs} experiments per scenario, seed {args.seed}")
    print(
        f"  true churn rates: control {rates['control']:.4f} (offers "
        f"{world.flags['control'].mean():.1%}), challenger {rates['challenger']:.4f} (offers "
        f"{world.flags['challenger'].mean():.1%}); effect {effect:+.4f}"
    )
    print(
        f"  planned {planned:,} customers per arm (alpha {alpha}, power {power}, sequential guard)"
    )
    figures = Results("abtest")
    figures.note(
        f"{args.runs:,} experiments per scenario, seed {args.seed}. True churn rates: control "
        f"{rates['control']:.4f}, challenger {rates['challenger']:.4f} (effect {effect:+.4f}); "
        f"planned {planned:,} customers per arm (alpha {alpha}, power {power}, sequential guard)."
    )
    guard = {
        "max_offer_rate_increase": 1.0,
        "max_latency_ratio": 10.0,
        "max_error_rate_increase": 1.0,
    }
    judge = {"arms": list(ARMS), "shares": [0.5, 0.5], "planned": planned, "alpha": alpha,
             "better": config["better"], "guardrails": guard}  # fmt: skip
    rng = np.random.default_rng(args.seed)

    same = {"control": "control", "challenger": "control"}
    verdicts = [
        analysis.analyze(_experiment(world, rng, run=r, planned=planned, arm_models=same), **judge)[
            "verdict"
        ]
        for r in range(args.runs)
    ]
    _rate(figures, "1. A/A: false go", verdicts.count("go"), args.runs, f"target <= {alpha}")
    counts = pd.Series(verdicts).value_counts()
    print(f"   A/A verdicts: {', '.join(f'{v} {int(n)}' for v, n in counts.items())}")

    real = {"control": "control", "challenger": "challenger"}
    verdicts = [
        analysis.analyze(
            _experiment(world, rng, run=10**6 + r, planned=planned, arm_models=real), **judge
        )["verdict"]
        for r in range(args.runs)
    ]
    _rate(figures, "2. A/B at the planned effect: go (power)", verdicts.count("go"), args.runs,
          f"target {power} +- 0.05")  # fmt: skip

    guarded = naive = 0
    for r in range(args.runs):
        log = _experiment(world, rng, run=2 * 10**6 + r, planned=planned, arm_models=same)
        days = np.array_split(np.arange(len(log)), args.days)
        crossed_g = crossed_n = False
        for day in days:
            seen = log.iloc[: day[-1] + 1]
            counts = {a: seen.loc[seen["arm"] == a, "outcome"] for a in ARMS}
            k = [int(counts[a].sum()) for a in ARMS]
            n = [len(counts[a]) for a in ARMS]
            look = stats.look(k[0], n[0], k[1], n[1], planned=planned, alpha=alpha)
            crossed_g |= look.crossed
            crossed_n |= abs(look.z) >= norm.ppf(1 - alpha / 2)
        guarded += crossed_g
        naive += crossed_n
    _rate(figures, f"3. A/A, {args.days} daily looks: guarded", guarded, args.runs,
          f"target <= {alpha}")  # fmt: skip
    _rate(figures, f"   A/A, {args.days} daily looks: naive |z|>=1.96", naive, args.runs,
          "inflated")  # fmt: skip

    flagged = 0
    for _ in range(args.runs):
        control, challenger = rng.multinomial(2 * args.srm_units, [0.5, 0.5])
        kept = rng.binomial(challenger, 0.97)  # 3% of one arm's log rows lost
        flagged += stats.srm([int(control), int(kept)], [0.5, 0.5])[1] < stats.SRM_ALPHA
    _rate(figures, f"4. SRM, 3% of one arm lost, {args.srm_units:,}/arm: invalid", flagged,
          args.runs, "target >= 0.95")  # fmt: skip
    print(f"  ({time.perf_counter() - start:.0f} s)")
    figures.save(args.results, sys.argv[1:])


if __name__ == "__main__":
    main()
