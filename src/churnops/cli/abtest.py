"""`churnops abtest plan`: how many units per arm an A/B test of two models needs, and for how
long, before it starts; `churnops abtest analyze`: the verdict on what the service logged."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any


def add(commands: Any) -> None:
    """Declare the command and its options."""
    abtest = commands.add_parser("abtest", help="A/B tests of models in production")
    sub = abtest.add_subparsers(dest="abtest_command", required=True)
    plan = sub.add_parser(
        "plan", help="units per arm and days needed to detect an effect (two proportions)"
    )
    plan.add_argument(
        "--baseline",
        type=float,
        help="the outcome rate under the current model (default: params problem.current_rate)",
    )
    plan.add_argument(
        "--mde",
        type=float,
        required=True,
        help="the smallest absolute change of that rate worth detecting, e.g. -0.02 for two "
        "points fewer churners",
    )
    plan.add_argument("--alpha", type=float, default=0.05, help="false-positive rate (0.05)")
    plan.add_argument("--power", type=float, default=0.8, help="chance to detect the mde (0.8)")
    plan.add_argument(
        "--shares",
        default="0.5,0.5",
        help="traffic share of each arm, control first (default 0.5,0.5)",
    )
    plan.add_argument("--daily", type=float, help="units (customers) scored per day, all arms")
    plan.add_argument(
        "--fixed",
        action="store_true",
        help="one look at the end instead of the sequential guard (fewer units; looking "
        "earlier then inflates false positives)",
    )
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.add_argument("--params", type=Path, default=Path("params.yaml"))
    plan.set_defaults(run=run)
    analyze = sub.add_parser(
        "analyze", help="the experiment's verdict from the prediction log and its outcomes"
    )
    analyze.add_argument("--log", type=Path, help="the prediction log (default: the service's)")
    analyze.add_argument("--params", type=Path, default=Path("params.yaml"))
    analyze.add_argument(
        "--baseline",
        type=float,
        help="the outcome rate the plan assumed (default: params problem.current_rate)",
    )
    analyze.add_argument("--out-dir", type=Path, default=Path("reports/abtest"))
    analyze.add_argument(
        "--promote",
        action="store_true",
        help="on go, promote the challenger's registry version to prod (the roll-out to 100%%)",
    )
    analyze.set_defaults(run=run_analyze)


def run(args: argparse.Namespace) -> int:
    try:
        result = plan(args)
    except ValueError as exc:
        print(f"churnops abtest plan: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    guard = "single look at the end" if args.fixed else "sequential guard (look any time)"
    print(
        f"churnops abtest plan: baseline {result['baseline']:.4f} -> "
        f"{result['baseline'] + result['mde']:.4f} (mde {result['mde']:+.4f}), alpha "
        f"{result['alpha']}, power {result['power']}, {guard}"
    )
    print(f"  units per arm: {result['units_per_arm']:,} (a single look needs {result['fixed']:,})")
    print(f"  units in all:  {result['units_total']:,}")
    if result["days"] is not None:
        print(f"  days:          {result['days']} at {args.daily:,.0f} units a day")
    return 0


def plan(args: argparse.Namespace) -> dict[str, Any]:
    """The plan's figures.

    Raises:
        ValueError: a bad option or no baseline, naming it and the value.
    """
    from churnops.abtest import stats

    baseline = args.baseline
    if baseline is None:
        baseline = _baseline_from_params(args.params)
    try:
        shares = [float(s) for s in args.shares.split(",")]
    except ValueError:
        raise ValueError(
            f"--shares must be numbers separated by commas, got {args.shares!r}"
        ) from None
    if len(shares) < 2 or not math.isclose(sum(shares), 1, abs_tol=1e-9) or min(shares) <= 0:
        raise ValueError(f"--shares needs two or more positive shares summing to 1, got {shares}")
    if args.daily is not None and args.daily <= 0:
        raise ValueError(f"--daily must be positive, got {args.daily!r}")
    fixed = stats.sample_size(baseline, args.mde, alpha=args.alpha, power=args.power)
    per_arm = stats.planned_units(
        baseline, args.mde, alpha=args.alpha, power=args.power, sequential=not args.fixed
    )
    total = math.ceil(per_arm / min(shares))  # the smallest arm sets the pace
    return {
        "baseline": baseline,
        "mde": args.mde,
        "alpha": args.alpha,
        "power": args.power,
        "shares": shares,
        "sequential": not args.fixed,
        "fixed": fixed,
        "units_per_arm": per_arm,
        "units_total": total,
        "days": math.ceil(total / args.daily) if args.daily else None,
    }


def _baseline_from_params(path: Path) -> float:
    from churnops.params import load_params

    rate = None
    if path.is_file():
        rate = (load_params(path).get("problem") or {}).get("current_rate")
    if rate is None:
        raise ValueError(f"give --baseline: {path} has no problem.current_rate")
    return float(rate)


def run_analyze(args: argparse.Namespace) -> int:
    from churnops.abtest import analysis, report, stats
    from churnops.config import load_params
    from churnops.files import staged_outputs
    from churnops.params import ParamsError
    from churnops.serving import log_export, prediction_log
    from churnops.serving.settings import settings_from_env

    try:
        params = load_params(args.params)
        config = params["abtest"]
        if not config["name"]:
            raise ValueError(f"{args.params}: abtest.name is null: which experiment?")
        log_path = args.log or settings_from_env(args.params).log_path
        baseline = (
            args.baseline if args.baseline is not None else _baseline_from_params(args.params)
        )
        planned = stats.planned_units(
            baseline, config["mde"], alpha=config["alpha"], power=config["power"]
        )
        since = prediction_log.parse_since(config["start"]) if config["start"] else None
        with log_export.LogReader(log_path) as reader:
            rows = reader.experiment_rows(config["name"], since=since)
            failures = reader.experiment_failures(config["name"], since=since)
        result = analysis.analyze(
            rows,
            arms=[a["name"] for a in config["arms"]],
            shares=[a["share"] for a in config["arms"]],
            planned=planned,
            alpha=config["alpha"],
            better=config["better"],
            guardrails=config["guardrails"],
            failures=failures,
        )
    except (ParamsError, ValueError, OSError) as exc:
        print(f"churnops abtest analyze: error: {exc}", file=sys.stderr)
        return 2
    result = {"experiment": config["name"], "better": config["better"], **result}
    out = args.out_dir / config["name"]
    with staged_outputs() as staged:
        staged.write_json(out.with_suffix(".json"), result)
        staged.write_text(out.with_suffix(".html"), report.html(result))
    print(f"churnops abtest analyze: {result['verdict'].upper()} - {result['reason']}")
    print(f"  {out.with_suffix('.html')}")
    if result["verdict"] == "go" and args.promote:
        return _promote(config)
    return 0


def _promote(config: dict) -> int:
    """The roll-out: the challenger's registry version to prod."""
    from churnops.registry import versions

    arm = config["arms"][1]
    repo = Path(".")
    try:
        version = arm.get("version") or versions.in_stage(repo, arm["stage"])
        if version is None:
            raise versions.RegistryError(f"no version is in stage {arm['stage']!r}")
        versions.promote(repo, version, "prod", message=f"A/B test {config['name']}: go")
    except versions.RegistryError as exc:
        print(f"churnops abtest analyze: promotion failed: {exc}", file=sys.stderr)
        return 2
    print(f"churnops abtest analyze: prod is now {version} (A/B test {config['name']})")
    return 0
