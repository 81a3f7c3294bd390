"""The pipeline outputs that the model card and the report read, kept as small files under
tests/fixtures/pipeline_outputs/ so that the reporting tests need no `dvc repro`.

They are the outputs of the test pipeline (tests/params.yaml on the 600-row Telco sample);
`tests/test_pipeline.py::test_the_report_fixture_has_the_shape_of_the_pipeline_outputs` fails
when the pipeline's outputs change shape. Refresh them with `python -m tests.report_fixture`.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "pipeline_outputs"
FILES = (
    "models/model_meta.json",
    "models/compiled/manifest.json",
    "data/prepared/schema.json",
    "reports/prepare/data_quality.json",
    "reports/prepare/data_quality.md",
    "reports/train/cv_results.json",
    "reports/evaluate/metrics.json",
    "reports/evaluate/intervals.json",
    "reports/evaluate/diagnostics.json",
    "reports/evaluate/business.json",
    "reports/evaluate/fairness.json",
    "reports/evaluate/plots/permutation_importance.csv",
)


def outputs(folder: Path = FIXTURE) -> dict[str, Any]:
    """What the report stage reads, from `folder` (the fixture, or a repository where the
    pipeline ran), plus the params-given parts."""
    import pandas as pd

    def read(path: str) -> Any:
        return json.loads((folder / path).read_text(encoding="utf-8"))

    return {
        "meta": read("models/model_meta.json"),
        "compiled": read("models/compiled/manifest.json"),
        "schema": read("data/prepared/schema.json"),
        "quality": read("reports/prepare/data_quality.json"),
        "quality_md": (folder / "reports/prepare/data_quality.md").read_text(encoding="utf-8"),
        "cv": read("reports/train/cv_results.json"),
        "metrics": read("reports/evaluate/metrics.json"),
        "intervals": read("reports/evaluate/intervals.json"),
        "diagnostics": read("reports/evaluate/diagnostics.json"),
        "business": read("reports/evaluate/business.json"),
        "fairness": read("reports/evaluate/fairness.json"),
        "permutation": pd.read_csv(
            folder / "reports/evaluate/plots/permutation_importance.csv"
        ).to_dict(orient="records"),
        "problem": {
            "statement": "Customers leave.",
            "current_churn_rate": 0.265,
            "intended_use": "rank customers for retention offers",
        },
        "recipes": [{"kind": "log", "name": "log_total_charges", "column": "TotalCharges"}],
        "source": {"path": "data/raw/sample.csv", "sha256": None},
        **_params_parts(),
    }


def _params_parts() -> dict[str, Any]:
    """The params the model card reads (governance, gate, monitor rules), from the tests'."""
    import yaml

    params = yaml.safe_load((ROOT / "tests" / "params.yaml").read_text(encoding="utf-8"))
    return {
        "governance": params["governance"],
        "gate": params["gate"],
        "rules": params["monitor"]["rules"],
    }


def shape(value: Any, depth: int = 3) -> Any:
    """The keys of nested dicts (to `depth`) and the types of the leaves: what a renderer
    relies on."""
    if isinstance(value, dict) and depth:
        return {key: shape(item, depth - 1) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0], depth - 1)] if value else []
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    return "number" if isinstance(value, int | float) else type(value).__name__


def refresh(target: Path = FIXTURE) -> None:
    """Run the test pipeline in a temporary repository and copy its outputs to `target`."""
    from tests.pipeline_repo import run, sample_repo

    with tempfile.TemporaryDirectory() as tmp:
        repo = sample_repo(Path(tmp) / "repo")
        run(repo, "dvc", "repro")
        for path in FILES:
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo / path, target / path)
    print(f"refreshed {len(FILES)} files under {target}", file=sys.stderr)


if __name__ == "__main__":
    refresh()
