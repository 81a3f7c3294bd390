"""`churnops init`: a complete, commented params.yaml for a new data file, every decision about
its columns made by a stated rule (see `churnops.data.profile`) and printed with its reason.

The data-specific sections (base, prepare, simulate, fairness, problem, business) are written
from the file; the rest comes from `params_template.yaml`, churnops' defaults for any data set.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from churnops.compute import engine
from churnops.config import validate
from churnops.config.sections import Simulate
from churnops.data import leakage, profile
from churnops.data.schema import DataError, category_text
from churnops.files import CsvFormat, file_digest, read_table
from churnops.params import load_params

TEMPLATE = Path(__file__).with_name("params_template.yaml")
LEAKAGE_MAX_AUC = 0.95  # prepare warns from here (prepare.leakage_max_auc)
LEAVE_OUT_AUC = 0.99  # init leaves a column out from here: the answer itself, all but certainly
SEED = 42
# column names that suggest a group to check for fairness (suggested, never set)
_GROUPS = re.compile(
    r"(^|[^a-z])(sex|gender|age|race|ethnic\w*|religion|marital|married|senior\w*|disab\w*|"
    r"nationality|citizen\w*)([^a-z]|$)",
    re.IGNORECASE,
)


@dataclass
class Plan:
    """What init decided: the params text, and one line per decision with its reason."""

    text: str
    decisions: list[str] = field(default_factory=list)


def sniff_csv(path: Path) -> tuple[CsvFormat, list[str]]:
    """The CSV's separator, decimal mark and encoding, guessed from its first lines."""
    raw = path.read_bytes()[: 1 << 16]
    encoding, why = "utf-8", "the bytes are valid UTF-8"
    try:
        sample = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(raw) - 4:  # not just a character cut at the sample's end
            encoding, why = "latin-1", f"not UTF-8 (byte at {exc.start}): read as Latin-1"
        sample = raw.decode(encoding, errors="ignore")
    lines = sample.splitlines()[:50]
    try:
        sep = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    cells = [c for line in lines[1:] for c in line.split(sep)]
    comma_numbers = sum(bool(re.fullmatch(r"\s*-?\d+,\d+\s*", c)) for c in cells)
    decimal = "," if sep != "," and comma_numbers > 0 else "."
    format_ = CsvFormat(sep=sep, decimal=decimal, encoding=codecs.lookup(encoding).name)
    return format_, [
        f"prepare.csv: separator {sep!r}, decimal mark {decimal!r}, encoding "
        f"{format_.encoding} ({why}{'; numbers written 1,5' if decimal == ',' else ''})"
    ]


def plan(
    data: Path,
    target: str,
    *,
    positive: str | None = None,
    id_column: str | None = None,
    root: Path = Path("."),
) -> Plan:
    """The params for `data` (a CSV or Parquet file inside the project `root`).

    Raises:
        DataError: the file or the target does not suit a binary classifier, naming what and why.
    """
    raw_path = _inside(data, root)
    fmt, decisions = sniff_csv(data) if data.suffix.lower() == ".csv" else (CsvFormat(), [])
    frame = read_table(data, as_text=True, csv=fmt)
    if target not in frame:
        raise DataError(f"--target {target!r} is not a column of {data}; columns: {list(frame)}")
    labels, positive, negative, why = _labels(frame[target], positive)
    decisions.append(f"base.positive_label {positive!r}: {why}; negative {negative!r}")
    columns = profile.profile(frame, skip=(target,))
    if id_column is not None:
        if id_column not in frame:
            raise DataError(f"--id {id_column!r} is not a column of {data}; columns: {list(frame)}")
        chosen = next(c for c in columns if c.name == id_column)
        id_why = "given with --id"
    else:
        chosen = profile.id_candidate(columns, frame)
        id_column = chosen.name if chosen else None
        id_why = chosen.reason if chosen else "no column has a distinct value in every row"
    decisions.append(f"base.id_column {id_column!r}: {id_why}")
    y = (category_text(frame[target]) == positive).to_numpy(dtype=np.int64)
    features = _features(frame, [c for c in columns if c.name != id_column], y, decisions)
    if not features:
        raise DataError(f"{data}: no column is usable as a feature (see the reasons above)")
    sections = {
        "base": _base(target, positive, negative, id_column),
        "prepare": _prepare(raw_path, file_digest(data), fmt, features),
        "simulate": _simulate(frame, features),
        "fairness": _fairness(features),
    }
    text = _render(sections, frame, target, labels)
    params = yaml.safe_load(text)
    _fit_to_size(params, rows=len(frame))
    text = _knn_grid(text, params)
    validate(yaml.safe_load(text), source="the params churnops init writes")
    groups = [c for c in features if _GROUPS.search(c)]
    decisions.append(
        f"fairness.groups left empty; columns that may be sensitive: {groups}"
        if groups
        else "fairness.groups left empty; no column is named like a sensitive attribute"
    )
    decisions.append("problem and business: null (state them to get the business threshold)")
    return Plan(text, decisions)


