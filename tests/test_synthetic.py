"""Synthetic rows (a Gaussian copula per class): the classes keep their shares, every column its
distribution and missing share, a model refitted on them scores the real test split within 0.03
ROC-AUC of the real model (the issue's check), a draw depends on (seed, part) alone, and the
parts are the same bytes written here or on a real LocalCluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from churnops.data import cleaning, synthetic
from churnops.data.schema import DataError
from churnops.lifecycle import synth
from churnops.modeling import train
from churnops.modeling.features import build_featurizer
from churnops.params import load_params
from tests.conftest import TELCO, TEST_PARAMS


@pytest.fixture(scope="module")
def split():
    params = load_params(TEST_PARAMS)
    spec = cleaning.DataSpec.from_params(params)
    telco = pd.read_csv(TELCO, dtype=str, keep_default_na=False, na_values=[""])
    rows, _ = cleaning.clean(telco, spec)
    real_train, real_test = train_test_split(
        rows, test_size=0.2, random_state=0, stratify=rows[spec.target]
    )
    return params, spec, real_train.reset_index(drop=True), real_test.reset_index(drop=True)


def _fit(params, spec, rows):
    return synthetic.fit(
        rows, dict(spec.columns), target=spec.target, id_column=spec.id_column, seed=0
    )


def test_columns_keep_their_distributions_and_the_classes_their_shares(split):
    params, spec, real, _ = split
    made = _fit(params, spec, real).sample(50_000, seed=0)
    assert list(made.columns) == list(real.columns)
    assert made[spec.id_column].is_unique
    share = made[spec.target].value_counts(normalize=True)
    expected = real[spec.target].value_counts(normalize=True)
    assert (share - expected).abs().max() < 0.01
    for column, kind in spec.columns.items():
        if kind == "categorical":
            gap = (made[column].value_counts(normalize=True) - real[column].value_counts(
                normalize=True)).abs().max()  # fmt: skip
            assert gap < 0.015, column
        else:
            assert abs(made[column].isna().mean() - real[column].isna().mean()) < 0.005
            quantiles = [0.1, 0.25, 0.5, 0.75, 0.9]
            spread = real[column].std()
            gap = (made[column].quantile(quantiles) - real[column].quantile(quantiles)).abs()
            assert (gap / spread).max() < 0.05, column
    assert (made["tenure"].dropna() % 1 == 0).all()  # whole numbers stay whole


def test_a_model_refitted_on_synthetic_rows_scores_the_real_test_split_within_003(split):
    params, spec, real, test = split
    made = _fit(params, spec, real).sample(len(real), seed=1)
    model = train.make_pipeline(
        build_featurizer(spec.columns, params["featurize"]),
        train.build_estimator("logistic_regression", params["train"]["candidates"], 0),
    )
    features = list(spec.columns)
    real_model = model.fit(real[features], cleaning.binary_target(real[spec.target], "Yes"))
    report = synth.fidelity(
        real, test, made, real_model, dict(spec.columns), target=spec.target,
        positive_label="Yes", alpha=0.05, min_effect={"numeric": 0.1, "categorical": 0.1},
    )  # fmt: skip
    auc = report["roc_auc"]
    assert auc["real_model"] > 0.8
    assert abs(auc["gap"]) < 0.03, auc
    assert not any(c["drifted"] for c in report["columns"].values())


def test_a_draw_depends_on_seed_and_part_alone(split):
    params, spec, real, _ = split
    model = _fit(params, spec, real)
    first = model.sample(500, seed=3, part=2, first_id=1000)
    pd.testing.assert_frame_equal(first, model.sample(500, seed=3, part=2, first_id=1000))
    other = model.sample(500, seed=3, part=3, first_id=1000)
    assert not first.drop(columns=spec.id_column).equals(other.drop(columns=spec.id_column))
    assert first[spec.id_column].iloc[0] == "SYN-0000001000"


def test_a_class_too_small_to_fit_is_refused(split):
    params, spec, real, _ = split
    rows = pd.concat(
        [real[real[spec.target] == "No"].head(200), real[real[spec.target] == "Yes"].head(5)]
    )
    with pytest.raises(DataError, match=r"class Churn='Yes' has 5 rows"):
        _fit(params, spec, rows)


def test_parts_are_the_same_bytes_here_and_on_the_cluster(split, tmp_path, dask_client):
    params, spec, real, _ = split
    model = _fit(params, spec, real)
    written = {}
    for name, client in (("here", None), ("cluster", dask_client)):
        folder = tmp_path / name
        folder.mkdir()
        parts = synth.plan(2_500, 1_000, folder)
        assert [p.rows for p in parts] == [1000, 1000, 500]
        assert synth.write_parts(model, parts, seed=7, client=client) == 2_500
        written[name] = [(folder / synth.PART.format(i)).read_bytes() for i in range(3)]
    assert written["here"] == written["cluster"]
    ids = pd.read_parquet(tmp_path / "here")[spec.id_column]
    assert ids.tolist() == [f"SYN-{i:010d}" for i in range(2_500)]
    assert np.unique(ids).size == 2_500
