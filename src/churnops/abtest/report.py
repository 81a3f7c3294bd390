"""The analysis as an offline HTML page: the verdict and its reason first, then each arm, the
difference, the tests and the guardrails (no script, no network)."""

from __future__ import annotations

import html as escape
from collections.abc import Mapping
from typing import Any

import markdown


def markdown_text(result: Mapping[str, Any]) -> str:
    """The report as Markdown."""
    lines = [
        f"# A/B test {result['experiment']}: {result['verdict'].upper()}",
        "",
        result["reason"] + ".",
        "",
        "| arm | customers | with outcome | outcome rate | 95% interval | offer rate | p99 ms "
        "| scoring errors |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for name, arm in result["arms"].items():
        rate = "-" if arm["rate"] is None else f"{arm['rate']:.4f}"
        offer = "-" if arm["offer_rate"] is None else f"{arm['offer_rate']:.3f}"
        p99 = "-" if arm["latency_p99_ms"] is None else f"{arm['latency_p99_ms']:.2f}"
        errors = (
            "-" if arm["error_rate"] is None else f"{arm['errors']:,} ({arm['error_rate']:.2%})"
        )
        lines.append(
            f"| {name} | {arm['customers']:,} | {arm['n']:,} | {rate} | "
            f"[{arm['rate_low']:.4f}, {arm['rate_high']:.4f}] | {offer} | {p99} | {errors} |"
        )
    srm = result["srm"]
    lines += ["", f"Sample-ratio check: chi-square {srm['statistic']:.3f}, p {srm['p_value']:.4g} "
              f"(invalid below {srm['alpha']}).", ""]  # fmt: skip
    if "difference" in result:
        d, seq, chi = result["difference"], result["sequential"], result["chi_square"]
        lines += [
            f"Difference (challenger - control; {result['better']} is better): "
            f"{d['value']:+.4f}, 95% interval [{d['low']:+.4f}, {d['high']:+.4f}].",
            "",
        ]
        if result.get("relative_lift"):
            lift = result["relative_lift"]
            lines += [
                f"Relative change: {lift['value']:+.1%} [{lift['low']:+.1%}, {lift['high']:+.1%}].",
                "",
            ]
        lines += [
            f"Sequential guard: z {seq['z']:.3f} against ±{seq['boundary']:.3f} at "
            f"{seq['information']:.0%} of the planned {result['planned_per_arm']:,} per arm"
            f"{' (final look)' if seq['final'] else ''}.",
            "",
            f"The guide's chi-square test: {chi['statistic']:.3f}, p {chi['p_value']:.4g} "
            "(one look; the verdict uses the sequential guard).",
            "",
        ]
    if result["guardrails"]:
        lines += ["| guardrail | value | limit | holds |", "|---|---:|---:|---|"]
        lines += [
            f"| {g['name']} | {g['value']} | {g['limit']} | {'yes' if g['passed'] else '**no**'} |"
            for g in result["guardrails"]
        ]
    left = result["left_out"]
    lines += ["", f"Left out: {left['without_id']:,} predictions without a customer id, "
              f"{left['in_two_arms']:,} customers seen in two arms."]  # fmt: skip
    return "\n".join(lines) + "\n"


def html(result: Mapping[str, Any]) -> str:
    """A self-contained page."""
    body = markdown.markdown(markdown_text(result), extensions=["tables"])
    title = escape.escape(f"A/B test {result['experiment']}")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>"
        "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em}"
        f"</style></head><body>{body}</body></html>\n"
    )
