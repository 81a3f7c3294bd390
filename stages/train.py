"""train: compare the candidates by cross-validation, choose one by the stated rule, tune it,
and save the deployable pipeline (features + estimator) with its metadata, the decision
threshold, and the training rows' feature matrix for inspection."""

from __future__ import annotations

import argparse

import joblib
from tqdm import tqdm

from churnops.config import load_params
from churnops.data import cleaning
from churnops.files import file_digest, read_json, read_table, staged_outputs
from churnops.modeling import model_meta, training
from churnops.stage import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--train", required=True)
    parser.add_argument("--schema", required=True)
    for name in ("model", "meta", "cv-json", "cv-csv", "tuning-csv", "threshold-json"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--profit-csv", required=True)
    parser.add_argument("--metrics-json", required=True, help="headline numbers (DVC metric)")
    parser.add_argument("--features", required=True, help="training feature matrix (Parquet)")
    args = parser.parse_args()

    params = load_params(args.params)
    spec = cleaning.DataSpec.from_params(params)
    rows = read_table(args.train)
    trained = training.fit(
        rows,
        spec,
        params,
        progress=lambda s: tqdm(s, desc="tuning", unit="setting", leave=False),
    )
    report = training.cv_report(trained)
    with staged_outputs() as out:
        model_path = out.path(args.model)
        joblib.dump(trained.model, model_path)
        meta = model_meta.metadata(
            trained,
            model_sha256=file_digest(model_path),
            train_md5=file_digest(args.train, "md5"),
            schema=read_json(args.schema),
            spec=spec,
            rows=rows,
            seed=params["base"]["seed"],
        )
        out.write_json(args.meta, meta)
        out.write_json(args.cv_json, report)
        out.write_json(args.threshold_json, trained.threshold)
        out.write_json(args.metrics_json, training.headline(report, trained.threshold))
        out.write_csv(args.profit_csv, trained.profit)
        out.write_csv(args.cv_csv, training.cv_table(trained))
        out.write_csv(args.tuning_csv, training.tuning_table(trained))
        out.write_parquet(args.features, training.training_features(trained, rows, spec))

    best = trained.best
    print(
        f"train: chose {trained.chosen} by rule {params['train']['selection']} (best was "
        f"{trained.selection['best']}); tuned CV {trained.scoring} {best['mean']:.4f} ± "
        f"{best['std']:.4f}; wrote {args.model}"
    )


if __name__ == "__main__":
    run("train", main)
