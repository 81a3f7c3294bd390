"""`churnops summary`: the headline metrics of the last run and where its reports are."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml


def add(commands: Any) -> None:
    """Declare the command and its options."""
    show = commands.add_parser(
        "summary", help="print the headline metrics and where the reports are"
    )
    show.add_argument(
        "--root", type=Path, default=Path("."), help="project folder (holds dvc.yaml)"
    )
    show.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not (args.root / "dvc.yaml").is_file():
        print(f"churnops: no dvc.yaml in {args.root.resolve()}", file=sys.stderr)
        return 2
    print(summary(args.root))
    return 0


HEADLINE = ("roc_auc", "pr_auc", "accuracy", "precision", "recall", "f1", "log_loss", "brier")


def pipeline_files(dvc_yaml: Path) -> tuple[list[Path], list[Path]]:
    """The metrics files and the report outputs (under `reports/`) that `dvc.yaml` declares."""
    spec = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8")) or {}
    metrics, reports = [], []
    for stage in (spec.get("stages") or {}).values():
        for key in ("metrics", "outs", "plots"):
            for entry in stage.get(key) or []:
                path = Path(next(iter(entry)) if isinstance(entry, dict) else entry)
                if key == "metrics":
                    metrics.append(path)
                elif path.parts and path.parts[0] == "reports":
                    reports.append(path)
    return metrics, reports


def summary(root: Path) -> str:
    """A short human summary of the last run: headline metrics, the model, where reports are."""
    metrics_files, reports = pipeline_files(root / "dvc.yaml")
    details = [p for p in reports if p.name == "cv_results.json"]  # the model-selection line
    lines = []
    for path in [*metrics_files, *details]:
        full = root / path
        if not full.exists():
            lines.append(f"{path}: not produced yet (run `make repro`)")
            continue
        data: dict[str, Any] = json.loads(full.read_text(encoding="utf-8"))
        if all(k in data for k in HEADLINE):
            lines.append(f"Test metrics ({path}):")
            lines += [f"  {k:<10} {data[k]:.4f}" for k in HEADLINE]
        elif "tuned" in data:
            tuned = data["tuned"]
            lines.append(
                f"Model selection ({path}): rule {data['selection']['rule']} chose "
                f"{data['selection']['chosen']} (best mean: {data['selection']['best']}); "
                f"tuned {data['scoring']} {tuned['mean']:.4f} ± {tuned['std']:.4f} "
                f"({data['folds']}-fold CV) with {tuned['params']}"
            )
    lines.append("Reports:")
    lines += [f"  {p}{'/' if (root / p).is_dir() else ''}" for p in reports if (root / p).exists()]
    return "\n".join(lines)
