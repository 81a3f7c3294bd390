"""The promotion gate: the challenger (the workspace's bundle) against the champion (the
registry's version in prod), both scored on the same rows that neither trained on, judged by the
criteria in params `gate`. TFX-style value thresholds (the challenger alone) and change
thresholds (against the champion):

- roc_auc >= min_roc_auc (value);
- non-inferiority of ROC-AUC: the lower end of the paired-bootstrap interval of (challenger -
  champion) >= -max_auc_drop;
- Brier score not worse than the champion's by more than max_brier_increase;
- expected business value at each model's own threshold not below the champion's by more than
  max_value_drop_share of it (with a `business` section);
- for each `fairness.groups` column, the demographic-parity and equalized-odds gaps not wider
  than the champion's by more than max_fairness_gap_increase;
- the compiled fast path kept when the champion had it;
- single-row p99 scoring latency not above max_latency_ratio x the champion's, measured in the
  same run, interleaved.

With no champion the first model is judged on the value thresholds alone, and the report says so.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score

from churnops.data.cleaning import binary_target
from churnops.files import read_json, read_table
from churnops.modeling import business, fairness
from churnops.registry import bundle, gate_rows, versions

TRAIN, TEST = "data/prepared/train.parquet", "data/prepared/test.parquet"
LATENCY_ROWS = 200  # single-row calls per model for the latency comparison
_DIGITS = 6


@dataclass
class Candidate:
    """A bundle scored on the gate's rows."""

    role: str  # challenger or champion
    version: str
    model: Any
    threshold: float
    compiled: bool
    proba: np.ndarray | None = None


def load(role: str, folder: Path, version: str) -> Candidate:
    """A verified bundle's model, threshold and whether it was compiled."""
    bundle.verify(folder)
    parts = bundle.paths(folder)
    meta = read_json(parts["meta"])
    manifest = read_json(parts["compiled"] / "manifest.json")
    return Candidate(
        role=role,
        version=version,
        model=joblib.load(parts["model"]),
        threshold=float(meta["decision_threshold"]["value"]),
        compiled=bool(manifest.get("compiled")),
    )


def decide(
    repo: Path,
    params: Mapping[str, Any],
    *,
    champion: str | None,
    holdout: pd.DataFrame | None = None,
    latency: bool = True,
    challenger_dir: str | Path = versions.LOCK_OUT,
    test_path: str | Path = TEST,
) -> dict[str, Any]:
    """The workspace's bundle against the registered version `champion` (None: the value
    thresholds alone), fetched by its tag, on the test split less the rows the champion trained
    on, plus `holdout`; the decision report (see `judge`), with where its rows came from.

    Raises:
        versions.RegistryError: the champion cannot be fetched.
        bundle.BundleError: a bundle's file does not match its sha256.
        ValueError: the rows cannot be compared (one class only, a missing column).
    """
    folder = repo / challenger_dir
    meta = read_json(bundle.paths(folder)["meta"])
    new = load("challenger", folder, f"workspace {meta['model_sha256'][:12]}")
    old, trained_on = None, None
    if champion is not None:
        old = load("champion", versions.fetch(repo, version=champion), champion)
        with tempfile.TemporaryDirectory() as tmp:
            path = versions.fetch_file(repo, TRAIN, champion, Path(tmp) / "train.parquet")
            trained_on = read_table(path)
    rows = gate_rows.rows_neither_trained_on(
        read_table(repo / test_path), trained_on, params["base"]["id_column"]
    )
    test_rows, refused = len(rows), 0
    if holdout is not None:
        schema = read_json(bundle.paths(folder)["schema"])
        holdout, refused = gate_rows.typed_holdout(holdout, schema)
    rows = gate_rows.with_holdout(rows, holdout)
    report = judge(new, old, rows, params, latency=latency)
    report["rows_from"] = {
        "test_split": test_rows,
        "holdout": len(rows) - test_rows,
        "holdout_refused_by_contract": refused,
    }
    return report