def _features(
    frame: pd.DataFrame, columns: list[profile.Column], y: np.ndarray, decisions: list[str]
) -> dict[str, str]:
    """The features and their kinds: the usable columns but those that alone give the answer
    away (one decision line per column)."""
    features = {c.name: c.use for c in columns if c.use}
    scores = leakage.single_column_auc(frame, features, y, seed=SEED)
    for column in columns:
        score = scores.get(column.name)
        if score is not None and score >= LEAVE_OUT_AUC:
            features.pop(column.name)
            decisions.append(
                f"left out {column.name}: alone it predicts the target with cross-validated "
                f"ROC-AUC {score:.3f} (>= {LEAVE_OUT_AUC}): it all but certainly leaks the outcome"
            )
        elif column.use:
            decisions.append(
                f"{column.use:<11} {column.name}: {column.reason}{_check(column, score)}"
            )
        else:
            decisions.append(f"left out {column.name} ({column.kind}): {column.reason}")
    return features


def _check(column: profile.Column, score: float | None) -> str:
    """What the user should check about a kept feature before trusting the model ("" if nothing)."""
    if score is not None and score >= LEAKAGE_MAX_AUC:
        return (
            f" -- CHECK: alone it gives cross-validated ROC-AUC {score:.3f} (>= {LEAKAGE_MAX_AUC});"
            " if it is known only after the outcome, remove it (prepare warns on every run)"
        )
    if leakage.after_the_fact(column.name):
        return (
            " -- CHECK: its name reads like a date, a follow-up time or a result; if it is known"
            " only after the outcome, remove it (prepare warns on every run)"
        )
    return ""


def _inside(data: Path, root: Path) -> str:
    if not data.is_file():
        raise DataError(f"{data}: no such file")
    try:
        return data.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise DataError(
            f"{data} is outside the project {root.resolve()}: copy it under data/raw/ (DVC "
            "tracks what the pipeline reads by its path in the project)"
        ) from None


def _labels(values: pd.Series, positive: str | None) -> tuple[dict[str, int], str, str, str]:
    text = category_text(values)
    if text.isna().any():
        raise DataError(f"target {values.name!r} has {int(text.isna().sum())} missing values")
    counts = {str(k): int(v) for k, v in text.value_counts().items()}
    if len(counts) != 2:
        shown = dict(list(counts.items())[:10])
        raise DataError(
            f"target {values.name!r} must have exactly 2 labels for a binary classifier, got "
            f"{len(counts)}: {shown} (value: rows)"
        )
    if positive is not None:
        if positive not in counts:
            raise DataError(f"--positive {positive!r} is not a label of {values.name!r}: {counts}")
        why = "given with --positive"
    else:
        positive, why = profile.guess_positive(counts)
    negative = next(label for label in counts if label != positive)
    return counts, positive, negative, why


def _base(target: str, positive: str, negative: str, id_column: str | None) -> dict[str, Any]:
    return {
        "seed": SEED,
        "target": target,
        "positive_label": positive,
        "negative_label": negative,
        "id_column": id_column,
        "n_jobs": -1,
        "scheduler": engine.LOCAL,
        "n_workers": engine.DEFAULT_WORKERS,
    }


def _prepare(raw_path: str, sha: str, fmt: CsvFormat, features: dict[str, str]) -> dict:
    return {
        "raw_path": raw_path,
        "csv": {"sep": fmt.sep, "decimal": fmt.decimal, "encoding": fmt.encoding},
        "sha256": sha,
        "test_size": 0.2,
        "strict_schema": False,
        "coerce_tolerance": profile.COERCE_TOLERANCE,
        "range_tolerance": 0.1,
        "range_limit": 10,
        "bounds": None,
        "high_cardinality": {"max_share": profile.NEAR_UNIQUE, "top_k": 20},
        "leakage": "warn",
        "leakage_max_auc": LEAKAGE_MAX_AUC,
        "columns": features,
    }


