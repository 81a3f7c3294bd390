"""Retraining from production feedback: the guide's retraining steps as one operation on the
project repository, safe to run again at any time.

1. Read every labelled prediction of the prediction log (any model version, inputs of the
   current schema), with its latest outcome.
2. Validate those rows with the input contract the service applies; above
   `retrain.max_refused_share` refused, stop.
3. Merge them into the current training data (`data.production.merge`: one row per id, latest
   outcome wins, the newest `retrain.holdout_share` held out for the gate). Fewer than
   `retrain.min_new_rows` new or changed rows than the current data version holds: nothing to
   do (so a second run without new outcomes changes nothing).
4. Write the new data version to `data/retrain/` and track it with `dvc add`; point
   `prepare.raw_path` and `prepare.sha256` at it through `dvc exp run -S` (DVC edits params.yaml),
   which runs the whole pipeline as a named DVC experiment.
   The experiment's gate stage judges the new bundle against the registry's prod version
   (`gate.champion`, `gate.holdout` set through `-S` too) on the test split and the held-out
   production window.
5. Measure the latency criterion, which the stage leaves out to keep its outputs reproducible.
6. Pass: commit, register the version, promote it to staging (and to prod when asked), push
   data and models to the DVC remote and, when the branch has an upstream, the commit and tags.
   Refusal or error: the branch, the workspace and params.yaml are put back as they were (the
   refused challenger stays as a DVC experiment, its decision under `.churnops/retrain/`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from churnops.config import load_params
from churnops.data import production
from churnops.data.contract import Contract
from churnops.files import CsvFormat, file_digest, read_json, read_table, staged_outputs
from churnops.lifecycle.repository import (
    RetrainError,
    Say,
    check_ready,
    push,
    put_back_unless_kept,
    run_pipeline,
)
from churnops.registry import bundle, gate, versions
from churnops.serving import log_export

DATA_DIR = "data/retrain"
TRAINING = f"{DATA_DIR}/training.parquet"
HOLDOUT = f"{DATA_DIR}/holdout.parquet"
MANIFEST = f"{DATA_DIR}/retrain.json"
GATE_DIR = "reports/gate"
REFUSED_DIR = ".churnops/retrain"
PROMOTE_TO = ("staging", "prod")


@dataclass
class Result:
    """What retraining did: `nothing-new`, `refused` (by the gate) or `promoted`."""

    status: str
    summary: str
    experiment: str | None = None
    version: str | None = None
    stages: list[str] = field(default_factory=list)
    decision: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)


def retrain(
    repo: Path,
    *,
    log_path: Path,
    params_file: str = "params.yaml",
    promote_to: str = "staging",
    say: Say = print,
) -> Result:
    """Steps 1-6 of the module docstring on the repository `repo`.

    Raises:
        RetrainError: the repository is not ready, the log or the data cannot be read, the
            production rows fail validation, or the pipeline fails; nothing was changed.
    """
    if promote_to not in PROMOTE_TO:
        raise RetrainError(f"--promote must be one of {list(PROMOTE_TO)}, got {promote_to!r}")
    check_ready(repo, params_file)
    params = load_params(repo / params_file)
    data = feedback_data(repo, params, log_path, say)
    if data.new < params["retrain"]["min_new_rows"]:
        return Result(
            "nothing-new",
            f"{data.new:,} new or changed labelled rows since the data version in "
            f"{data.base_path} (retrain.min_new_rows is {params['retrain']['min_new_rows']:,}): "
            "nothing to retrain",
        )
    merged = data.merged
    champion = versions.in_stage(repo, "prod")
    with put_back_unless_kept(repo, data_dir=DATA_DIR, report_dir=GATE_DIR) as keep:
        experiment = _new_data_version(repo, merged, data, champion, say)
        decision = _decision(repo, params_file, champion, say)
        if decision["decision"] != "pass":
            kept = _keep_refusal(repo, experiment, decision)
            return Result(
                "refused",
                f"the gate refused the challenger ({', '.join(decision['failed'])}; "
                f"{gate_line(decision)}); see "
                f"{kept / 'decision.md'}; the repository is as it was, the challenger is DVC "
                f"experiment {experiment} (dvc exp show)",
                experiment=experiment,
                decision=decision,
            )
        version, stages = _release(repo, merged, decision, promote_to, experiment)
        keep()
    warnings = push(repo, say)
    return Result(
        "promoted",
        f"{versions.ARTIFACT}@{version} registered and promoted to {' and '.join(stages)}; "
        + gate_line(decision),
        experiment=experiment,
        version=version,
        stages=stages,
        decision=decision,
        warnings=warnings,
    )


@dataclass(frozen=True)
class FeedbackData:
    """The production feedback merged into the current data version."""

    merged: production.Merged
    new: int  # rows of the merged training data the current version does not hold
    base_path: str  # the current data version


def feedback_data(repo: Path, params: Mapping[str, Any], log_path: Path, say: Say) -> FeedbackData:
    """Steps 1-3: the log's labelled rows, validated, merged into the current data version.

    Raises:
        RetrainError: the log holds no usable outcome or too many refused rows, or it withholds
            model inputs (governance.pii_columns).
    """
    schema = read_json(repo / versions.SCHEMA)
    withheld = [c for c in params["governance"]["pii_columns"] if c in schema["features"]]
    if withheld:
        raise RetrainError(
            f"governance.pii_columns withholds the model input(s) {withheld} from the prediction "
            "log, so its rows cannot train this model: retrain on a data version that holds "
            "them (point prepare.raw_path at it and run dvc repro), or drop those columns from "
            "prepare.columns"
        )
    rows = labelled_rows(log_path, schema, read_json(repo / versions.META))
    say(f"read {len(rows):,} labelled predictions from {log_path}")
    accepted, refused = validate(rows, schema, params)
    if refused:
        say(f"left out {refused:,} rows the input contract refuses")
    base_path = params["prepare"]["raw_path"]
    base = read_table(repo / base_path, as_text=True, csv=CsvFormat.from_params(params))
    target, id_column = params["base"]["target"], params["base"]["id_column"]
    merged = production.merge(
        base,
        accepted,
        target=target,
        id_column=id_column,
        holdout_share=params["retrain"]["holdout_share"],
        required=[c for c in (target, id_column, *schema["features"]) if c],
    )
    new = production.new_rows(base, merged.training)
    say(production.counts_line(merged.report) + f"; {new:,} new or changed")
    return FeedbackData(merged=merged, new=new, base_path=base_path)


def labelled_rows(
    log_path: Path, schema: Mapping[str, Any], meta: Mapping[str, Any]
) -> pd.DataFrame:
    """Every prediction in the log whose outcome is known, in the training data's shape (see
    `serving.log_export`), of any model version whose inputs hold this schema's features.

    Raises:
        RetrainError: the log cannot be read, or it holds no labelled prediction.
    """
    positive = meta["positive_label"]
    negative = next(c for c in meta["classes"] if c != positive)
    try:
        with log_export.LogReader(log_path) as reader:
            parts = list(
                reader.export(
                    schema, positive_label=positive, negative_label=negative, labelled_only=True
                )
            )
    except log_export.LogFileError as exc:
        raise RetrainError(f"cannot read the prediction log: {exc}") from None
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if rows.empty:
        raise RetrainError(
            f"no prediction in {log_path} has a known outcome yet: send outcomes to the "
            "service's /feedback route first"
        )
    return rows


def validate(
    rows: pd.DataFrame, schema: Mapping[str, Any], params: Mapping[str, Any]
) -> tuple[pd.DataFrame, int]:
    """The rows the service's input contract accepts (policy `serve.policy`), and how many it
    refused.

    Raises:
        RetrainError: more than `retrain.max_refused_share` of the rows are refused, with the
            most frequent reasons.
    """
    contract = Contract(schema, policy=params["serve"]["policy"])
    _, reasons, _ = contract.check_frame(rows)
    refused = reasons != ""
    share, limit = float(refused.mean()), params["retrain"]["max_refused_share"]
    if share > limit:
        common = reasons[refused].value_counts().head(3)
        raise RetrainError(
            f"the input contract refuses {int(refused.sum()):,} of {len(rows):,} labelled "
            f"production rows ({share:.1%} > retrain.max_refused_share {limit:.1%}); most "
            f"frequent: {'; '.join(f'{r} ({n})' for r, n in common.items())}"
        )
    return rows[~refused.to_numpy()].reset_index(drop=True), int(refused.sum())


def _new_data_version(
    repo: Path, merged: production.Merged, data: FeedbackData, champion: str | None, say: Say
) -> str:
    """Write and `dvc add` the data version, then run the pipeline on it as an experiment whose
    gate stage judges against `champion` with the held-out window."""
    with staged_outputs() as out:
        out.write_parquet(repo / TRAINING, merged.training)
        out.write_parquet(repo / HOLDOUT, merged.holdout)
    digest, held = file_digest(repo / TRAINING), file_digest(repo / HOLDOUT)
    with staged_outputs() as out:
        out.write_json(
            repo / MANIFEST,
            {
                "built_on": {"path": data.base_path, "sha256": file_digest(repo / data.base_path)},
                "training": {"path": TRAINING, "sha256": digest},
                "holdout": {"path": HOLDOUT, "sha256": held},
                "new_or_changed_rows": data.new,
                **merged.report,
            },
        )
    versions.dvc(repo, "add", "--quiet", TRAINING, HOLDOUT)
    name = f"retrain-{digest[:8]}"
    versions.dvc(repo, "exp", "remove", name, check=False)  # a refused run of the same data
    say(f"new data version {TRAINING} ({digest[:12]}); running the pipeline as experiment {name}")
    changes = [
        f"prepare.raw_path={TRAINING}",
        f'prepare.sha256="{digest}"',
        f"gate.champion={champion or 'null'}",
        f'gate.holdout={{path: {HOLDOUT}, sha256: "{held}"}}',
    ]
    run_pipeline(repo, name, changes, say)
    return name


def _decision(repo: Path, params_file: str, champion: str | None, say: Say) -> dict[str, Any]:
    """The gate stage's decision, with the latency criterion measured now (the stage leaves it
    out to stay reproducible)."""
    decision = read_json(repo / GATE_DIR / "decision.json")
    if champion is None:
        return decision
    say(f"the gate stage says {decision['decision']}; measuring latency against {champion}")
    try:
        check = gate.check_latency(repo, load_params(repo / params_file), champion)
    except (versions.RegistryError, bundle.BundleError, ValueError) as exc:
        raise RetrainError(f"the gate could not measure latency: {exc}") from None
    decision["criteria"].append(check)
    decision["latency_measured"] = True
    if not check["passed"]:
        decision["failed"].append(check["name"])
        decision["decision"] = "fail"
    return decision


def gate_line(decision: Mapping[str, Any]) -> str:
    """The gate's verdict in one line, with the ROC-AUC difference and its interval."""
    against = decision["champion"] or "no champion (value thresholds only)"
    line = f"gate {decision['decision']} against {against} on {decision['rows']:,} rows"
    auc = decision["figures"]["challenger"].get("roc_auc_difference")
    if auc:
        line += (
            f"; ROC-AUC {auc['difference']:+.4f} [{auc['low']:+.4f}, {auc['high']:+.4f}] "
            f"({auc['confidence']:.0%} paired bootstrap)"
        )
    return line


