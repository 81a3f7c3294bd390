"""`churnops init`: the params it writes load and validate, say what the file holds, refuse to
overwrite, and the errors name the column and the values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnops import cli
from churnops.config import load_params
from churnops.data.schema import DataError
from churnops.project import init


def _patients(n=300, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dose = rng.gamma(2, 10, n).round(1)
    ward = rng.choice(["north", "south", "east"], n)
    relapsed = (rng.random(n) < 1 / (1 + np.exp(-(dose - 20) / 8))).astype(int)
    return pd.DataFrame(
        {
            "patient": [f"P{i:04d}" for i in range(n)],
            "dose": dose,
            "ward": ward,
            "sex": rng.choice(["F", "M"], n),
            "admitted": [f"2025-0{1 + i % 9}-1{i % 10}" for i in range(n)],
            "relapsed": np.where(relapsed == 1, "yes", "no"),
        }
    )


def test_the_params_describe_the_file_and_validate(tmp_path):
    path = tmp_path / "data" / "patients.csv"
    path.parent.mkdir()
    _patients().to_csv(path, index=False)
    plan = init.plan(path, "relapsed", root=tmp_path)
    out = tmp_path / "params.yaml"
    init.write(plan, out, force=False)
    params = load_params(out)
    assert params["base"]["positive_label"] == "yes"
    assert params["base"]["id_column"] == "patient"
    assert params["prepare"]["raw_path"] == "data/patients.csv"
    assert params["prepare"]["columns"] == {
        "dose": "numeric",
        "ward": "categorical",
        "sex": "categorical",
    }
    assert params["simulate"]["price_increase"]["column"] == "dose"
    assert params["fairness"]["groups"] == []
    assert params["problem"] is None
    assert params["business"] is None
    text = "\n".join(plan.decisions)
    assert "left out admitted (date)" in text
    assert "columns that may be sensitive: ['sex']" in text
    with pytest.raises(FileExistsError):
        init.write(plan, out, force=False)


def test_a_column_named_like_a_follow_up_time_is_kept_with_a_check(tmp_path):
    path = tmp_path / "patients.csv"
    frame = _patients()
    frame["followup_time"] = np.arange(len(frame)) % 37 + 1.5
    frame.to_csv(path, index=False)
    plan = init.plan(path, "relapsed", root=tmp_path)
    line = next(d for d in plan.decisions if "followup_time" in d)
    assert line.startswith("numeric")
    assert "CHECK: its name reads like a date, a follow-up time or a result" in line
    assert "CHECK" not in next(d for d in plan.decisions if " dose:" in d)


@pytest.mark.parametrize(
    ("change", "target", "message"),
    [
        (lambda f: f, "nope", r"--target 'nope' is not a column"),
        (
            lambda f: f.assign(relapsed=["a", "b", "c"] * 100),
            "relapsed",
            r"exactly 2 labels.*got 3",
        ),
        (lambda f: f.assign(relapsed=["yes"] * 300), "relapsed", r"exactly 2 labels.*got 1"),
    ],
)
def test_a_target_that_does_not_suit_is_named(tmp_path, change, target, message):
    path = tmp_path / "p.csv"
    change(_patients()).to_csv(path, index=False)
    with pytest.raises(DataError, match=message):
        init.plan(path, target, root=tmp_path)


def test_a_file_outside_the_project_is_refused(tmp_path):
    path = tmp_path / "elsewhere.csv"
    _patients().to_csv(path, index=False)
    (tmp_path / "project").mkdir()
    with pytest.raises(DataError, match="outside the project"):
        init.plan(path, "relapsed", root=tmp_path / "project")


def test_the_command_refuses_to_overwrite_and_says_why(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _patients().to_csv("p.csv", index=False)
    (tmp_path / "params.yaml").write_text("mine: true\n")
    assert cli.main(["init", "--data", "p.csv", "--target", "relapsed"]) == 2
    assert "params.yaml exists: add --force" in capsys.readouterr().err
    assert (tmp_path / "params.yaml").read_text() == "mine: true\n"
    assert cli.main(["init", "--data", "p.csv", "--target", "relapsed", "--force"]) == 0
    assert "churnops init: wrote params.yaml" in capsys.readouterr().out
    assert load_params("params.yaml")["base"]["target"] == "relapsed"
