"""The lifecycle report `reports/index.html`: one offline page that links or embeds data quality,
exploration, model selection, evaluation, business impact, fairness and the model card."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from churnops.data.words import Words
from churnops.reporting import pages, plots

SECTIONS = (
    ("Overview", "overview"),
    ("Data quality", "data-quality"),
    ("Exploration", "exploration"),
    ("Model selection", "model-selection"),
    ("Evaluation", "evaluation"),
    ("Business impact", "business"),
    ("Fairness", "fairness"),
    ("Monitoring", "monitoring"),
    ("Model card", "model-card"),
)


def _figures(names: list[tuple[str, str]], available: set[str]) -> str:
    return "".join(pages.figure(path, caption) for path, caption in names if path in available)


def render(outputs: Mapping[str, Any], figures: set[str]) -> str:
    """The page. `figures` holds the relative paths of the PNGs that exist (from reports/)."""
    body = [
        _overview(outputs),
        pages.section(
            "Data quality",
            pages.from_markdown(outputs["quality_md"], demote=2),
            anchor="data-quality",
        ),
        pages.section(
            "Exploration",
            "<p>The full exploration of the training split: "
            '<a href="eda/index.html">open the EDA page</a>.</p>',
            _figures(EXPLORATION_FIGURES, figures),
            anchor="exploration",
        ),
        _selection(outputs["cv"], figures),
        pages.section(
            "Evaluation",
            pages.table(pd.DataFrame([outputs["metrics"]])),
            _figures(EVALUATION_FIGURES, figures),
            anchor="evaluation",
        ),
        _business(outputs["business"], figures),
        _fairness(outputs["fairness"], figures),
        _monitoring(outputs.get("monitor"), figures),
        pages.section(
            "Model card",
            '<p><a href="model_card.md">model_card.md</a></p>',
            pages.from_markdown(outputs["model_card"], demote=2),
            anchor="model-card",
        ),
    ]
    nav = [(title, f"#{anchor}") for title, anchor in SECTIONS]
    return pages.page("churnops lifecycle report", "\n".join(body), nav=nav)


# drawn by the report stage itself, from train's CV results and the monitor's drift report
CV_FIGURE = "figures/cv_scores.png"
DRIFT_FIGURE = "figures/drift_effects.png"
EXPLORATION_FIGURES = [
    ("eda/figures/histograms.png", "Numeric columns by class"),
    ("eda/figures/correlation_matrix.png", "Correlation of numeric features"),
    ("eda/figures/categories.png", "Categories: counts and positive rate"),
]
EVALUATION_FIGURES = [
    ("evaluate/figures/confusion_matrix.png", "Confusion matrix (test)"),
    ("evaluate/figures/roc.png", "ROC curve (test)"),
    ("evaluate/figures/pr.png", "Precision-recall curve (test)"),
    ("evaluate/figures/calibration.png", "Calibration (test)"),
    ("evaluate/figures/learning_curve.png", "Learning curve (train CV)"),
    ("evaluate/figures/permutation_importance.png", "Permutation importance"),
    ("evaluate/figures/model_weights.png", "Model weights by source column"),
]


def draw(outputs: Mapping[str, Any], folder: Path) -> set[str]:
    """Draw the page's own figures into `folder` (created; `reports/figures` in the pipeline):
    the CV scores with the one-SE bar, and the monitor's drift effect sizes when it ran.
    Returns their paths as `render` takes them."""
    folder.mkdir(parents=True)
    plots.cv_scores_png(outputs["cv"], folder / Path(CV_FIGURE).name)
    drawn = {CV_FIGURE}
    if outputs.get("monitor"):
        plots.drift_effects_png(outputs["monitor"]["drift"], folder / Path(DRIFT_FIGURE).name)
        drawn.add(DRIFT_FIGURE)
    return drawn


def _overview(outputs: Mapping[str, Any]) -> str:
    meta, metrics, cv = outputs["meta"], outputs["metrics"], outputs["cv"]
    impact, fair = outputs["business"], outputs["fairness"]
    words = Words.from_schema(outputs["schema"])
    overview = [
        ("test ROC-AUC", f"{metrics['roc_auc']:.3f}"),
        (f"CV {cv['scoring']} ({cv['tuned']['candidate']})", f"{cv['tuned']['mean']:.3f}"),
        ("decision threshold", f"{meta['decision_threshold']['value']:.2f}"),
    ]
    if "note" not in impact:
        overview += [
            (f"flagged {words.entities} who {words.verb}", f"{impact['precision']:.0%}"),
            (f"{words.positives} flagged", f"{impact['recall']:.0%}"),
            ("expected savings (test)", f"{impact['expected_savings']:,.0f}"),
        ]
    overview.append(("fairness flags", ", ".join(fair.get("flagged_groups") or []) or "none"))
    return pages.section(
        "Overview",
        pages.cards(overview),
        pages.paragraph(
            f"Model {meta['candidate']} ({meta['model_sha256'][:12]}), chosen by rule "
            f"{meta['selection']['rule']} among {len(cv['candidates'])} candidates; "
            "no stage that selects, tunes or sets a threshold for the model reads the "
            "test split."
        ),
        anchor="overview",
    )


def _selection(cv: Mapping[str, Any], figures: set[str]) -> str:
    return pages.section(
        "Model selection",
        pages.paragraph(
            f"{cv['folds']}-fold CV on the training split ({cv['scoring']}); "
            f"rule {cv['selection']['rule']}: best {cv['selection']['best']}, "
            f"bar {cv['selection']['bar']:.4f}, chose {cv['selection']['chosen']}."
        ),
        _candidates(cv),
        _figures([(CV_FIGURE, "CV score per candidate with the one-SE bar")], figures),
        anchor="model-selection",
    )


def _business(impact: Mapping[str, Any], figures: set[str]) -> str:
    if "note" in impact:
        content = pages.paragraph(impact["note"], "note")
    else:
        shown = {k: v for k, v in impact.items() if k != "threshold_source"}
        content = pages.table(pd.DataFrame([shown]))
    return pages.section(
        "Business impact",
        content,
        _figures([("evaluate/figures/profit_test.png", "Expected profit by threshold")], figures),
        anchor="business",
    )


def _fairness(fair: Mapping[str, Any], figures: set[str]) -> str:
    if not fair["groups"]:
        content = pages.paragraph(fair["note"], "note")
    else:
        rows = [
            {
                "group": g,
                "demographic_parity_difference": v["demographic_parity_difference"],
                "equalized_odds_difference": v["equalized_odds_difference"],
                "flags": ", ".join(v["flags"]) or "none",
            }
            for g, v in fair["groups"].items()
        ]
        content = pages.table(pd.DataFrame(rows))
    caption = f"Rates per group, {fair.get('confidence', 0.95):.0%} bootstrap intervals"
    return pages.section(
        "Fairness",
        content,
        _figures([("evaluate/figures/fairness.png", caption)], figures),
        anchor="fairness",
    )


def _candidates(cv: Mapping[str, Any]) -> str:
    rows = [
        {
            "candidate": n,
            "complexity": c["complexity"],
            f"mean {cv['scoring']}": c["mean"],
            "std": c["std"],
            "se": c["se"],
            "within the bar": n in cv["selection"]["eligible"],
            "chosen": n == cv["selection"]["chosen"],
        }
        for n, c in sorted(cv["candidates"].items(), key=lambda kv: kv[1]["complexity"])
    ]
    return pages.table(rows)


def _monitoring(monitor: Mapping[str, Any] | None, figures: set[str]) -> str:
    if not monitor:
        return pages.section(
            "Monitoring", pages.paragraph("No monitor outputs yet.", "note"), anchor="monitoring"
        )
    summary, fired, decision = monitor["metrics"], monitor["alerts"], monitor["decision"]
    alerts = [
        {
            "level": a["level"],
            "rule": a["rule"],
            "observed": a["observed"],
            "condition": a["condition"],
            "columns": ", ".join(a["columns"]),
        }
        for a in fired["alerts"]
    ]
    triggers = "; ".join(f"{k}: {', '.join(v)}" for k, v in decision["triggers"].items())
    return pages.section(
        "Monitoring",
        pages.cards(
            [
                ("batch rows", f"{summary['rows']:,}"),
                ("drifted columns", str(summary["drifted_columns"])),
                (
                    "alerts (critical / warning / info)",
                    "{critical} / {warning} / {info}".format(**summary["alerts"]),
                ),
                ("retrain", "yes" if decision["retrain"] else "no"),
            ]
        ),
        pages.paragraph(f"Retraining triggers: {triggers or 'none'}."),
        pages.table(alerts) if alerts else pages.paragraph("No alert fired.", "note"),
        _figures([(DRIFT_FIGURE, "Drift effect size per column")], figures),
        '<p><a href="monitor/drift.html">Open the Evidently drift report</a> '
        "(self-contained, opens offline)</p>",
        anchor="monitoring",
    )
