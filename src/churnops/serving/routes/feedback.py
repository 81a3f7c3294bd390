"""POST /feedback: an observed outcome for a request or a customer."""

import logging
import sqlite3
from typing import Annotated

from fastapi import APIRouter, Depends

from churnops.serving import artifact, schemas
from churnops.serving.errors import LOG_DOWN, ServiceError
from churnops.serving.service import Service, current, ready_model

log = logging.getLogger(__name__)
router = APIRouter()


@router.post(
    "/feedback",
    response_model=schemas.FeedbackResponse,
    responses=schemas.error_responses(400, 404, 413, 415, 422, 503),
)
async def feedback(
    outcome: schemas.Feedback,
    loaded: Annotated[artifact.LoadedModel, Depends(ready_model)],
    service: Annotated[Service, Depends(current)],
) -> dict:
    """Record an observed outcome (churned or not) for a request id or a customer id. An
    outcome may be sent again (a correction): the latest one wins, and `outcomes` counts
    how many have been recorded for that id."""
    try:
        matched, outcomes = service.log.record_outcome(
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
