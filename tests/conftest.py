"""Shared fixtures: a small in-code raw frame and its spec, and the project's locations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnops.data import DataSpec

ROOT = Path(__file__).resolve().parents[1]
TELCO = ROOT / "data" / "raw" / "telco_churn.csv"


@pytest.fixture
def spec() -> DataSpec:
    return DataSpec(
        target="churned",
        positive_label="yes",
        negative_label="no",
        id_column="cid",
        columns={
            "plan": "categorical",
            "months": "numeric",
            "bill": "numeric",
            "region": "categorical",
        },
        strict=True,
        coerce_tolerance=0.1,
    )


@pytest.fixture
def raw() -> pd.DataFrame:
    """Twenty raw rows as read from CSV text: every cell a string, one blank bill."""
    rng = np.random.default_rng(0)
    n = 20
    months = rng.integers(0, 60, n)
    frame = pd.DataFrame(
        {
            "cid": [f"c{i:03d}" for i in range(n)],
            "plan": ["basic", "pro"] * (n // 2),
            "months": months.astype(str),
            "bill": np.round(rng.uniform(10, 100, n), 2).astype(str),
            "region": ["north", "south", "east", "west"] * (n // 4),
            "churned": ["yes", "no", "no", "no", "yes"] * (n // 5),
        }
    )
    frame.loc[3, "bill"] = " "
    return frame


@pytest.fixture
def telco() -> pd.DataFrame:
    return pd.read_csv(TELCO, dtype=str, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="session")
def telco_repo(tmp_path_factory):
    """A temporary git + DVC repository in which `dvc repro` has run on a stratified 600-row
    sample of Telco with small grids, and the results are committed (shared by the end-to-end
    and report tests: the pipeline runs once per session)."""
    from tests.pipeline_repo import commit, make_repo, project_params, run, small_training

    raw = pd.read_csv(TELCO, dtype=str, keep_default_na=False)
    sample = raw.groupby("Churn", group_keys=False).sample(frac=600 / len(raw), random_state=0)
    params = small_training(project_params())
    params["prepare"]["sha256"] = None
    repo = make_repo(tmp_path_factory.mktemp("telco") / "repo", sample, "sample.csv", params)
    run(repo, "dvc", "repro")
    commit(repo, "first run")
    return repo
