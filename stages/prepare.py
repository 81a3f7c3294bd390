"""prepare: read the raw file, validate and clean it, split it, describe it."""

from __future__ import annotations

import argparse
import logging

from churnops.config import load_params
from churnops.data import preparation, quality
from churnops.files import CsvFormat, check_digest, read_table, staged_outputs
from churnops.params import get
from churnops.stage import run

log = logging.getLogger("prepare")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--raw", required=True)
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--quality-json", required=True)
    parser.add_argument("--quality-md", required=True)
    args = parser.parse_args()

    params = load_params(args.params)
    expected_sha = get(params, "prepare.sha256", None)
    if expected_sha:
        check_digest(
            args.raw,
            expected_sha,
            setting="prepare.sha256",
            fix="the raw file changed; update prepare.sha256 if that is intended",
        )

    raw = read_table(args.raw, as_text=True, csv=CsvFormat.from_params(params))
    log.info("read %s: %d rows x %d columns", args.raw, *raw.shape)
    prepared = preparation.prepare(raw, params)
    for line in prepared.warnings:
        log.warning(line)

    with staged_outputs() as out:
        out.write_parquet(args.train, prepared.train)
        out.write_parquet(args.test, prepared.test)
        out.write_json(args.schema, prepared.schema)
        out.write_json(args.quality_json, prepared.report)
        out.write_text(args.quality_md, quality.quality_markdown(prepared.report, title=args.raw))

    report = prepared.report
    print(
        f"prepare: {report['rows']} rows -> train {report['split']['train_rows']}, "
        f"test {report['split']['test_rows']}; "
        f"positive rate {report['positive_rate']:.1%}; "
        f"{report['missing']['total']} missing values; report {args.quality_md}"
    )


if __name__ == "__main__":
    run("prepare", main)
