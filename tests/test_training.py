"""Training as one call: on a Dask LocalCluster (params base.scheduler: dask-local) every fold
of the comparison, the tuning and the threshold search runs on the workers, and the chosen
model, its scores and its threshold are those of the in-process run with the same seed. Slow (two
trainings and a cluster, about 9 s): CI's slow step runs it."""

from __future__ import annotations

import copy
import logging

import numpy as np
import pytest

from churnops.data import cleaning
from churnops.modeling import training
from churnops.params import load_params
from tests.conftest import TEST_PARAMS

pytestmark = pytest.mark.slow


def _params(scheduler):
    params = copy.deepcopy(load_params(TEST_PARAMS))
    params["base"].update(scheduler=scheduler, n_workers=2)
    candidates = params["train"]["candidates"]
    forest = candidates["random_forest"]
    forest["params"]["n_estimators"] = 30
    forest["grid"] = {"min_samples_leaf": [5, 20]}
    params["train"]["candidates"] = {
        "logistic_regression": candidates["logistic_regression"],
        "random_forest": forest,
    }
    params["train"]["cv_folds"] = 3
    params["train"]["selection"] = "best"
    return params


def test_tuning_on_a_cluster_picks_the_same_model_with_the_same_scores(telco, caplog):
    params = _params("local")
    spec = cleaning.DataSpec.from_params(params)
    rows, _ = cleaning.clean(telco.head(700), spec)
    here = training.fit(rows, spec, params)
    caplog.set_level(logging.INFO, logger=training.__name__)
    there = training.fit(rows, spec, _params("dask-local"))
    assert "a Dask LocalCluster of 2 worker process(es); dashboard http" in caplog.text
    assert there.chosen == here.chosen
    assert {n: r["scores"] for n, r in there.results.items()} == {
        n: r["scores"] for n, r in here.results.items()
    }
    assert there.best["params"] == here.best["params"]
    assert [t["mean"] for t in there.tried] == [t["mean"] for t in here.tried]
    assert there.threshold == here.threshold
    X = rows[list(spec.columns)]
    np.testing.assert_array_equal(there.model.predict_proba(X), here.model.predict_proba(X))