def _simulate(frame: pd.DataFrame, features: dict[str, str]) -> dict[str, Any]:
    """Drill scenarios on the data's own columns: the first numeric column and the categorical
    column with the most rows in its second most frequent value."""
    numeric = [c for c, k in features.items() if k == "numeric"]
    categorical = [c for c, k in features.items() if k == "categorical"]
    times = {k: Simulate.model_fields[k].default for k in ("start", "days")}
    out: dict[str, Any] = {"scenario": "none", "rows": None, **times}
    out["price_increase"] = {"column": numeric[0], "percent": 20} if numeric else {}
    out["missing_spike"] = {"column": (numeric or categorical)[0], "share": 0.2}
    if categorical:
        column = max(categorical, key=lambda c: _second(frame[c])[1])
        value = _second(frame[column])[0]
        out["mix_shift"] = {"column": column, "value": value, "share": 0.7}
        out["new_category"] = {"column": column, "value": "(a new value)", "share": 0.1}
        out["concept_drift"] = {"column": column, "value": value, "flip_share": 0.5}
    else:
        out.update(mix_shift={}, new_category={}, concept_drift={})
    return out


def _second(values: pd.Series) -> tuple[str, int]:
    counts = category_text(values).value_counts()
    return (str(counts.index[1]), int(counts.iloc[1])) if len(counts) > 1 else ("", 0)


def _fairness(features: dict[str, str]) -> dict[str, Any]:
    return {
        "groups": [],
        "max_demographic_parity_difference": 0.1,
        "max_equalized_odds_difference": 0.1,
    }


def _fit_to_size(params: dict[str, Any], *, rows: int) -> None:
    """Keep k-NN's neighbour counts below the rows a CV fold trains on."""
    fold_rows = int(rows * (1 - params["prepare"]["test_size"]) * (1 - 1 / 5))
    knn = params["train"]["candidates"].get("knn")
    if knn:
        limit = max(1, fold_rows // 2)
        knn["grid"]["n_neighbors"] = sorted({min(k, limit) for k in knn["grid"]["n_neighbors"]})
        knn["params"]["n_neighbors"] = min(knn["params"]["n_neighbors"], limit)
        params["_knn"] = knn


def _knn_grid(text: str, params: dict[str, Any]) -> str:
    knn = params.pop("_knn", None)
    if not knn:
        return text
    text = re.sub(
        r"(?m)^(      params: \{n_neighbors: )\d+",
        lambda m: f"{m.group(1)}{knn['params']['n_neighbors']}",
        text,
        count=1,
    )
    grid = ", ".join(str(k) for k in knn["grid"]["n_neighbors"])
    return re.sub(r"(?m)^(      grid: \{n_neighbors: )\[[^\]]*\]", rf"\g<1>[{grid}]", text, count=1)


def _dump(section: str, value: Any) -> str:
    return yaml.safe_dump({section: value}, sort_keys=False, allow_unicode=True, width=100)


def _render(sections: dict[str, Any], frame: pd.DataFrame, target: str, labels: dict) -> str:
    base, prepare = sections["base"], sections["prepare"]
    counts = ", ".join(f"{k}: {v:,}" for k, v in labels.items())
    head = [
        "# Written by `churnops init`; every decision about the columns is printed by it with its",
        "# reason. Edit freely: params.yaml is yours. `make repro` runs the pipeline on it.",
        f"# Data: {prepare['raw_path']}, {len(frame):,} rows x {len(frame.columns)} columns; "
        f"target {target} ({counts}).",
        "",
        "# base.scheduler: where batch scoring, the monitor and tuning run: local (this process),",
        "# dask-local (a LocalCluster of n_workers processes) or a scheduler's tcp://host:8786.",
        _dump("base", base),
        "# prepare.columns: the features and their kind (numeric or categorical); the file's",
        "# other columns are ignored (strict_schema: false) and listed in the data-quality report.",
        _dump("prepare", prepare),
        "# Monitoring drills: the held-out rows changed by a scenario, on this data's columns.",
        _dump("simulate", sections["simulate"]),
        "# Groups to check for disparities: name the columns (see what `churnops init` printed).",
        _dump("fairness", sections["fairness"]),
        "# Why the model exists and the words for a row and the outcome, e.g.",
        "#   problem: {entity: patient, entities: patients, outcome: recurrence, verb: recur,",
        "#             positives: recurrences, statement: ..., intended_use: ...}",
        '# null: neutral words ("record", "<target>=<label>") and no stated purpose.',
        "problem: null",
        "",
        "# The economics of acting on a score (offer_cost, retained_value, offer_success_rate,",
        "# thresholds); null: the decision threshold is evaluate.threshold.",
        "business: null",
        "",
    ]
    return "\n".join(head) + TEMPLATE.read_text(encoding="utf-8")


def write(plan_: Plan, out: Path, *, force: bool) -> None:
    """Write the params, refusing to replace an existing file unless `force`; the text is
    checked to load as valid params first."""
    if out.exists() and not force:
        raise FileExistsError(f"{out} exists: churnops init --force replaces it")
    out.write_text(plan_.text, encoding="utf-8")
    load_params(out)
