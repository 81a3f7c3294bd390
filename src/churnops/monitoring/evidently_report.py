"""The Evidently 0.7 drift report (DataDriftPreset, plus ClassificationPreset on labelled
batches) as a self-contained HTML page and its JSON snapshot.

Evidently writes random widget ids into its HTML; they are replaced by ids numbered in order of
appearance so the same data gives the same bytes (DVC hashes the page). Run it with a fixed
PYTHONHASHSEED (the monitor stage's command does) so Evidently's own iteration order is stable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd
from evidently import BinaryClassification, DataDefinition, Dataset, Report
from evidently.presets import ClassificationPreset, DataDriftPreset

# uuid4 ids, dashed or as 32 hex digits (also inside names such as `metric_<hex>`)
_UUID = re.compile(
    r"(?<![0-9a-f])(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|[0-9a-f]{32})(?![0-9a-f])"
)


def sample(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """At most `rows` rows, drawn without replacement (seeded)."""
    return frame if len(frame) <= rows else frame.sample(n=rows, random_state=seed)


def stable_ids(html: str) -> str:
    """Replace each distinct random id by a sequential one of the same shape."""
    seen: dict[str, str] = {}

    def number(match: re.Match) -> str:
        token = match.group(0)
        if token not in seen:
            digits = f"{len(seen):032x}"
            seen[token] = (
                f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
                if "-" in token
                else digits
            )
        return seen[token]

    return _UUID.sub(number, html)


def build(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: Mapping[str, str],
    *,
    target: str | None,
    prediction: str,
    labelled: bool,
    threshold: float,
    alpha: float,
    drift_share: float,
) -> tuple[str, str]:
    """Run the report on `current` against `reference`; return (html, json).

    Evidently is set up as close to the monitor as it allows: KS and chi-square per column at
    `alpha`, and a dataset verdict when the drifted share exceeds `drift_share` (Evidently
    compares with >=, hence the nudge). It has no multiple-testing correction and no effect-size
    floor, so it can still call drift where the monitor does not: `with_verdict` puts the
    monitor's verdict on top.

    Args:
        kinds: feature name -> numeric/categorical.
        target: the 0/1 label column (used only when `labelled`).
        prediction: the predicted-probability column.
        threshold: the served decision threshold (the confusion matrix is drawn at it).
    """
    numeric = [c for c, k in kinds.items() if k == "numeric"] + [prediction]
    categorical = [c for c, k in kinds.items() if k == "categorical"]
    presets: list = [
        DataDriftPreset(
            num_method="ks",
            cat_method="chisquare",
            threshold=alpha,
            drift_share=min(drift_share + 1e-9, 1.0),
        )
    ]
    classification = None
    columns = [*kinds, prediction]
    if labelled and target is not None:
        classification = [BinaryClassification(target=target, prediction_probas=prediction)]
        categorical.append(target)
        presets.append(ClassificationPreset(probas_threshold=threshold))
        columns.append(target)
    definition = DataDefinition(
        numerical_columns=numeric, categorical_columns=categorical, classification=classification
    )
    snapshot = Report(presets).run(
        Dataset.from_pandas(current[columns].reset_index(drop=True), data_definition=definition),
        Dataset.from_pandas(reference[columns].reset_index(drop=True), data_definition=definition),
    )
    return stable_ids(snapshot.get_html_str(as_iframe=False)), snapshot.json()


def with_verdict(html: str, lines: list[str]) -> str:
    """The page with the monitor's own verdict in a box at the top of the body."""
    from html import escape

    box = (
        '<div id="churnops-verdict" style="font-family:sans-serif;border:2px solid #444;'
        'padding:12px;margin:12px;background:#fffbe6">'
        + "".join(f'<p style="margin:4px 0">{escape(line)}</p>' for line in lines)
        + "</div>"
    )
    match = re.search(r"<body[^>]*>", html)
    if match is None:
        return box + html
    return html[: match.end()] + box + html[match.end() :]
