"""Shared fixtures: a small in-code raw frame and its spec, and the project's locations."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnops.data.cleaning import DataSpec

ROOT = Path(__file__).resolve().parents[1]
TELCO = ROOT / "data" / "raw" / "telco_churn.csv"
# the tests' own params (never the project's params.yaml, which users edit)
TEST_PARAMS = Path(__file__).resolve().parent / "params.yaml"


@pytest.fixture(autouse=True)
def _tests_own_params(monkeypatch):
    """Code that finds params.yaml by itself (the service's settings, the CLI) reads the tests'
    own params, never the project's."""
    monkeypatch.setenv("CHURNOPS_PARAMS", str(TEST_PARAMS))


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


@pytest.fixture
def telco_repo(telco_repo_built, tmp_path):
    """A copy of the built repository of its own for each test (git history, DVC cache and
    workspace), so tests that run experiments cannot change what another test sees."""
    import shutil

    return Path(shutil.copytree(telco_repo_built, tmp_path / "repo", symlinks=True))


@pytest.fixture(scope="session")
def telco_repo_built(tmp_path_factory):
    """A temporary git + DVC repository in which `dvc repro` has run on a stratified 600-row
    sample of Telco with small grids, and the results are committed (the pipeline runs once per
    test process; tests get copies through `telco_repo`)."""
    from tests.pipeline_repo import commit, run, sample_repo

    repo = sample_repo(tmp_path_factory.mktemp("telco") / "repo")
    run(repo, "dvc", "repro")
    commit(repo, "first run")
    return repo


@pytest.fixture(scope="session")
def model_files(tmp_path_factory):
    """A model trained on 800 Telco rows, written with its metadata and schema the way the
    pipeline writes them (for the service and batch-scoring tests)."""
    import json

    import joblib

    from churnops.data import cleaning, schema
    from churnops.data.words import Words
    from churnops.files import file_digest
    from churnops.modeling import model_meta, train
    from churnops.modeling.features import build_featurizer
    from churnops.params import load_params
    from churnops.serving import compile_check

    folder = tmp_path_factory.mktemp("model")
    params = load_params(TEST_PARAMS)
    spec = cleaning.DataSpec.from_params(params)
    raw = pd.read_csv(TELCO, dtype=str, keep_default_na=False, na_values=[""]).head(800)
    frame, _ = cleaning.clean(raw, spec)
    model = train.make_pipeline(
        build_featurizer(spec.columns, params["featurize"]),
        train.build_estimator("logistic_regression", params["train"]["candidates"], 0),
    )
    model.fit(frame[list(spec.columns)], cleaning.binary_target(frame[spec.target], "Yes"))
    joblib.dump(model, folder / "model.joblib")
    table = schema.infer_schema(
        frame,
        spec.columns,
        target=spec.target,
        id_column=spec.id_column,
        labels=spec.labels,
        bounds={"tenure": {"min": 0}, "MonthlyCharges": {"min": 0}},
        range_tolerance=0.1,
        range_limit=10,
        coerce_tolerance=0.01,
    )
    table["words"] = Words.from_params(params).as_dict()
    (folder / "schema.json").write_text(json.dumps(table))
    meta = {
        "model_sha256": file_digest(folder / "model.joblib"),
        "train_data_md5": "x",
        "candidate": "logistic_regression",
        "cv": {"mean": 0.84},
        "classes": spec.labels,
        "positive_label": "Yes",
        "decision_threshold": {"value": 0.33},
        "encoded_mean": model_meta.encoded_mean(model, frame[list(spec.columns)]),
    }
    (folder / "meta.json").write_text(json.dumps(meta))
    onnx_bytes, report = compile_check.compile_pipeline(model, frame, tolerance=1e-5)
    assert onnx_bytes, report
    (folder / "compiled").mkdir()
    (folder / "compiled" / "model.onnx").write_bytes(onnx_bytes)
    (folder / "compiled" / "manifest.json").write_text(
        json.dumps(
            compile_check.manifest(onnx_bytes, report, source_model_sha256=meta["model_sha256"])
        )
    )
    example = frame.iloc[0]
    record = {c: (None if pd.isna(example[c]) else example[c]) for c in spec.columns}
    return folder, {"customerID": "c-1", **record}


@pytest.fixture(scope="module")
def dask_client():
    """A real 2-worker LocalCluster (one thread per worker process), closed after the module."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
