"""Build a throw-away git + DVC repository holding this project's pipeline and a given data file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from churnops.params import load_params
from tests.conftest import ROOT, TEST_PARAMS

PIPELINE_FILES = ("dvc.yaml", ".dvcignore", ".gitignore", "stages", "src")


def environment() -> dict[str, str]:
    """The environment DVC runs stages in: this interpreter's `python` first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["DVC_NO_ANALYTICS"] = "1"
    return env


def run(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command in the repository (`dvc ...` runs this interpreter's DVC)."""
    command = [sys.executable, "-m", "dvc", *args[1:]] if args[0] == "dvc" else list(args)
    result = subprocess.run(
        command, cwd=repo, env=environment(), capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def small_training(params: dict[str, Any]) -> dict[str, Any]:
    """Shrink the search so the pipeline runs in seconds: 3 folds, one worker, small grids."""
    params["base"]["n_jobs"] = 1
    params["train"]["cv_folds"] = 3
    candidates = params["train"]["candidates"]
    candidates["random_forest"]["params"]["n_estimators"] = 30
    candidates["random_forest"]["grid"] = {}
    candidates["gradient_boosting"]["params"]["max_iter"] = 50
    candidates["gradient_boosting"]["grid"] = {}
    candidates["svm"]["grid"] = {}
    candidates["knn"]["params"]["n_neighbors"] = 25
    candidates["knn"]["grid"] = {}
    for cfg in candidates.values():
        if cfg["type"] in ("soft_voting", "stacking"):
            cfg["grid"] = {}
    params["evaluate"].update(bootstrap_samples=50, permutation_repeats=2)
    params["evaluate"]["learning_curve"]["train_sizes"] = [0.5, 1.0]
    return params


def project_params() -> dict[str, Any]:
    return load_params(TEST_PARAMS)


def make_repo(root: Path, raw: pd.DataFrame, raw_name: str, params: dict[str, Any]) -> Path:
    """Create a repository at `root` with the pipeline, `raw` saved as data/raw/`raw_name`
    (CSV or Parquet by its suffix), and `params`; commit it."""
    root.mkdir(parents=True)
    for name in PIPELINE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy2(source, root / name)
    raw_path = root / "data" / "raw" / raw_name
    raw_path.parent.mkdir(parents=True)
    if raw_name.endswith(".parquet"):
        raw.to_parquet(raw_path, index=False)
    else:
        raw.to_csv(raw_path, index=False)
    params["prepare"]["raw_path"] = f"data/raw/{raw_name}"
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(root, "git", "init", "-q", "-b", "main")
    run(root, "git", "config", "user.name", "churnops tests")
    run(root, "git", "config", "user.email", "tests@churnops.invalid")
    run(root, "dvc", "init", "-q")
    run(root, "dvc", "config", "core.analytics", "false")
    commit(root, "pipeline and data")
    return root


def commit(repo: Path, message: str) -> None:
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-q", "-m", message)


def sample_repo(root: Path) -> Path:
    """The test pipeline's repository: a stratified 600-row sample of Telco, tests/params.yaml
    with small grids, committed; `dvc repro` not yet run."""
    from tests.conftest import TELCO

    raw = pd.read_csv(TELCO, dtype=str, keep_default_na=False)
    sample = raw.groupby("Churn", group_keys=False).sample(frac=600 / len(raw), random_state=0)
    params = small_training(project_params())
    params["prepare"]["sha256"] = None
    return make_repo(root, sample, "sample.csv", params)


def served_from(repo: Path, **changes: Any):
    """The service's settings for the model, schema and log of a pipeline repository."""
    from churnops.serving.settings import Settings

    return Settings(
        model_path=repo / "models/model.joblib",
        meta_path=repo / "models/model_meta.json",
        schema_path=repo / "data/prepared/schema.json",
        compiled_path=repo / "models/compiled",
        log_path=repo / "logs/predictions.sqlite",
        **changes,
    )
