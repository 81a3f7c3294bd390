"""PyCaret 3 baseline for bench/pipeline.py: compare the same candidates, blend the top two, tune
the best with the project's grid for it, on the project's own train split. Prints JSON timings.

Runs in .venv-pycaret (PyCaret pins scikit-learn 1.4), so it imports nothing from churnops.
Usage: python bench/pycaret_baseline.py TRAIN.csv TEST.csv SETTINGS.json
"""

from __future__ import annotations

import json
import sys
import time

import pandas as pd
from pycaret.classification import blend_models, compare_models, pull, setup, tune_model
from sklearn.ensemble import HistGradientBoostingClassifier

# PyCaret model ids for the project's candidate types (rbfsvm = SVC with an RBF kernel).
PYCARET_IDS = {"logistic_regression": "lr", "knn": "knn", "svm": "rbfsvm", "random_forest": "rf"}


def main() -> None:
    train_csv, test_csv, settings_json = sys.argv[1:4]
    with open(settings_json) as handle:
        settings = json.load(handle)
    train = pd.read_csv(train_csv).drop(columns=[settings["id_column"]], errors="ignore")
    test = pd.read_csv(test_csv).drop(columns=[settings["id_column"]], errors="ignore")
    seed, folds = settings["seed"], settings["folds"]

    include, grids = [], {}
    for cfg in settings["candidates"].values():
        if cfg["type"] == "hist_gradient_boosting":
            model = HistGradientBoostingClassifier(random_state=seed, **cfg["params"])
            include.append(model)
            grids[type(model).__name__] = cfg["grid"]
        elif cfg["type"] in PYCARET_IDS:
            include.append(PYCARET_IDS[cfg["type"]])
            grids[PYCARET_IDS[cfg["type"]]] = cfg["grid"]

    timings = {}
    start = time.perf_counter()
    setup(
        data=train,
        test_data=test,
        target=settings["target"],
        session_id=seed,
        fold=folds,
        fold_strategy="stratifiedkfold",
        n_jobs=settings["n_jobs"],
        verbose=False,
        html=False,
        index=False,
    )
    timings["setup"] = time.perf_counter() - start

    start = time.perf_counter()
    top = compare_models(include=include, sort="AUC", n_select=2, verbose=False)
    compared = pull()
    timings["compare"] = time.perf_counter() - start

    start = time.perf_counter()
    blend_models(top, method="soft", verbose=False)
    timings["blend"] = time.perf_counter() - start

    start = time.perf_counter()
    best = top[0]
    # the compare table is indexed by PyCaret's model id; a custom model goes by its class name
    custom = isinstance(best, HistGradientBoostingClassifier)
    grid = grids.get(type(best).__name__ if custom else compared.index[0]) or None
    tune_model(
        best,
        optimize="AUC",
        custom_grid=grid,
        search_algorithm="grid" if grid else "random",
        verbose=False,
    )
    tuned = pull()
    timings["tune"] = time.perf_counter() - start

    print(
        json.dumps(
            {
                "timings": timings,
                "compare_auc": {
                    str(row["Model"]): float(row["AUC"]) for _, row in compared.iterrows()
                },
                "tuned_cv_auc": float(tuned.loc["Mean", "AUC"]),
                "best": str(compared.iloc[0]["Model"]),
            }
        )
    )


if __name__ == "__main__":
    main()
