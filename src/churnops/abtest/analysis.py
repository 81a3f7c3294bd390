"""The analysis of an A/B test of two models from what the service logged: the customers each
arm served and their outcomes, the sample-ratio check, the outcome rates with intervals, the
difference and lift, the guide's chi-square test, guardrails, and a verdict under the sequential
boundary - `go`, `no-go`, `keep running` or `invalid` - with its reason.

The unit is the customer: a customer id counts once, in its arm, with its latest known outcome.
Pure: a data frame of logged predictions in, a report out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from churnops.abtest import stats

_DIGITS = 6


def units(rows: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """One row per customer id: its arm, its latest known outcome (null when none), whether its
    latest prediction flagged it; plus counts of what was left out (predictions without an id,
    ids seen in two arms)."""
    with_id = rows[rows["record_id"].notna()]
    arms_per_id = with_id.groupby("record_id")["arm"].nunique()
    crossed = set(arms_per_id.index[arms_per_id > 1])
    kept = with_id[~with_id["record_id"].isin(crossed)]
    last = kept.groupby("record_id", sort=False).tail(1).set_index("record_id")
    out = pd.DataFrame(
        {
            "arm": last["arm"],
            "outcome": last["outcome"],
            "offered": last["decision"].astype(bool),
        }
    )
    return out, {"without_id": int(rows["record_id"].isna().sum()), "in_two_arms": len(crossed)}


def analyze(
    rows: pd.DataFrame,
    *,
    arms: Sequence[str],
    shares: Sequence[float],
    planned: int,
    alpha: float,
    better: str,
    guardrails: Mapping[str, float],
    failures: pd.DataFrame | None = None,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """The report for a control (`arms[0]`) and a challenger (`arms[1]`); `failures` are the
    records the arms' models could not score (`arm` column), for the error-rate guardrail.

    Raises:
        ValueError: not exactly two arms, or `better` not lower/higher.
    """
    if len(arms) != 2:
        raise ValueError(f"the analysis compares two arms (control, challenger), got {list(arms)}")
    if better not in ("lower", "higher"):
        raise ValueError(f"better must be lower or higher, got {better!r}")
    customers, left_out = units(rows)
    failed = failures["arm"].value_counts() if failures is not None else pd.Series(dtype="int64")
    per_arm = {arm: _arm(customers, rows, arm, confidence, int(failed.get(arm, 0))) for arm in arms}
    srm_stat, srm_p = stats.srm([per_arm[a]["customers"] for a in arms], list(shares))
    control, challenger = (per_arm[a] for a in arms)
    kc, nc, kt, nt = control["k"], control["n"], challenger["k"], challenger["n"]
    report: dict[str, Any] = {
        "arms": per_arm,
        "left_out": left_out,
        "srm": {"statistic": _r(srm_stat), "p_value": _r(srm_p), "alpha": stats.SRM_ALPHA},
        "planned_per_arm": planned,
    }
    if nc and nt:
        delta, low, high = stats.difference(kc, nc, kt, nt, confidence)
        lift = stats.relative_lift(kc, nc, kt, nt, confidence)
        chi2, p = stats.chi_square(kc, nc, kt, nt)
        look = stats.look(kc, nc, kt, nt, planned=planned, alpha=alpha)
        report.update(
            difference={"value": _r(delta), "low": _r(low), "high": _r(high)},
            relative_lift=None
            if lift is None
            else dict(zip(("value", "low", "high"), map(_r, lift), strict=True)),
            chi_square={"statistic": _r(chi2), "p_value": _r(p)},
            sequential={
                "information": _r(look.information),
                "z": _r(look.z),
                "boundary": _r(look.boundary),
                "crossed": look.crossed,
                "final": look.final,
            },
        )
    report["guardrails"] = _guardrails(control, challenger, guardrails)
    report["verdict"], report["reason"] = _verdict(report, arms, better)
    return report


def _arm(
    customers: pd.DataFrame, rows: pd.DataFrame, arm: str, confidence: float, errors: int
) -> dict:
    mine = customers[customers["arm"] == arm]
    served = int((rows["arm"] == arm).sum())
    labelled = mine["outcome"].dropna()
    k, n = int(labelled.sum()), len(labelled)
    low, high = stats.wilson(k, n, confidence)
    latency = rows.loc[rows["arm"] == arm, "latency_ms"].to_numpy()
    return {
        "customers": len(mine),
        "n": n,
        "k": k,
        "rate": _r(k / n) if n else None,
        "rate_low": _r(low),
        "rate_high": _r(high),
        "offer_rate": _r(mine["offered"].mean()) if len(mine) else None,
        "latency_p99_ms": _r(np.percentile(latency, 99)) if len(latency) else None,
        "predictions": served,
        "errors": errors,
        "error_rate": _r(errors / (served + errors)) if served + errors else None,
        "model_versions": sorted(rows.loc[rows["arm"] == arm, "model_version"].unique().tolist()),
    }


# (check name, per-arm figure, how the challenger compares: difference or ratio, params limit)
_GUARDRAILS = (
    ("offer_rate_increase", "offer_rate", "difference", "max_offer_rate_increase"),
    ("latency_p99_ratio", "latency_p99_ms", "ratio", "max_latency_ratio"),
    ("error_rate_increase", "error_rate", "difference", "max_error_rate_increase"),
)


def _guardrails(control: Mapping, challenger: Mapping, limits: Mapping[str, float]) -> list[dict]:
    """The challenger's cost (offer rate), speed (p99 latency) and reliability (the share of
    records its model could not score) against the control's; a figure missing on either side
    (or a zero control latency for the ratio) skips its check."""
    checks = []
    for name, figure, compare, limit_key in _GUARDRAILS:
        mine, theirs = challenger[figure], control[figure]
        if mine is None or theirs is None or (compare == "ratio" and not theirs):
            continue
        value = mine / theirs if compare == "ratio" else mine - theirs
        limit = limits[limit_key]
        checks.append({"name": name, "value": _r(value), "limit": limit, "passed": value <= limit})
    return checks


def _verdict(report: Mapping[str, Any], arms: Sequence[str], better: str) -> tuple[str, str]:
    if report["srm"]["p_value"] < stats.SRM_ALPHA:
        counts = ", ".join(f"{a} {report['arms'][a]['customers']:,}" for a in arms)
        return "invalid", (
            f"sample-ratio mismatch (p {report['srm']['p_value']:.2g} < {stats.SRM_ALPHA}): "
            f"customers per arm {counts} do not match the planned shares; find the cause "
            "(assignment, logging, filtering) before reading any result"
        )
    if "sequential" not in report:
        return "keep running", "no outcomes in one of the arms yet"
    look, delta = report["sequential"], report["difference"]["value"]
    if look["crossed"]:
        improved = delta < 0 if better == "lower" else delta > 0
        failed = [g["name"] for g in report["guardrails"] if not g["passed"]]
        if improved and not failed:
            return "go", (
                f"{arms[1]} changes the outcome rate by {delta:+.4f} (z {look['z']:.2f} beyond "
                f"the boundary {look['boundary']:.2f}) and every guardrail holds"
            )
        if improved:
            return "no-go", f"{arms[1]} is better on the outcome but breaks {', '.join(failed)}"
        return "no-go", f"{arms[1]} is significantly worse ({delta:+.4f}, z {look['z']:.2f})"
    if look["final"]:
        return "no-go", (
            f"no significant difference at the planned sample (z {look['z']:.2f} within "
            f"±{look['boundary']:.2f}): keep {arms[0]}"
        )
    return "keep running", (
        f"{look['information']:.0%} of the planned sample; z {look['z']:.2f} within the "
        f"boundary ±{look['boundary']:.2f} for now"
    )


def _r(value: float) -> float:
    return round(float(value), _DIGITS)
