"""package: the serving bundle - the model, its metadata and decision threshold, the input
schema and the compiled model in one folder with the sha256 of each file - which `dvc.yaml`
declares as the registry's artifact."""

from __future__ import annotations

import argparse
from pathlib import Path

from churnops.files import staged_outputs
from churnops.registry import bundle
from churnops.stage import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--meta", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--compiled", required=True, help="the compile stage's folder")
    parser.add_argument("--out-dir", required=True, help="models/serving")
    args = parser.parse_args()

    sources = {
        "model": Path(args.model),
        "meta": Path(args.meta),
        "schema": Path(args.schema),
        "compiled": Path(args.compiled),
    }
    out_dir = Path(args.out_dir)
    with staged_outputs() as out:
        manifest = bundle.write(sources, out.path(out_dir))
    print(
        f"package: model {manifest['model_version']} ({manifest['candidate']}), "
        f"{len(manifest['files'])} files -> {out_dir}"
    )


if __name__ == "__main__":
    run("package", main)
