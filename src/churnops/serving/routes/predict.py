"""POST /predict: score one record or several, each checked by the input contract, each
prediction logged before the answer is sent."""

import asyncio
import logging
import sqlite3
import time
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from churnops.data import contract_docs
from churnops.data.contract import Contract
from churnops.serving import auth, experiment, explain, schemas
from churnops.serving.errors import (
    BIG_BODY,
    LOG_DOWN,
    ServiceError,
    parse_body,
    plain,
)
from churnops.serving.microbatch import Pending, ScoreError
from churnops.serving.prediction_log import Failure
from churnops.serving.service import current, ready_model
from churnops.serving.settings import Settings

log = logging.getLogger(__name__)


def router_for(contract: Contract, settings: Settings) -> APIRouter:
    """The /predict route, with the contract's JSON Schema as its documented request body."""
    record_schema = contract_docs.json_schema(contract)
    body_schema = {
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
    router = APIRouter()
    router.add_api_route(
        "/predict",
        predict,
        methods=["POST"],
        response_model=schemas.predict_response(contract.words),
        summary="Predict",
        description=_description(contract),
        responses=schemas.error_responses(400, 401, 403, 413, 415, 422, 503),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": body_schema}},
            }
        },
    )
    return router


def _description(contract: Contract) -> str:
    words = contract.words
    return (
        f"Score one {words.entity} (an object) or several (a list) for {words.outcome}, as a "
        f"row of the training data: its own column names (the id under {words.id_field!r}; "
        f"the target and the columns the model does not use, {list(contract.ignored_keys)}, "
        "are accepted and ignored) and its own value types (numbers may be numeric text). Every "
        "prediction is in the prediction log before the answer is sent."
    )


# The handler is a coroutine: scoring (ONNX Runtime) and the log's commit take a fraction of a
# millisecond, less than the thread hand-offs a plain `def` route costs; the requests ready
# together are scored and logged together (MicroBatcher). Scale out with `--workers`.
async def predict(request: Request) -> JSONResponse:
    """Score the records of a request (see `_description`)."""
    service = current(request)
    auth.check_predict(request, service)  # 401/403 when /predict needs the API token
    ready_model(request)  # 503 with the reason when no model is loaded
    contract, settings = service.contract, service.settings
    body = await request.body()
    # a large body is parsed off the event loop, so /health and small requests go on
    payload = (
        await asyncio.to_thread(parse_body, body) if len(body) > BIG_BODY else parse_body(body)
    )
    records = payload if isinstance(payload, list) else [payload]
    entities = contract.words.entities
    if not records:
        raise ServiceError(422, "invalid request", f"the list of {entities} is empty")
    if len(records) > settings.max_batch:
        raise ServiceError(
            422,
            "invalid request",
            f"{len(records)} {entities} exceed the limit of {settings.max_batch} per request",
        )
    checks = [contract.check_record(c) for c in records]
    problems = [
        {
            "field": f"{i}.{name}" if isinstance(payload, list) else name,
            "value": plain(value),
            "message": message,
        }
        for i, check in enumerate(checks)
        for name, value, message in check.problems
    ]
    if problems:
        raise ServiceError(422, "invalid request", problems)
    request_id = uuid.uuid4().hex
    received_at = getattr(request.state, "received_at", None) or time.perf_counter()
    groups = _groups(service, checks)
    top = _explain_top(request, groups)  # None: no explanation asked
    try:
        scored = await _score(service, groups, checks, request_id, received_at)
    except ScoreError as exc:
        _failed(service, groups, checks, request_id, exc.args[0], NOT_FINITE)
        raise ServiceError(
            422,
            "invalid request",
            [
                {
                    "field": str(i) if isinstance(payload, list) else "body",
                    "value": None,
                    "message": "the model's score for these values is not a finite probability",
                }
                for i in exc.args[0]
            ],
        ) from None
    except (sqlite3.Error, OSError) as exc:
        log.error("prediction %s not logged: %s", request_id, exc)
        service.metrics.log_failures.inc(len(checks))
        raise ServiceError(503, "prediction not logged", LOG_DOWN) from None
    except Exception as exc:  # the model raised: a 500, counted against its model and arm
        _failed(service, groups, checks, request_id, range(len(checks)), type(exc).__name__)
        raise
    out: list[dict] = [{} for _ in checks]
    models = []
    for (arm, _, items), (probabilities, scored_by) in zip(groups, scored, strict=True):
        models.append(scored_by)
        threshold = scored_by.threshold  # the model that scored them (a reload may have swapped)
        for i, p in zip(items, probabilities.tolist(), strict=True):
            decision = p >= threshold
            out[i] = {
                "probability": p,
                "decision": decision,
                "confidence": p if decision else 1 - p,
                contract.words.id_field: checks[i].record_id,
                "warnings": checks[i].warnings,
                "model_version": scored_by.version,
                "arm": arm,
            }
        if top is not None:
            explained = scored_by.explainer.explain([checks[i].values for i in items], top)
            for i, explanation in zip(items, explained, strict=True):
                out[i]["explanation"] = explanation
        service.metrics.predicted([out[i]["decision"] for i in items], arm)
    one = models[0] if len({m.version for m in models}) == 1 else None
    # built from plain floats, bools and strings: sent as it is, not re-validated
    return JSONResponse(
        {
            # one model scored the request (always, outside an A/B test): its version and
            # threshold; when A/B arms split it, each prediction names its own
            "model_version": one.version if one else None,
            "threshold": one.threshold if one else None,
            "request_id": request_id,
            "predictions": out,
        }
    )


