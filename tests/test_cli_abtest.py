"""`churnops abtest plan`: the units per arm with and without the sequential guard, the total
and the days at a given traffic, the baseline from params, and clear errors."""

from __future__ import annotations

import json

import yaml

from churnops.cli import main


def test_plan_gives_units_and_days(capsys):
    assert main(["abtest", "plan", "--baseline", "0.10", "--mde", "0.02", "--fixed", "--json"]) == 0
    fixed = json.loads(capsys.readouterr().out)
    assert (fixed["units_per_arm"], fixed["units_total"], fixed["days"]) == (3841, 7682, None)
    assert main(["abtest", "plan", "--baseline", "0.10", "--mde", "0.02", "--daily", "1000",
                 "--shares", "0.8,0.2", "--json"]) == 0  # fmt: skip
    guarded = json.loads(capsys.readouterr().out)
    assert guarded["units_per_arm"] == 4652  # 3841 x 1.211: the price of looking any time
    assert guarded["units_total"] == 23260  # the 20% arm sets the pace
    assert guarded["days"] == 24


def test_the_baseline_comes_from_params(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"problem": {"current_rate": 0.265}}))
    assert main(["abtest", "plan", "--mde", "-0.02", "--params", str(params)]) == 0
    assert "baseline 0.2650 -> 0.2450" in capsys.readouterr().out
    params.write_text(yaml.safe_dump({"problem": None}))
    assert main(["abtest", "plan", "--mde", "-0.02", "--params", str(params)]) == 2
    assert "give --baseline" in capsys.readouterr().err


def test_bad_options_are_named(capsys):
    assert main(["abtest", "plan", "--baseline", "0.1", "--mde", "0.02", "--shares", "a,b"]) == 2
    assert "--shares must be numbers" in capsys.readouterr().err
    assert main(["abtest", "plan", "--baseline", "0.95", "--mde", "0.1"]) == 2
    assert "baseline + mde must be a rate in (0, 1), got 1.05" in capsys.readouterr().err
