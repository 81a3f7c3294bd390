"""POST /feedback: an observed outcome for a request or a record id, in the data's own words."""

import logging
import sqlite3
from typing import Annotated

from fastapi import APIRouter, Body, Depends

from churnops.data.contract import Contract
from churnops.serving import artifact, schemas
from churnops.serving.auth import api_caller
from churnops.serving.errors import LOG_DOWN, ServiceError
from churnops.serving.prediction_log import OutcomeLimit
from churnops.serving.service import Service, ready_model

log = logging.getLogger(__name__)


def router_for(contract: Contract) -> APIRouter:
    """The /feedback route, its body named by the data: `request_id` or the id column, and the
    target column with the label observed."""
    words, target = contract.words, contract.schema["target"]
    body = schemas.feedback_model(words, target["name"], target["labels"])

    async def feedback(
        outcome: Annotated[body, Body()],  # type: ignore[valid-type]
        loaded: Annotated[artifact.LoadedModel, Depends(ready_model)],
        service: Annotated[Service, Depends(api_caller)],
    ) -> dict:
        limit = service.settings.max_outcomes_per_id
        try:
            matched, outcomes = service.log.record_outcome(
                positive=outcome.positive,
                request_id=outcome.request_id,
                record_id=outcome.record_id,
                limit=limit,
            )
        except OutcomeLimit as exc:
            raise ServiceError(
                429,
                "too many outcomes",
                f"{exc.recorded} outcomes are already recorded for this id, the limit is "
                f"{limit} (CHURNOPS_MAX_OUTCOMES): nothing was recorded",
            ) from None
        except (sqlite3.Error, OSError) as exc:
            log.error("outcome not recorded: %s", exc)
            service.metrics.log_failures.inc()
            raise ServiceError(503, "outcome not recorded", LOG_DOWN) from None
        if not matched:
            key, value = (
                ("request_id", outcome.request_id)
                if outcome.request_id
                else (words.id_field, outcome.record_id)
            )
            raise ServiceError(
                404, "no such prediction", f"no logged prediction has {key} {value!r}"
            )
        return {"recorded": True, "predictions": matched, "outcomes": outcomes}

    router = APIRouter()
    router.add_api_route(
        "/feedback",
        feedback,
        methods=["POST"],
        response_model=schemas.FeedbackResponse,
        responses=schemas.error_responses(400, 401, 403, 404, 413, 415, 422, 429, 503),
        summary="Feedback",
        description=(
            f"Record the observed outcome ({target['name']}: one of {target['labels']}) for a "
            f"request id or a {words.entity}'s id ({words.id_field}). An outcome may be sent "
            "again (a correction): the latest one wins, and `outcomes` counts how many have been "
            "recorded for that id (at most `max_outcomes_per_id`). Needs `Authorization: Bearer "
            "<API token>` when the service has one."
        ),
    )
    return router
