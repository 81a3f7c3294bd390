"""The model card's purpose and data sections: why the model exists, in the data's own words,
and what it was trained on, including the columns ignored, pooled or suspected of leaking."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from churnops.data.words import WORD_KEYS, Words
from churnops.reporting.card_text import pct


def purpose(problem: Mapping[str, Any] | None, words: Words) -> list[str]:
    lines = ["## Purpose and intended use", ""]
    problem = {k: v for k, v in (problem or {}).items() if k not in WORD_KEYS}
    if not problem:
        return [
            *lines,
            "The `problem` section of params is empty: purpose and intended use are "
            "not stated. State them before this model is used.",
            "",
        ]
    labels = {
        "statement": "Business problem",
        "ml_task": "ML task",
        "current_rate": f"Current {words.outcome} rate",
        "target_rate": f"Target {words.outcome} rate",
        "revenue_at_stake": "Revenue at stake",
        "intended_use": "Intended use",
        "out_of_scope": "Out of scope",
    }
    for key, label in labels.items():
        if key in problem and problem[key] is not None:
            value = problem[key]
            shown = pct(value) if key.endswith("_rate") and isinstance(value, float) else value
            lines.append(f"- **{label}:** {shown}")
    if problem.get("success_metrics"):
        lines.append(f"- **Success metrics:** {', '.join(map(str, problem['success_metrics']))}")
    return [*lines, ""]


def data_section(
    quality: Mapping[str, Any],
    schema: Mapping[str, Any],
    source: Mapping[str, Any],
    recipes: list[Mapping[str, Any]],
) -> list[str]:
    balance = ", ".join(
        f"{k}: {v['count']:,} ({v['share']:.1%})" for k, v in quality["class_balance"].items()
    )
    coerced = [
        f"`{c}` {v['blank']} blank + {v['non_numeric']} non-numeric"
        for c, v in quality["coerced_to_missing"].items()
        if v["blank"] or v["non_numeric"]
    ]
    split = quality["split"]
    numeric = [n for n, f in schema["features"].items() if f["kind"] == "numeric"]
    categorical = [n for n, f in schema["features"].items() if f["kind"] == "categorical"]
    lines = [
        "## Data",
        "",
        f"- **Source:** `{source['path']}` (sha256 `{source['sha256'] or 'not checked'}`)",
        f"- **Rows:** {quality['rows']:,}; {quality['duplicate_rows']} duplicate rows ignoring "
        f"the id; {quality['missing']['total']:,} missing values",
        f"- **Target `{schema['target']['name']}`:** {balance}",
        f"- **Split:** {split['train_rows']:,} train / {split['test_rows']:,} "
        f"test, stratified, seed {split['seed']}; model selection, tuning and the "
        "decision threshold never read the test split",
        f"- **Features:** {len(numeric)} numeric ({', '.join(numeric)}), {len(categorical)} "
        f"categorical ({', '.join(categorical)})",
        f"- **Cleaning:** numeric-like text coerced to numbers; became missing: "
        f"{'; '.join(coerced) or 'none'}",
        "- **Preprocessing** (fitted on train only): derived features "
        + (", ".join(f"`{r['name']}` ({r['kind']})" for r in recipes) or "none")
        + "; median/constant imputation, scaling, one-hot encoding with unknown categories ignored",
        *_checks(quality),
        "",
    ]
    return lines


def _checks(quality: Mapping[str, Any]) -> list[str]:
    """Ignored, pooled and possibly leaking columns (absent from older reports)."""
    lines = []
    if quality.get("ignored_columns"):
        lines.append(
            "- **Ignored columns** (in the file, not in `prepare.columns`): "
            + ", ".join(f"`{c}`" for c in quality["ignored_columns"])
        )
    pooled = (quality.get("pooled") or {}).get("columns")
    if pooled:
        lines.append(
            "- **High-cardinality columns pooled:** "
            + ", ".join(f"`{c}` ({n:,} distinct)" for c, n in pooled.items())
            + f"; {quality['pooled']['rule']}"
        )
    leak = quality.get("leakage")
    if leak and leak["action"] != "off":
        suspects = ", ".join(f"`{c}` {s:.3f}" for c, s in leak["suspects"].items())
        lines.append(
            f"- **Leakage check:** **possible leakage — {suspects}** (single-column "
            f"cross-validated ROC-AUC >= {leak['max_auc']}); the scores below may not hold in use"
            if suspects
            else f"- **Leakage check:** no column alone reaches cross-validated ROC-AUC "
            f"{leak['max_auc']}"
        )
        named = leak.get("after_the_fact_names") or []
        if named:
            lines.append(
                "- **Check before use:** "
                + ", ".join(f"`{c}`" for c in named)
                + " named like something known only after the outcome (a date, a follow-up "
                "time, a result); if so, the model learnt from the answer"
            )
    return lines