def check_latency(
    repo: Path,
    params: Mapping[str, Any],
    champion: str,
    *,
    challenger_dir: str | Path = versions.LOCK_OUT,
) -> dict[str, Any]:
    """The latency criterion alone, measured now on the test split's rows: the check the
    pipeline's gate stage leaves out so that its outputs stay reproducible."""
    folder = repo / challenger_dir
    new = load("challenger", folder, "workspace")
    old = load("champion", versions.fetch(repo, version=champion), champion)
    rows = read_table(repo / TEST)
    base = params["base"]
    features = [c for c in rows.columns if c not in (base["target"], base["id_column"])]
    return _latency_check([new, old], rows, features, params["gate"])


def paired_auc_difference(
    y: np.ndarray, a: np.ndarray, b: np.ndarray, *, samples: int, seed: int, confidence: float
) -> dict[str, float]:
    """ROC-AUC(a) - ROC-AUC(b) on the same rows, with a paired percentile-bootstrap interval
    (both models scored on the same resample each time)."""
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(samples):
        idx = rng.integers(0, len(y), len(y))
        if y[idx].min() == y[idx].max():
            continue
        diffs.append(roc_auc_score(y[idx], a[idx]) - roc_auc_score(y[idx], b[idx]))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    return {
        "difference": _round(roc_auc_score(y, a) - roc_auc_score(y, b)),
        "low": _round(low),
        "high": _round(high),
        "confidence": confidence,
        "samples": len(diffs),
    }


def latency_p99_ms(candidates: list[Candidate], rows: pd.DataFrame, features: list[str]) -> dict:
    """Each model's p99 single-row scoring time, the calls interleaved so that both see the same
    machine load."""
    times: dict[str, list[float]] = {c.role: [] for c in candidates}
    sample = rows[features].head(LATENCY_ROWS)
    for i in range(len(sample)):
        one = sample.iloc[[i]]
        for candidate in candidates:
            start = time.perf_counter()
            candidate.model.predict_proba(one)
            times[candidate.role].append((time.perf_counter() - start) * 1000)
    return {role: _round(float(np.percentile(t, 99))) for role, t in times.items()}


def judge(
    challenger: Candidate,
    champion: Candidate | None,
    rows: pd.DataFrame,
    params: Mapping[str, Any],
    *,
    latency: bool = True,
) -> dict[str, Any]:
    """Score both on `rows` and apply every criterion (the latency one when `latency`); the
    decision report."""
    rules, base = params["gate"], params["base"]
    features = [c for c in rows.columns if c not in (base["target"], base["id_column"])]
    y = binary_target(rows[base["target"]], base["positive_label"])
    if y.min() == y.max():
        raise ValueError(f"the gate's {len(rows)} rows hold one class only: cannot compare")
    scored = [challenger] + ([champion] if champion else [])
    for candidate in scored:
        candidate.proba = candidate.model.predict_proba(rows[features])[:, 1]
    figures = {c.role: _figures(c, y, rows, params) for c in scored}
    checks = [_check("roc_auc", figures["challenger"]["roc_auc"], ">=", rules["min_roc_auc"])]
    if champion is not None:
        checks += _against(challenger, champion, figures, y, rows, features, params)
        if latency:
            check = _latency_check([challenger, champion], rows, features, rules)
            figures["challenger"]["latency_p99_ms"] = check["value"]
            figures["champion"]["latency_p99_ms"] = check["detail"]["champion"]
            checks.append(check)
    passed = all(c["passed"] for c in checks)
    return {
        "decision": "pass" if passed else "fail",
        "failed": [c["name"] for c in checks if not c["passed"]],
        "challenger": challenger.version,
        "champion": champion.version if champion else None,
        "note": None if champion else "no champion named: judged on the value thresholds alone",
        "latency_measured": bool(champion and latency),
        "rows": len(rows),
        "figures": figures,
        "criteria": checks,
    }


def _figures(candidate: Candidate, y: np.ndarray, rows: pd.DataFrame, params: Mapping) -> dict:
    proba = candidate.proba
    out: dict[str, Any] = {
        "version": candidate.version,
        "roc_auc": _round(roc_auc_score(y, proba)),
        "brier": _round(brier_score_loss(y, proba)),
        "threshold": candidate.threshold,
        "compiled": candidate.compiled,
    }
    if params.get("business"):
        economics = business.Economics.from_params(params["business"])
        impact = business.impact(y, proba, candidate.threshold, economics)
        out["expected_value"] = impact["expected_savings"]
    groups = list((params.get("fairness") or {}).get("groups") or [])
    if groups:
        limits = {
            k: params["fairness"][k]
            for k in ("max_demographic_parity_difference", "max_equalized_odds_difference")
        }
        report = fairness.assess(
            rows, y, proba, candidate.threshold, groups=groups, limits=limits, samples=0, seed=0
        )
        out["fairness_gaps"] = {
            g: {k: r[k] for k in ("demographic_parity_difference", "equalized_odds_difference")}
            for g, r in report["groups"].items()
        }
    return out


