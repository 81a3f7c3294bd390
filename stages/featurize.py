"""featurize: fit the feature pipeline on the training split; write it and both feature matrices."""

from __future__ import annotations

import argparse

import joblib

from churnops.config import load_params
from churnops.data import cleaning
from churnops.files import read_table, staged_outputs
from churnops.modeling.features import build_featurizer, feature_frame
from churnops.params import get
from churnops.stage import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--featurizer", required=True)
    parser.add_argument("--train-features", required=True)
    parser.add_argument("--test-features", required=True)
    args = parser.parse_args()

    params = load_params(args.params)
    spec = cleaning.DataSpec.from_params(params)
    featurizer = build_featurizer(spec.columns, get(params, "featurize"))
    train = read_table(args.train)
    test = read_table(args.test)
    featurizer.fit(train)

    with staged_outputs() as out:
        joblib.dump(featurizer, out.path(args.featurizer))
        for rows, path in ((train, args.train_features), (test, args.test_features)):
            features = feature_frame(featurizer, rows)
            features[spec.target] = cleaning.binary_target(rows[spec.target], spec.positive_label)
            out.write_parquet(path, features)

    print(
        f"featurize: {len(spec.columns)} raw columns -> {len(featurizer.get_feature_names_out())} "
        f"features; wrote {args.featurizer}"
    )


if __name__ == "__main__":
    run("featurize", main)
