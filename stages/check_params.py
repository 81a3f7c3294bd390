"""check_params: validate the whole params.yaml before any other stage runs.

Every stage depends on this stage's small output, so a typo or an impossible value anywhere
(`train.candidats`, `evaluate.threshold: 1.5`) stops `dvc repro` here, in one line naming the
key and the value, before DVC removes any other stage's outputs to rerun it. The output names
the sections checked; it changes only when a section is added or removed, so a valid edit
reruns just the stages that read the edited keys.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from churnops.config import load_params
from churnops.files import staged_outputs
from churnops.stage import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--out", required=True, help="reports/params/check.json")
    args = parser.parse_args()

    params = load_params(args.params)
    with staged_outputs() as out:
        out.write_json(
            Path(args.out),
            {"params": Path(args.params).name, "valid": True, "sections": sorted(params)},
        )
    print(f"check_params: {args.params}: {len(params)} sections valid")


if __name__ == "__main__":
    run("check_params", main)