def _against(challenger, champion, figures, y, rows, features, params) -> list[dict[str, Any]]:
    rules, evaluation = params["gate"], params["evaluate"]
    new, old = figures["challenger"], figures["champion"]
    auc = paired_auc_difference(
        y,
        challenger.proba,
        champion.proba,
        samples=evaluation["bootstrap_samples"],
        seed=params["base"]["seed"],
        confidence=evaluation["confidence"],
    )
    new["roc_auc_difference"] = auc
    checks = [
        _check("roc_auc_non_inferior", auc["low"], ">=", -rules["max_auc_drop"], detail=auc),
        _check("brier", new["brier"], "<=", _round(old["brier"] + rules["max_brier_increase"])),
    ]
    if "expected_value" in new:
        floor = old["expected_value"] - rules["max_value_drop_share"] * abs(old["expected_value"])
        checks.append(_check("expected_value", new["expected_value"], ">=", _round(floor)))
    for group, gaps in (new.get("fairness_gaps") or {}).items():
        for gap, value in gaps.items():
            before = old["fairness_gaps"][group][gap]
            if value is not None and before is not None:
                limit = _round(before + rules["max_fairness_gap_increase"])
                checks.append(_check(f"fairness.{group}.{gap}", value, "<=", limit))
    checks.append(
        _check("compiled", new["compiled"], ">=", old["compiled"], detail="keeps the fast path")
    )
    return checks


def _latency_check(
    candidates: list[Candidate], rows: pd.DataFrame, features: list[str], rules: Mapping
) -> dict[str, Any]:
    """The challenger's single-row p99 against max_latency_ratio x the champion's."""
    latency = latency_p99_ms(candidates, rows, features)
    limit = _round(latency["champion"] * rules["max_latency_ratio"])
    return _check(
        "latency_p99_ms",
        latency["challenger"],
        "<=",
        limit,
        detail={"champion": latency["champion"]},
    )


def _check(name: str, value: Any, op: str, limit: Any, detail: Any = None) -> dict[str, Any]:
    passed = bool(value >= limit) if op == ">=" else bool(value <= limit)
    entry = {"name": name, "value": value, "op": op, "limit": limit, "passed": passed}
    if detail is not None:
        entry["detail"] = detail
    return entry


def _round(value: float) -> float:
    return round(float(value), _DIGITS)


def markdown(report: Mapping[str, Any]) -> str:
    """The decision as a page: the verdict, then each criterion with its numbers."""
    verdict = "PASS" if report["decision"] == "pass" else "FAIL"
    champion = report["champion"] or "none"
    lines = [
        f"# Promotion gate: {verdict}",
        "",
        f"Challenger `{report['challenger']}` against champion `{champion}` on "
        f"{report['rows']:,} rows neither trained on.",
        "",
    ]
    if report["note"]:
        lines += [report["note"] + ".", ""]
    if report["champion"] and not report.get("latency_measured", True):
        lines += [
            "Latency is not judged here: the pipeline's gate stage keeps its outputs "
            "reproducible; `churnops gate` and `churnops retrain` measure it when they release.",
            "",
        ]
    lines += ["| criterion | value | limit | passed |", "|---|---:|---:|---|"]
    for c in report["criteria"]:
        lines.append(
            f"| {c['name']} | {c['value']} | {c['op']} {c['limit']} | "
            f"{'yes' if c['passed'] else '**no**'} |"
        )
    auc = report["figures"]["challenger"].get("roc_auc_difference")
    if auc:
        lines += [
            "",
            f"ROC-AUC difference (challenger - champion): {auc['difference']:+.4f}, "
            f"{auc['confidence']:.0%} paired-bootstrap interval [{auc['low']:+.4f}, "
            f"{auc['high']:+.4f}] over {auc['samples']} resamples.",
        ]
    return "\n".join(lines) + "\n"
