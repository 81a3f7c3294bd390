"""gate: the promotion gate as a pipeline stage - the new serving bundle against the registered
champion that params `gate.champion` names (none: the value thresholds alone), on the test split
less the rows the champion trained on, plus the held-out production window `gate.holdout` (its
sha256 checked). Writes the decision; a refusal is a result, not a failed stage (`churnops gate`
and `churnops retrain` act on it). Latency is left to them: it is a measurement, and this
stage's outputs are reproducible."""

from __future__ import annotations

import argparse
from pathlib import Path

from churnops.config import load_params
from churnops.data.schema import DataError
from churnops.files import check_digest, read_table, staged_outputs
from churnops.registry import bundle, gate, versions
from churnops.stage import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--bundle", required=True, help="the package stage's folder")
    parser.add_argument("--test", required=True, help="the test split")
    parser.add_argument("--out-dir", required=True, help="reports/gate")
    args = parser.parse_args()

    params = load_params(args.params)
    rules = params["gate"]
    holdout = None
    if rules["holdout"]:
        path = rules["holdout"]["path"]
        check_digest(
            path,
            rules["holdout"]["sha256"],
            setting="gate.holdout.sha256",
            fix="dvc pull or dvc checkout it, or set gate.holdout to null",
        )
        holdout = read_table(path)
    try:
        report = gate.decide(
            Path("."),
            params,
            champion=rules["champion"],
            holdout=holdout,
            latency=False,
            challenger_dir=args.bundle,
            test_path=args.test,
        )
    except (versions.RegistryError, bundle.BundleError) as exc:
        raise DataError(f"gate.champion {rules['champion']}: {exc}") from None
    out_dir = Path(args.out_dir)
    with staged_outputs() as out:
        out.write_json(out_dir / "decision.json", report)
        out.write_text(out_dir / "decision.md", gate.markdown(report))
    verdict = report["decision"].upper()
    failed = f" ({', '.join(report['failed'])})" if report["failed"] else ""
    print(f"gate: {verdict}{failed} against {rules['champion'] or 'no champion'}; {out_dir}")


if __name__ == "__main__":
    run("gate", main)