async def _score(service, groups, checks, request_id: str, received_at: float) -> list:
    """(probabilities, model) per group, once logged. One model: its micro-batcher, awaited on
    the spot. A request split between A/B arms: scored arm by arm and logged in one
    transaction, off the event loop.

    Raises:
        ScoreError: non-finite scores, with their positions in the request; nothing is logged.
    """
    if len(groups) == 1:
        arm, batcher, items = groups[0]
        try:
            return [
                await batcher.score(
                    [c.values for c in checks],
                    record_ids=[c.record_id for c in checks],
                    request_id=request_id,
                    received_at=received_at,
                    items=items if arm is not None else None,
                )
            ]
        except ScoreError as exc:
            raise ScoreError([items[j] for j in exc.args[0]]) from None
    split = [
        (arm, Pending([checks[i].values for i in items], [checks[i].record_id for i in items],
                      request_id, received_at, items=items))
        for arm, _, items in groups
    ]  # fmt: skip
    return await asyncio.to_thread(
        experiment.score_split, service.experiment, service.log, split, received_at
    )


NOT_FINITE = "not a finite probability"


def _failed(service, groups, checks, request_id: str, positions, reason: str) -> None:
    """Record the records a model could not score (log and metrics), with their model and A/B
    arm, so error rates per arm can be compared; a log that cannot take them is counted."""
    experiment_name = service.experiment.name if service.experiment is not None else None
    arm_of = {i: (arm, batcher) for arm, batcher, items in groups for i in items}
    failures = [
        Failure(
            request_id=request_id,
            item=i,
            record_id=checks[i].record_id,
            model_version=arm_of[i][1].model.version,
            reason=reason,
            arm=arm_of[i][0],
            experiment=experiment_name if arm_of[i][0] is not None else None,
        )
        for i in positions
    ]
    for failure in failures:
        service.metrics.failed(failure.arm, reason)
    try:
        service.log.record_failures(failures)
    except (sqlite3.Error, OSError) as exc:
        log.error("failures of request %s not logged: %s", request_id, exc)
        service.metrics.log_failures.inc(len(failures))


def _explain_top(request: Request, groups) -> int | None:
    """`?explain=true[&top=K]`: how many contributions to list (default 5), None when no
    explanation is asked; 422 before anything is scored when one cannot be given."""
    query = request.query_params
    if query.get("explain", "false").lower() not in ("true", "1", "yes"):
        return None
    text = query.get("top", "5")
    if not text.isdigit() or int(text) < 1:
        raise ServiceError(422, "invalid request", [
            {"field": "top", "value": plain(text), "message": "top must be a whole number >= 1"}
        ])  # fmt: skip
    for _, batcher, _ in groups:
        try:
            batcher.model.explainer  # noqa: B018  (built once, and checked here)
        except explain.NoExplanation as exc:
            raise ServiceError(422, "no explanation", f"explain=true: {exc}") from None
    return int(text)


def _groups(service, checks) -> list[tuple[str | None, object, list[int]]]:
    """(arm, batcher, the records' positions) for each arm the request's records meet: every
    record to the one model outside an A/B test; by the sticky assignment of its id inside one
    (no id: control). A request split between arms is logged arm by arm."""
    if service.experiment is None:
        return [(None, service.batcher, list(range(len(checks))))]
    by_arm: dict[str, list[int]] = {}
    for i, check in enumerate(checks):
        by_arm.setdefault(service.experiment.arm_of(check.record_id).name, []).append(i)
    arms = service.experiment.arms
    return [(name, arms[name].batcher, items) for name, items in by_arm.items()]
