"""The params models: the project's params pass; each kind of mistake is one line naming the key
path and the value."""

from __future__ import annotations

import copy

import pytest

from churnops.config import validate
from churnops.params import ParamsError, load_params
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def project():
    return load_params(ROOT / "params.yaml")


def test_the_project_params_are_valid(project):
    assert validate(copy.deepcopy(project)) == project


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.__setitem__("trian", {}), "trian: unknown key (did you mean 'train'?)"),
        (
            lambda p: p["prepare"]["columns"].__setitem__("tenure", "numerc"),
            "prepare.columns.tenure: must be 'numeric' or 'categorical', got 'numerc'",
        ),
        (
            lambda p: p["monitor"]["rules"][0].__setitem__("op", "=="),
            "monitor.rules[0].op: must be '>', '>=', '<' or '<=', got '=='",
        ),
        (lambda p: p["base"].__setitem__("seed", -1), "base.seed: must be >= 0, got -1"),
        (
            lambda p: p["base"].__setitem__("scheduler", "dask"),
            "base.scheduler: must be 'local', 'dask-local' or a scheduler address such as "
            "tcp://host:8786, got 'dask'",
        ),
        (
            lambda p: p["governance"].__setitem__("pii_columns", ["no such column"]),
            "governance.pii_columns: ['no such column'] are not input columns of prepare.columns",
        ),
        (
            lambda p: p["train"]["candidates"]["svm"].__setitem__("complxity", 3),
            "train.candidates.svm.complxity: unknown key (did you mean 'complexity'?)",
        ),
        (lambda p: p["serve"].pop("policy"), "serve.policy: missing"),
        (
            lambda p: p["prepare"].__setitem__("sha256", "abc"),
            "prepare.sha256: String should match pattern",
        ),
    ],
)
def test_a_mistake_is_one_line_naming_the_key_and_value(project, change, message):
    params = copy.deepcopy(project)
    change(params)
    with pytest.raises(ParamsError) as raised:
        validate(params)
    assert str(raised.value).startswith(f"params.yaml: {message}")
    assert "\n" not in str(raised.value)


def test_free_form_sections_stay_free(project):
    params = copy.deepcopy(project)
    params["problem"] = None
    params["business"] = None
    params["train"]["candidates"]["svm"]["params"]["anything"] = 1  # checked by the estimator
    validate(params)
