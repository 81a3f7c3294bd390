"""simulate: build a production batch from the held-out rows with the scenario named in params."""

from __future__ import annotations

import argparse

from churnops.config import load_params
from churnops.data import cleaning
from churnops.files import read_table, staged_outputs
from churnops.monitoring import simulate
from churnops.params import get, get_number
from churnops.stage import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--rows", required=True, help="the held-out rows (test split)")
    parser.add_argument("--batch", required=True)
    args = parser.parse_args()

    params = load_params(args.params)
    spec = cleaning.DataSpec.from_params(params)
    seed = get_number(params, "base.seed", integer=True, low=0)
    settings = get(params, "simulate")
    scenario = settings.get("scenario")
    changes = simulate.settings_for(scenario, settings)
    rows = simulate.resample(read_table(args.rows), settings.get("rows"), seed)
    batch = simulate.apply(
        rows, scenario, changes, target=spec.target, labels=spec.labels, seed=seed
    )
    batch = simulate.stamp(batch, str(settings["start"]), settings["days"], seed)
    with staged_outputs() as out:
        out.write_parquet(args.batch, batch)
    print(
        f"simulate: scenario {scenario} {changes or ''} -> {len(batch)} rows over "
        f"{settings['days']} day(s) from {settings['start']} in {args.batch}"
    )


if __name__ == "__main__":
    run("simulate", main)
