"""compile: convert the deployable pipeline's encoder and estimator to ONNX for the serving fast
path, and check on the whole test split that it gives scikit-learn's probabilities (within
`serve.parity_tolerance`). When it cannot convert or does not match, the manifest says why and
the service and batch scorer stay on scikit-learn."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import joblib

from churnops.config import load_params
from churnops.files import read_json, read_table, staged_outputs
from churnops.params import ParamsError, get, get_number
from churnops.serving import compile_check, compiled
from churnops.stage import run

log = logging.getLogger("compile")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--test", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--meta", required=True)
    parser.add_argument("--out-dir", required=True, help="models/compiled")
    parser.add_argument("--parity-json", required=True)
    args = parser.parse_args()

    params = load_params(args.params)
    enabled = get(params, "serve.compile")
    if not isinstance(enabled, bool):
        raise ParamsError(f"params key 'serve.compile' must be true or false, got {enabled!r}")
    tolerance = get_number(params, "serve.parity_tolerance", low=0)
    meta = read_json(args.meta)
    model = joblib.load(args.model)
    test = read_table(args.test)

    if enabled:
        onnx_bytes, report = compile_check.compile_pipeline(model, test, tolerance=tolerance)
    else:
        onnx_bytes, report = None, {"compiled": False, "reason": "serve.compile is false"}
    out_dir = Path(args.out_dir)
    with staged_outputs() as out:
        if onnx_bytes:
            out.path(out_dir / compiled.ONNX_FILE).write_bytes(onnx_bytes)
        out.write_json(
            out_dir / compiled.MANIFEST_FILE,
            compile_check.manifest(onnx_bytes, report, source_model_sha256=meta["model_sha256"]),
        )
        out.write_json(args.parity_json, {k: v for k, v in report.items() if k != "reason"})
    if onnx_bytes:
        log.info(
            "compiled: max |Δp| %.2g (batch) / %.2g (request) on %d test rows",
            report["max_abs_diff_batch"],
            report["max_abs_diff_request"],
            report["rows"],
        )
    else:
        log.warning("not compiled, serving stays on scikit-learn: %s", report["reason"])


if __name__ == "__main__":
    run("compile", main)
