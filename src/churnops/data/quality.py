"""The data-quality report: shape, missing values, dtypes, duplicates, summaries, class balance."""

from __future__ import annotations

from typing import Any

import pandas as pd

from churnops.data.cleaning import DataSpec

_SAMPLES = 5


def quality_report(frame: pd.DataFrame, spec: DataSpec, cleaning: dict[str, Any]) -> dict[str, Any]:
    """Summarise the cleaned rows as plain JSON-ready values.

    Args:
        frame: the cleaned frame (output of `data.clean`).
        spec: the data spec it was cleaned with.
        cleaning: the report `data.clean` returned.
    """
    features = list(spec.columns)
    missing = frame[features].isna().sum()
    balance = frame[spec.target].value_counts()
    numeric = frame[spec.numeric].describe().T if spec.numeric else pd.DataFrame()
    return {
        "rows": len(frame),
        "columns": len(frame.columns),
        "duplicate_rows": int(frame[[*features, spec.target]].duplicated().sum()),
        "missing": {
            "total": int(missing.sum()),
            "by_column": {c: int(n) for c, n in missing.items() if n},
        },
        "dtypes": {c: spec.columns.get(c, "target" if c == spec.target else "id") for c in frame},
        "class_balance": {
            str(label): {"count": int(n), "share": round(n / len(frame), 6)}
            for label, n in balance.items()
        },
        "positive_rate": round(float((frame[spec.target] == str(spec.positive_label)).mean()), 6),
        "numeric_summary": {
            c: {k: _num(v) for k, v in row.items()} for c, row in numeric.iterrows()
        },
        "categorical": {
            c: {
                "cardinality": int(frame[c].nunique()),
                "top": {str(k): int(v) for k, v in frame[c].value_counts().head(_SAMPLES).items()},
            }
            for c in spec.categorical
        },
        **cleaning,
    }


def _num(value: float) -> float | None:
    return None if pd.isna(value) else round(float(value), 6)


def quality_markdown(report: dict[str, Any], *, title: str) -> str:
    """Render the report as the guide's data-quality page (Markdown)."""
    lines = [f"# Data quality: {title}", ""]
    lines += [
        "## Shape",
        f"{report['rows']} rows × {report['columns']} columns; "
        f"{report['duplicate_rows']} duplicate rows (ignoring the id).",
        "",
        "## Class balance",
        "| label | count | share |",
        "|---|---:|---:|",
    ]
    for label, entry in report["class_balance"].items():
        lines.append(f"| {label} | {entry['count']} | {entry['share']:.1%} |")
    lines += ["", "## Missing values"]
    by_column = report["missing"]["by_column"]
    if by_column:
        lines += ["| column | missing | share |", "|---|---:|---:|"]
        for column, n in by_column.items():
            lines.append(f"| {column} | {n} | {n / report['rows']:.2%} |")
    else:
        lines.append("No missing values.")
    coerced = {
        c: v for c, v in report["coerced_to_missing"].items() if v["blank"] or v["non_numeric"]
    }
    if coerced:
        lines += ["", "Numeric-like text turned into missing values while cleaning:", ""]
        for column, v in coerced.items():
            examples = f" (e.g. {v['examples']})" if v["examples"] else ""
            lines.append(
                f"- `{column}`: {v['blank']} blank, {v['non_numeric']} non-numeric{examples}"
            )
    if report.get("ignored_columns"):
        lines += [
            "",
            "Columns of the file not in `prepare.columns`, ignored: "
            + ", ".join(f"`{c}`" for c in report["ignored_columns"])
            + ".",
        ]
    lines += _checks(report)
    lines += _columns(report)
    return "\n".join(lines) + "\n"


def _columns(report: dict[str, Any]) -> list[str]:
    """Column types, the numeric summary and the categorical cardinalities."""
    lines: list[str] = []
    lines += ["", "## Column types", "| column | kind |", "|---|---|"]
    lines += [f"| {c} | {k} |" for c, k in report["dtypes"].items()]
    if report["numeric_summary"]:
        stats = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]
        lines += [
            "",
            "## Numeric summary",
            "| column | " + " | ".join(stats) + " |",
            "|---|" + "---:|" * len(stats),
        ]
        for column, row in report["numeric_summary"].items():
            lines.append(f"| {column} | " + " | ".join(_fmt(row[s]) for s in stats) + " |")
    if report["categorical"]:
        lines += [
            "",
            "## Categorical cardinality",
            "| column | distinct | most frequent values |",
            "|---|---:|---|",
        ]
        for column, entry in report["categorical"].items():
            top = ", ".join(f"{k} ({v})" for k, v in entry["top"].items())
            lines.append(f"| {column} | {entry['cardinality']} | {top} |")
    return lines


def _checks(report: dict[str, Any]) -> list[str]:
    """The leakage check and the pooled high-cardinality columns (absent from older reports)."""
    lines: list[str] = []
    leak = report.get("leakage")
    if leak and leak["action"] != "off":
        lines += ["", "## Leakage check", ""]
        if leak["suspects"]:
            lines += [
                f"**Warning: {len(leak['suspects'])} column(s) alone predict the target with "
                f"cross-validated ROC-AUC >= {leak['max_auc']}** — usually a sign they are "
                "recorded after the outcome:",
                "",
            ]
            lines += [f"- `{c}`: {s:.3f}" for c, s in leak["suspects"].items()]
        else:
            best = next(iter(leak["single_column_auc"].items()), None)
            strongest = f" (strongest: `{best[0]}` {best[1]:.3f})" if best else ""
            lines.append(
                f"No column alone reaches cross-validated ROC-AUC {leak['max_auc']}{strongest}."
            )
        if leak["after_the_fact_names"]:
            names = ", ".join(f"`{n}`" for n in leak["after_the_fact_names"])
            lines += ["", f"Named like something known only after the outcome: {names}."]
    pooled = report.get("pooled") or {}
    if pooled.get("columns"):
        lines += ["", "## High-cardinality columns", "", f"Rule: {pooled['rule']}.", ""]
        lines += [f"- `{c}`: {n:,} distinct values" for c, n in pooled["columns"].items()]
    return lines


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"
