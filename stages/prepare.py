"""prepare: read the raw file, validate and clean it, split it, describe it."""

from __future__ import annotations

import argparse
import logging

from churnops.config import load_params
from churnops.data import cleaning, quality, schema
from churnops.data.words import Words
from churnops.files import CsvFormat, file_digest, read_table, staged_outputs
from churnops.params import ParamsError, get, get_number
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
    spec = cleaning.DataSpec.from_params(params)
    seed = get_number(params, "base.seed", integer=True, low=0)
    test_size = get_number(
        params, "prepare.test_size", low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    expected_sha = get(params, "prepare.sha256", None)
    if expected_sha:
        actual = file_digest(args.raw)
        if actual != expected_sha:
            raise ParamsError(
                f"prepare.sha256 is {expected_sha} but {args.raw} has sha256 {actual}: "
                "the raw file changed; update prepare.sha256 if that is intended"
            )

    raw = read_table(args.raw, as_text=True, csv=CsvFormat.from_params(params))
    log.info("read %s: %d rows x %d columns", args.raw, *raw.shape)
    frame, cleaned = cleaning.clean(raw, spec)
    train, test = cleaning.split(frame, spec.target, test_size=test_size, seed=seed)
    report = quality.quality_report(frame, spec, cleaned)
    report["split"] = {
        "train_rows": len(train),
        "test_rows": len(test),
        "test_size": test_size,
        "seed": seed,
    }
    table_schema = schema.infer_schema(
        train,
        spec.columns,
        target=spec.target,
        id_column=spec.id_column,
        labels=spec.labels,
        bounds=get(params, "prepare.bounds"),
        range_tolerance=get(params, "prepare.range_tolerance"),
        range_limit=get(params, "prepare.range_limit"),
        coerce_tolerance=spec.coerce_tolerance,
    )
    table_schema["words"] = Words.from_params(params).as_dict()

    with staged_outputs() as out:
        out.write_parquet(args.train, train)
        out.write_parquet(args.test, test)
        out.write_json(args.schema, table_schema)
        out.write_json(args.quality_json, report)
        out.write_text(args.quality_md, quality.quality_markdown(report, title=args.raw))

    print(
        f"prepare: {len(frame)} rows -> train {len(train)}, test {len(test)}; "
        f"positive rate {report['positive_rate']:.1%}; "
        f"{report['missing']['total']} missing values; report {args.quality_md}"
    )


if __name__ == "__main__":
    run("prepare", main)
