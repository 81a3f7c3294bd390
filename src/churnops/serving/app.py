"""The FastAPI application: health, readiness, model card data and predictions, with JSON errors
that name the field and the value, and never a stack trace.

No `from __future__ import annotations` here: FastAPI reads the route signatures' types at
runtime, and the request model is built inside `create_app`.
"""

import asyncio
import gc
import json
import logging
import os
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from churnops.data.contract import Contract, shown
from churnops.files import read_json
from churnops.params import load_params
from churnops.serving import artifact, prediction_log, schemas
from churnops.serving.microbatch import MicroBatcher, ScoreError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    """Where the model and the log live and how strict the service is."""

    model_path: Path = Path("models/model.joblib")
    meta_path: Path = Path("models/model_meta.json")
    schema_path: Path = Path("data/prepared/schema.json")
    compiled_path: Path = Path("models/compiled")
    engine: str = "auto"  # auto (ONNX when verified, else scikit-learn), onnx, sklearn
    policy: str = "reject"  # unseen categories / out-of-range values: reject or flag
    max_batch: int = 1000  # customers per request
    max_body_bytes: int = 1 << 20  # request body limit
    log_path: Path = Path("logs/predictions.sqlite")
    log_sync: str = "NORMAL"  # NORMAL survives a killed process, FULL also a power cut


ENV = {
    "model_path": "CHURNOPS_MODEL",
    "meta_path": "CHURNOPS_META",
    "schema_path": "CHURNOPS_SCHEMA",
    "compiled_path": "CHURNOPS_COMPILED",
    "engine": "CHURNOPS_ENGINE",
    "policy": "CHURNOPS_POLICY",
    "max_batch": "CHURNOPS_MAX_BATCH",
    "max_body_bytes": "CHURNOPS_MAX_BODY_BYTES",
    "log_path": "CHURNOPS_LOG",
    "log_sync": "CHURNOPS_LOG_SYNC",
}
# params.yaml `serve` keys that set a default
PARAMS = {
    "policy": "policy",
    "max_batch": "max_batch",
    "max_body_bytes": "max_body_bytes",
    "log_path": "log_path",
}


def settings_from_env() -> Settings:
    """Settings from the `serve` section of params.yaml (CHURNOPS_PARAMS names another file),
    then CHURNOPS_* environment variables, defaults for the rest."""
    values: dict[str, Any] = {}
    params_file = Path(os.environ.get("CHURNOPS_PARAMS", "params.yaml"))
    if params_file.is_file():
        serve = load_params(params_file).get("serve") or {}
        values.update({f: serve[k] for f, k in PARAMS.items() if k in serve})
    for field, variable in ENV.items():
        if variable in os.environ:
            values[field] = os.environ[variable]
    return Settings(**{f: _typed(f, v) for f, v in values.items()})


def _typed(field: str, value: Any) -> Any:
    """A setting's value in its type; ValueError naming the setting when it does not fit."""
    try:
        if field.startswith("max_"):
            number = int(value)
            if isinstance(value, bool) or number < 1:
                raise ValueError
            return number
        if field.endswith("_path"):
            return Path(str(value))
    except (TypeError, ValueError):
        raise ValueError(f"setting {field} must be a positive integer, got {value!r}") from None
    return str(value)


def app_from_env() -> FastAPI:
    """The app factory uvicorn calls (`churnops serve`)."""
    logging.basicConfig(level=logging.INFO)
    app = create_app(settings_from_env())
    # the libraries and the model are loaded for good: keep their millions of objects out of the
    # garbage collector's full passes, which otherwise stall every request for ~100 ms
    gc.collect()
    gc.freeze()
    return app


class ServiceError(Exception):
    """An error answered as JSON {"error", "detail"} with its status code."""

    def __init__(self, status: int, error: str, detail: Any) -> None:
        super().__init__(error)
        self.status, self.error, self.detail = status, error, detail


BIG_BODY = 32_768  # bytes
MAX_ERRORS = 20  # problems listed in one error answer; the rest are counted
LOG_DOWN = "the prediction log cannot be written (the server log says why)"


def _error(status: int, error: str, detail: Any, *, total: int | None = None) -> JSONResponse:
    """The JSON error answer; a list of problems is cut to MAX_ERRORS and `omitted` counts the
    rest (of `total` when the list was cut before)."""
    content: dict[str, Any] = {"error": error, "detail": detail}
    if isinstance(detail, list):
        total = len(detail) if total is None else total
        if total > MAX_ERRORS:
            content["detail"], content["omitted"] = detail[:MAX_ERRORS], total - MAX_ERRORS
    return JSONResponse(status_code=status, content=content)


_ABSOLUTE = re.compile(r"(?<![\w.~])/(?:[^\s'\"/:]+/)*([^\s'\"/:]+)")


def public(text: str) -> str:
    """A message fit for an answer: absolute paths shortened to their file name."""
    return _ABSOLUTE.sub(r"\1", text)