def _keep_refusal(repo: Path, experiment: str, decision: Mapping[str, Any]) -> Path:
    """The refused decision, kept outside the tracked tree (put back next)."""
    out = repo / REFUSED_DIR / experiment
    with staged_outputs() as staged:
        staged.write_json(out / "decision.json", decision)
        staged.write_text(out / "decision.md", gate.markdown(decision))
    return out


def _release(
    repo: Path,
    merged: production.Merged,
    decision: Mapping[str, Any],
    promote_to: str,
    experiment: str,
) -> tuple[str, list[str]]:
    """Commit the new data version and results, register, promote; the version and stages."""
    versions.git(repo, "add", "--update")
    versions.git(repo, "add", DATA_DIR, GATE_DIR)
    champion = decision["champion"] or "no champion"
    message = (
        f"Retrain on production feedback; the gate passed against {champion}\n\n"
        f"{production.counts_line(merged.report)}.\n{gate_line(decision)}\n"
        f"The run is DVC experiment {experiment}."
    )
    versions.git(repo, "commit", "--quiet", "-m", message)
    tags = set(versions.git(repo, "tag", "--list").split())
    why = f"retrained; gate passed vs {champion}"
    try:
        version, _ = versions.register(repo, message=why)
        stages = ["staging"] if promote_to == "staging" else ["staging", "prod"]
        for stage in stages:
            versions.promote(repo, version, stage, message=why)
    except versions.RegistryError as exc:
        made = set(versions.git(repo, "tag", "--list").split()) - tags
        if made:
            versions.git(repo, "tag", "--delete", *sorted(made))
        versions.git(repo, "reset", "--quiet", "--hard", "HEAD~1")
        raise RetrainError(f"the registry refused the release: {exc}") from None
    return version, stages
