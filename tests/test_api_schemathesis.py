"""Schemathesis against the service's own OpenAPI document: over a thousand generated requests,
valid and invalid, and not one server error; every answer has a documented status code, content
type and body shape. Slow (about a minute): `make test-slow`."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from churnops.serving.app import create_app
from churnops.serving.settings import Settings

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# (method, path, generation mode, examples)
PLAN = [
    ("POST", "/predict", GenerationMode.POSITIVE, 400),
    ("POST", "/predict", GenerationMode.NEGATIVE, 400),
    ("POST", "/feedback", GenerationMode.POSITIVE, 150),
    ("POST", "/feedback", GenerationMode.NEGATIVE, 150),
    ("GET", "/health", GenerationMode.POSITIVE, 5),
    ("GET", "/ready", GenerationMode.POSITIVE, 5),
    ("GET", "/model", GenerationMode.POSITIVE, 5),
]


@pytest.fixture(scope="module")
def schema(model_files, tmp_path_factory):
    folder, _ = model_files
    settings = Settings(
        model_path=folder / "model.joblib",
        meta_path=folder / "meta.json",
        schema_path=folder / "schema.json",
        compiled_path=folder / "compiled",
        log_path=tmp_path_factory.mktemp("log") / "predictions.sqlite",
        max_batch=20,
    )
    app = create_app(settings)
    with TestClient(app):  # runs the lifespan: the model is loaded, the log opened
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


def test_generated_requests_never_cause_a_server_error(schema):
    cases: dict[str, int] = {}
    statuses: dict[int, int] = {}
    for method, path, mode, examples in PLAN:
        _run(schema[path][method], mode, examples, f"{method} {path} {mode.value}", cases, statuses)
    total = sum(cases.values())
    print(f"{total} cases: {cases}; status codes: {dict(sorted(statuses.items()))}")
    assert total >= 1000, cases
    assert not any(code >= 500 for code in statuses), statuses
    assert statuses.get(200, 0) > 100  # valid requests were generated and scored


def _run(operation, mode, examples: int, key: str, cases: dict, statuses: dict) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        response = case.call()
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        case.validate_response(response, checks=CHECKS)
        cases[key] = cases.get(key, 0) + 1

    check()