class BodyLimit:
    """ASGI middleware: 413 for bodies over the limit, 415 for non-JSON POST bodies."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        scope.setdefault("state", {})["received_at"] = time.perf_counter()
        headers = dict(scope["headers"])
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if kind != b"application/json":
            return await _error(
                415,
                "unsupported media type",
                f"send application/json, got {kind.decode() or 'none'}",
            )(scope, receive, send)
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await _error(
                413, "request too large", f"body of {int(declared)} bytes exceeds {self.limit}"
            )(scope, receive, send)
        received = 0

        async def limited():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise ServiceError(413, "request too large", f"body exceeds {self.limit} bytes")
            return message

        return await self.app(scope, limited, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service; the model is loaded and verified here, and /ready says whether it is."""
    settings = settings or Settings()
    schema = read_json(settings.schema_path)
    contract = Contract(schema, settings.policy)
    record_schema = contract.json_schema()
    app = FastAPI(
        title="churnops prediction service",
        description="Churn probabilities from the pipeline's evaluated model.",
    )
    app.state.settings = settings
    app.state.model, app.state.log, app.state.not_ready = None, None, None
    try:
        app.state.model = artifact.load(
            settings.model_path,
            settings.meta_path,
            settings.schema_path,
            compiled_dir=settings.compiled_path,
            engine=settings.engine,
        )
        app.state.log = prediction_log.PredictionLog(
            settings.log_path, synchronous=settings.log_sync
        )
        app.state.batcher = MicroBatcher(app.state.model, app.state.log)
    except (artifact.ModelIntegrityError, OSError, ValueError, sqlite3.Error) as exc:
        log.error("not ready: %s", exc)
        app.state.model, app.state.not_ready = None, public(str(exc))

    async def model() -> artifact.LoadedModel:
        if app.state.model is None:
            raise ServiceError(503, "model not ready", app.state.not_ready)
        return app.state.model

    @app.exception_handler(ServiceError)
    async def service_error(_: Request, exc: ServiceError):
        return _error(exc.status, exc.error, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError):
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return _error(400, "malformed JSON", [p.get("msg") for p in problems[:MAX_ERRORS]])
        return _error(422, "invalid request", _fields(problems[:MAX_ERRORS]), total=len(problems))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException):
        # FastAPI answers 400 when the body cannot be parsed (e.g. JSON nested too deeply)
        error = "malformed JSON" if exc.status_code == 400 else "request rejected"
        return _error(exc.status_code, error, exc.detail)

    @app.exception_handler(RecursionError)
    async def too_deep(_: Request, exc: RecursionError):
        return _error(400, "malformed JSON", "the JSON is nested too deeply")

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception):
        log.exception("unhandled error")
        return _error(500, "internal error", type(exc).__name__)

    @app.get("/health")
    async def health() -> dict:
        """The process is alive."""
        return {"status": "alive"}

    @app.get("/ready", responses=schemas.error_responses(503))
    async def ready(loaded: Annotated[artifact.LoadedModel, Depends(model)]) -> dict:
        """The model is loaded and its sha256 verified, and the prediction log takes a write."""
        try:
            app.state.log.probe()
        except (sqlite3.Error, OSError) as exc:
            log.error("not ready: the prediction log cannot be written: %s", exc)
            raise ServiceError(503, "not ready", LOG_DOWN) from None
        return {"status": "ready", "model_version": loaded.version, "engine": loaded.engine}

    @app.get("/model", responses=schemas.error_responses(503))
    async def describe(loaded: Annotated[artifact.LoadedModel, Depends(model)]) -> dict:
        """Version, hashes, CV score, decision threshold and input schema of the served model."""
        meta = loaded.meta
        return {
            "model_version": loaded.version,
            "model_sha256": meta["model_sha256"],
            "train_data_md5": meta["train_data_md5"],
            "candidate": meta["candidate"],
            "cv": meta["cv"],
            "decision_threshold": meta.get("decision_threshold"),
            "classes": meta["classes"],
            "positive_label": meta["positive_label"],
            "input_schema": loaded.schema["features"],
            "input_contract": contract.describe(),
            "unknown_value_policy": settings.policy,
            "engine": loaded.engine,
            "engine_note": public(loaded.engine_note),
        }

    # The handlers are coroutines: scoring (ONNX Runtime) and the log's commit take a fraction
    # of a millisecond, less than the thread hand-offs a plain `def` route costs; the requests
    # ready together are scored and logged together (MicroBatcher). Scale out with `--workers`.
    @app.post(
        "/predict",
        response_model=schemas.PredictResponse,
        responses=schemas.error_responses(400, 413, 415, 422, 503),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "anyOf": [
                                record_schema,
                                {
                                    "type": "array",
                                    "items": record_schema,
                                    "minItems": 1,
                                    "maxItems": settings.max_batch,
                                },
                            ]
                        }
                    }
                },
            }
        },
    )
    async def predict(request: Request) -> JSONResponse:
        """Score one customer (an object) or several (a list), as a row of the training data:
        its own column names (the id under the data's id column or `customer_id`; the target
        column, if present, is ignored) and its own value types (numbers may be numeric text).
        Every prediction is in the prediction log before the answer is sent."""
        loaded = await model()
        body = await request.body()
        # a large body is parsed off the event loop, so /health and small requests go on
        payload = await asyncio.to_thread(_parse, body) if len(body) > BIG_BODY else _parse(body)
        customers = payload if isinstance(payload, list) else [payload]
        if not customers:
            raise ServiceError(422, "invalid request", "the list of customers is empty")
        if len(customers) > settings.max_batch:
            raise ServiceError(
                422,
                "invalid request",
                f"{len(customers)} customers exceed the limit of {settings.max_batch} per request",
            )
        checks = [contract.check_record(c) for c in customers]
        problems = [
            {
                "field": f"{i}.{name}" if isinstance(payload, list) else name,
                "value": _plain(value),
                "message": message,
            }
            for i, check in enumerate(checks)
            for name, value, message in check.problems
        ]
        if problems:
            raise ServiceError(422, "invalid request", problems)
        request_id = uuid.uuid4().hex
        received_at = getattr(request.state, "received_at", None) or time.perf_counter()
        try:
            probabilities = await app.state.batcher.predict(
                [c.values for c in checks],
                customer_ids=[c.customer_id for c in checks],
                request_id=request_id,
                received_at=received_at,
            )
        except ScoreError as exc:
            items = exc.args[0]
            raise ServiceError(
                422,
                "invalid request",
                [
                    {
                        "field": str(i) if isinstance(payload, list) else "body",
                        "value": None,
                        "message": "the model's score for these values is not a finite probability",
                    }
                    for i in items
                ],
            ) from None
        except (sqlite3.Error, OSError) as exc:
            log.error("prediction %s not logged: %s", request_id, exc)
            raise ServiceError(503, "prediction not logged", LOG_DOWN) from None
        threshold = loaded.threshold
        out = []
        for check, p in zip(checks, probabilities.tolist(), strict=True):
            decision = p >= threshold
            out.append(
                {
                    "probability": p,
                    "decision": decision,
                    "confidence": p if decision else 1 - p,
                    "customer_id": check.customer_id,
                    "warnings": check.warnings,
                }
            )
        # built from plain floats, bools and strings: sent as it is, not re-validated
        return JSONResponse(
            {
                "model_version": loaded.version,
                "threshold": threshold,
                "request_id": request_id,
                "predictions": out,
            }
        )

    @app.post(
        "/feedback",
        response_model=schemas.FeedbackResponse,
        responses=schemas.error_responses(400, 404, 413, 415, 422, 503),
    )
    async def feedback(
        outcome: schemas.Feedback,
        loaded: Annotated[artifact.LoadedModel, Depends(model)],
    ) -> dict:
        """Record an observed outcome (churned or not) for a request id or a customer id. An
        outcome may be sent again (a correction): the latest one wins, and `outcomes` counts
        how many have been recorded for that id."""
        try:
            matched, outcomes = app.state.log.record_outcome(
                churned=outcome.churned,
                request_id=outcome.request_id,
                customer_id=outcome.customer_id,
            )
        except (sqlite3.Error, OSError) as exc:
            log.error("outcome not recorded: %s", exc)
            raise ServiceError(503, "outcome not recorded", LOG_DOWN) from None
        if not matched:
            key = "request_id" if outcome.request_id else "customer_id"
            raise ServiceError(
                404,
                "no such prediction",
                f"no logged prediction has {key} {getattr(outcome, key)!r}",
            )
        return {"recorded": True, "predictions": matched, "outcomes": outcomes}

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app


def _parse(body: bytes) -> Any:
    """The request body as JSON; 400 naming the problem when it is not."""
    if not body:
        raise ServiceError(400, "malformed JSON", "the body is empty")
    try:
        return json.loads(body)
    except RecursionError:
        raise ServiceError(400, "malformed JSON", "the JSON is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise ServiceError(400, "malformed JSON", shown(str(exc))) from None


def _fields(problems: list[dict]) -> list[dict]:
    """One entry per problem: the field's path, the value received (short and safely encoded),
    the message."""
    return [
        {
            "field": ".".join(str(x) for x in p.get("loc", ()) if x != "body") or "body",
            "value": _plain(p.get("input")),
            "message": shown(p.get("msg")),
        }
        for p in problems
    ]


def _plain(value: Any) -> Any:
    """The received value as JSON can carry it: numbers, booleans and null as they are,
    anything else as short, safely encoded text."""
    if (
        value is None
        or isinstance(value, bool | int)
        or (isinstance(value, float) and value == value and abs(value) != float("inf"))
    ):
        return value
    return shown(value)
