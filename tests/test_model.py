"""Model behaviour tests: the deployable pipeline, trained as the pipeline trains it, on Telco."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from churnops.data import cleaning
from churnops.modeling import train
from churnops.modeling.features import build_featurizer
from churnops.params import load_params
from tests.conftest import TEST_PARAMS


@pytest.fixture(scope="module")
def fitted(request):
    import pandas as pd

    from tests.conftest import TELCO

    params = load_params(TEST_PARAMS)
    spec = cleaning.DataSpec.from_params(params)
    raw = pd.read_csv(TELCO, dtype=str, keep_default_na=False, na_values=[""])
    frame, _ = cleaning.clean(raw, spec)
    train_rows, _ = cleaning.split(frame, spec.target, test_size=0.2, seed=42)
    # Hold out part of the training split: these tests never touch the test split.
    fit_rows, check_rows = cleaning.split(train_rows, spec.target, test_size=0.3, seed=0)
    featurizer = build_featurizer(spec.columns, params["featurize"])
    estimator = train.build_estimator("logistic_regression", params["train"]["candidates"], 42)
    model = train.make_pipeline(featurizer, estimator)
    features = list(spec.columns)
    model.fit(
        fit_rows[features], cleaning.binary_target(fit_rows[spec.target], spec.positive_label)
    )
    return model, spec, features, check_rows


def _proba(model, rows):
    return model.predict_proba(rows)[:, 1]


def test_ranks_held_out_customers_well(fitted):
    model, spec, features, rows = fitted
    y = cleaning.binary_target(rows[spec.target], spec.positive_label)
    assert roc_auc_score(y, _proba(model, rows[features])) > 0.8


def test_longer_contracts_lower_churn_risk(fitted):
    model, _, features, rows = fitted
    sample = rows[features].head(200)
    monthly = _proba(model, sample.assign(Contract="Month-to-month"))
    two_year = _proba(model, sample.assign(Contract="Two year"))
    assert (two_year < monthly).all()


def test_ignores_column_order_and_extra_columns(fitted):
    model, _, features, rows = fitted
    sample = rows[features].head(50)
    shuffled = sample[features[::-1]].assign(customerID="x", unrelated=1)
    np.testing.assert_array_equal(_proba(model, sample), _proba(model, shuffled))


def test_survives_unseen_categories_and_missing_values(fitted):
    model, _, features, rows = fitted
    sample = rows[features].head(5).copy()
    sample["PaymentMethod"] = "Crypto"
    sample["MonthlyCharges"] = np.nan
    sample["InternetService"] = None
    proba = _proba(model, sample)
    assert np.isfinite(proba).all()
    assert ((proba > 0) & (proba < 1)).all()


def test_same_input_same_output(fitted):
    model, _, features, rows = fitted
    sample = rows[features].head(100)
    np.testing.assert_array_equal(_proba(model, sample), _proba(model, sample.copy()))
