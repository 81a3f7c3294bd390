"""The model card (Markdown), written only from the pipeline's own outputs and params: purpose,
data, selection rationale, performance with intervals, business threshold, fairness,
limitations, monitoring, versions and hashes. No number in it is typed by hand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from churnops.data.words import Words
from churnops.reporting.card_data import data_section, purpose
from churnops.reporting.card_text import interval, pct, table

RULES = {
    "one_standard_error": (
        "the simplest candidate (lowest complexity) whose mean CV score is within "
        "one standard error of the best mean"
    ),
    "best": "the candidate with the highest mean CV score",
}


def selection_section(cv: Mapping[str, Any]) -> list[str]:
    sel = cv["selection"]
    rows = [
        [
            name,
            f"{c['mean']:.4f} ± {c['std']:.4f}",
            c["complexity"],
            "yes" if name in sel["eligible"] else "no",
            "**chosen**" if name == sel["chosen"] else "",
        ]
        for name, c in sorted(cv["candidates"].items(), key=lambda kv: kv[1]["complexity"])
    ]
    tuned = cv["tuned"]
    return [
        "## Algorithm selection",
        "",
        f"{len(cv['candidates'])} candidates were compared by {cv['folds']}-fold stratified "
        f"cross-validation on the training split ({cv['scoring']}). Rule `{sel['rule']}`: "
        f"{RULES.get(sel['rule'], sel['rule'])}. Best mean: `{sel['best']}`; bar {sel['bar']:.4f}; "
        f"chosen: `{sel['chosen']}`.",
        "",
        *table(
            ["candidate", f"CV {cv['scoring']} (mean ± std)", "complexity", "within the bar", ""],
            rows,
        ),
        "",
        f"Tuned `{tuned['candidate']}` ({tuned['params']}): CV {cv['scoring']} "
        f"{tuned['mean']:.4f} ± {tuned['std']:.4f}.",
        "",
    ]


def performance_section(
    metrics: Mapping[str, float], intervals: Mapping[str, Any], diagnostics: Mapping[str, Any]
) -> list[str]:
    ci = intervals["intervals"]
    level = f"{intervals['confidence']:.0%}"
    rows = [[k, f"{metrics[k]:.4f}", interval(ci, k) if k in ci else ""] for k in metrics]
    lc = diagnostics["learning_curve"]
    strategies = diagnostics["cv_strategies"]
    return [
        "## Performance on the held-out test split",
        "",
        f"At threshold {intervals['threshold']}; {level} bootstrap intervals over "
        f"{intervals['samples']} resamples of the test rows.",
        "",
        *table(["metric", "value", f"{level} interval"], rows),
        "",
        f"- **Learning curve:** {lc['verdict']} (train {lc['train_score']:.3f}, validation "
        f"{lc['validation_score']:.3f} at {lc['train_size']:,} rows; rules: gap > "
        f"{lc['rules']['high_variance_gap']} is high variance, both < "
        f"{lc['rules']['high_bias_below']} is high bias)",
        "- **CV strategies:** "
        + ", ".join(f"{k} {v['mean']:.4f} ± {v['std']:.4f}" for k, v in strategies.items()),
        f"- **Calibration:** Brier score {diagnostics['calibration']['brier']:.4f}",
        "",
    ]


def business_section(impact: Mapping[str, Any], words: Words) -> list[str]:
    lines = ["## Business threshold", ""]
    if "note" in impact:
        return [*lines, f"Decision threshold {impact['threshold']}: {impact['note']}.", ""]
    return [
        *lines,
        f"The decision threshold **{impact['threshold']:.2f}** maximises the expected profit of "
        f"making the offer to the flagged {words.entities} (params `business`), on out-of-fold "
        "predictions of the training split; serving uses it. On the test split:",
        "",
        f"- {impact['flagged']:,} of {impact['rows']:,} {words.entities} flagged "
        f"({pct(impact['flagged_share'])});",
        f"- **{pct(impact['precision'])} of flagged {words.entities} actually {words.verb}** "
        f"(precision); {pct(impact['recall'])} of {words.positives} are flagged (recall);",
        f"- expected savings {impact['expected_savings']:,.0f} "
        f"({impact['expected_savings_per_row']:.2f} per {words.entity}), against "
        f"{impact['savings_if_everyone_offered']:,.0f} when every {words.entity} gets the offer.",
        "",
    ]


def fairness_section(fair: Mapping[str, Any]) -> list[str]:
    lines = ["## Fairness and bias", ""]
    if not fair["groups"]:
        return [*lines, f"{fair.get('note', 'No groups assessed')}.", ""]
    limits = fair["limits"]
    lines += [
        f"At the decision threshold {fair['threshold']}; limits: demographic-parity "
        f"difference {limits['max_demographic_parity_difference']}, equalized-odds "
        f"difference {limits['max_equalized_odds_difference']}. Flags are reported, not "
        "blocking.",
        "",
    ]
    rows = []
    for column, group in fair["groups"].items():
        rows.append(
            [
                column,
                group["demographic_parity_difference"],
                group["equalized_odds_difference"],
                group["roc_auc_difference"],
                ", ".join(group["flags"]) or "none",
            ]
        )
    lines += table(
        ["group", "demographic parity diff", "equalized odds diff", "ROC-AUC diff", "flags"], rows
    )
    lines += ["", f"Per group value ({fair['confidence']:.0%} bootstrap intervals):", ""]
    rows = []
    for column, group in fair["groups"].items():
        for value, r in group["by_value"].items():
            rows.append(
                [
                    column,
                    value,
                    r["count"],
                    _rate(r, "selection_rate"),
                    _rate(r, "tpr"),
                    _rate(r, "fpr"),
                    _rate(r, "roc_auc"),
                ]
            )
    lines += table(["group", "value", "n", "selection rate", "TPR", "FPR", "ROC-AUC"], rows)
    return [*lines, ""]


def _rate(r: Mapping[str, Any], key: str) -> str:
    if r[key] is None:
        return "n/a"
    low, high = r[f"{key}_ci"]
    return f"{r[key]:.3f} [{low:.3f}, {high:.3f}]" if low is not None else f"{r[key]:.3f}"


def limitations(
    quality: Mapping[str, Any],
    fair: Mapping[str, Any],
    diagnostics: Mapping[str, Any],
    top_inputs: list[str],
    words: Words,
) -> list[str]:
    lines = [
        "## Limitations and risks",
        "",
        f"- Trained on one snapshot of {quality['rows']:,} {words.entities}; behaviour on "
        f"{words.entities} unlike them (another population, period or setting) is unknown.",
        f"- The classes are imbalanced (positive rate {pct(quality['positive_rate'])}): "
        "accuracy flatters the model; read precision and recall at the decision threshold.",
        f"- The model is correlational: a high score says which {words.entities} tend to "
        f"{words.verb}, not why, nor what an intervention will change.",
        f"- It leans most on {', '.join(top_inputs)} (permutation importance); a shift in "
        "these inputs moves its scores most.",
    ]
    if fair.get("flagged_groups"):
        lines.append(
            f"- Parity gaps above the limits for: {', '.join(fair['flagged_groups'])}; "
            "review before the score drives decisions about these groups."
        )
    verdict = diagnostics["learning_curve"]["verdict"]
    if verdict != "balanced":
        lines.append(f"- Learning-curve verdict: {verdict}.")
    return [*lines, ""]


def monitoring(
    schema: Mapping[str, Any], threshold: float, rules: list[Mapping[str, Any]] | None = None
) -> list[str]:
    alert_rules = [
        f"  - {r['level']}: `{r['name']}` when {r['metric']} {r['op']} {r['value']}"
        for r in rules or []
    ]
    return [
        "## Monitoring and maintenance",
        "",
        "- Validate every scored row against `data/prepared/schema.json` "
        f"({len(schema['features'])} features: types, categories, ranges); count unseen "
        "categories and out-of-range values.",
        "- Compare each production batch with the training data (per-feature drift tests and "
        "effect sizes) and the score distribution with the training scores.",
        f"- When outcomes arrive, track precision and recall at the decision threshold "
        f"{threshold} against the figures above.",
        "- Retrain (`dvc repro` on refreshed data) when performance degrades, inputs drift, "
        "the model ages past its review date, or enough new labelled data accrues; compare the "
        "candidate with `dvc metrics diff` before promoting it.",
        *(["- The monitor's alert rules (params `monitor.rules`):", *alert_rules] if rules else []),
        "- From an alert to a post-mortem, each step with its command: `docs/runbook.md`.",
        "",
    ]


def risks(governance: Mapping[str, Any], gate: Mapping[str, Any], words: Words) -> list[str]:
    """Each risk with the mitigation in place, from params."""
    rows = [
        ("The inputs drift away from the training data",
         "per-feature drift tests and effect sizes on every monitored batch; alerts by rule; a "
         "retraining trigger"),
        ("Performance degrades as outcomes arrive",
         "accuracy bound against the evaluated figure (monitor rule); `churnops retrain` with a "
         "gate against the champion"),
        ("A worse model is released",
         f"the promotion gate: ROC-AUC >= {gate['min_roc_auc']}, at most {gate['max_auc_drop']} "
         f"below the champion, fairness gap increase <= {gate['max_fairness_gap_increase']}, "
         f"p99 latency <= {gate['max_latency_ratio']}x; rollback by registry tag"),
        (f"Decisions about some groups of {words.entities} are unfair",
         "parity gaps per group with intervals at evaluation and in the gate"),
        (f"The log exposes {words.entities}' identities",
         "record ids stored as keyed HMACs" if governance["pseudonymize_ids"]
         else "record ids stored as given: turn on `governance.pseudonymize_ids`"),
        ("Outcomes are forged through `/feedback`",
         "a bearer token when set; the service refuses to listen beyond loopback without one"),
    ]  # fmt: skip
    lines = ["## Risks and mitigations", "", "| risk | mitigation |", "|---|---|"]
    return [*lines, *(f"| {risk} | {mitigation} |" for risk, mitigation in rows), ""]


def privacy(governance: Mapping[str, Any], words: Words) -> list[str]:
    """Data retention and privacy, from params `governance`."""
    days = governance["retention_days"]
    ids = (
        f"as a keyed HMAC-SHA256 (the key from ${governance['key_env']} or a file outside the "
        "repository), never the raw id"
        if governance["pseudonymize_ids"]
        else "as given (pseudonymisation is off)"
    )
    withheld = governance["pii_columns"]
    inputs = (
        f"the validated inputs except {', '.join(f'`{c}`' for c in withheld)} (scored, then "
        "stored as null: `governance.pii_columns`; the monitor leaves them out and reads the "
        "served scores)"
        if withheld
        else "the validated inputs (`governance.pii_columns` withholds none)"
    )
    return [
        "## Data retention and privacy",
        "",
        f"- The prediction log keeps each {words.entity}'s id {ids}, with {inputs}, "
        "the score and the decision.",
        f"- Retention: {f'{days} days' if days else 'not set'}; `churnops log purge` deletes "
        "older predictions, outcomes and failures.",
        f"- Erasure on request: `churnops log erase` deletes every row of one {words.entity} "
        "(by id), overwriting the bytes; the audit table records it without the id.",
        "- `churnops audit` lists registrations, promotions, rollbacks, erasures and purges with "
        "who, when and why.",
        "",
    ]


def serving_section(compiled: Mapping[str, Any]) -> list[str]:
    """How the service scores: the compiled path and its parity check, or why not."""
    lines = ["## Serving", ""]
    if compiled.get("compiled"):
        lines.append(
            f"- Scored by ONNX Runtime {compiled['onnxruntime']}: the estimator compiled with "
            f"skl2onnx {compiled['skl2onnx']}, the feature recipes and encoding as plain code. "
            f"On the {compiled['rows']:,} test rows its probabilities differ from "
            f"scikit-learn's by at most {compiled['max_abs_diff_request']:.1e} (request path) "
            f"and {compiled['max_abs_diff_batch']:.1e} (batch path); tolerance "
            f"{compiled['tolerance']:g}."
        )
    else:
        lines.append(
            f"- Scored by scikit-learn (not compiled: {compiled.get('reason', 'no reason given')})."
        )
    lines += [
        "- The service refuses a model or compiled file whose sha256 differs from its metadata.",
        "- Every prediction is committed to the prediction log before it is answered; "
        "`churnops log export` turns the log into a batch for the monitor.",
        "",
    ]
    return lines


def versions(meta: Mapping[str, Any], source: Mapping[str, Any]) -> list[str]:
    lines = [
        "## Versions and hashes",
        "",
        f"- Model `models/model.joblib` sha256 `{meta['model_sha256']}`",
        f"- Training data md5 `{meta['train_data_md5']}`",
        f"- Raw data `{source['path']}` sha256 `{source['sha256'] or 'not checked'}`",
        f"- Estimator `{meta['candidate']}` ({meta['candidate_type']}), params `{meta['params']}`",
    ]
    lines += [f"- {name} {version}" for name, version in sorted(meta["versions"].items())]
    return [*lines, ""]


def render(outputs: Mapping[str, Any]) -> str:
    """The model card from the pipeline outputs (see stages/report.py for the keys)."""
    meta, words = outputs["meta"], Words.from_schema(outputs["schema"])
    top = [r["feature"] for r in outputs["permutation"][:3]]
    lines = [
        f"# Model card: {meta['candidate']} {words.outcome} model",
        "",
        f"Model `{meta['model_sha256'][:12]}`, predicting `{outputs['schema']['target']['name']}`"
        f" = `{meta['positive_label']}`. Generated by the pipeline from its own outputs; "
        "do not edit by hand.",
        "",
    ]
    lines += purpose(outputs["problem"], words)
    lines += data_section(
        outputs["quality"], outputs["schema"], outputs["source"], outputs["recipes"]
    )
    lines += selection_section(outputs["cv"])
    lines += performance_section(outputs["metrics"], outputs["intervals"], outputs["diagnostics"])
    lines += business_section(outputs["business"], words)
    lines += fairness_section(outputs["fairness"])
    lines += limitations(
        outputs["quality"], outputs["fairness"], outputs["diagnostics"], top, words
    )
    governance = outputs.get("governance")
    if governance and outputs.get("gate"):
        lines += risks(governance, outputs["gate"], words)
    lines += serving_section(outputs["compiled"])
    lines += monitoring(
        outputs["schema"], meta["decision_threshold"]["value"], outputs.get("rules")
    )
    if governance:
        lines += privacy(governance, words)
    lines += versions(meta, outputs["source"])
    return "\n".join(lines)
