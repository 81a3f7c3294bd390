"""GET /health, /ready, /model and /metrics."""

import logging
import sqlite3
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from churnops.data import contract_docs
from churnops.serving import artifact, schemas
from churnops.serving.errors import LOG_DOWN, ServiceError, public
from churnops.serving.service import Service, current, ready_model

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/health")
async def health() -> dict:
    """The process is alive."""
    return {"status": "alive"}


@router.get("/metrics", response_class=Response)
async def metrics(service: Annotated[Service, Depends(current)]) -> Response:
    """Live figures in the Prometheus text format: requests by route and status, latency,
    predictions by decision and arm, the served model, prediction-log write failures."""
    body, content_type = service.metrics.exposition()
    return Response(body, media_type=content_type)


@router.get("/ready", responses=schemas.error_responses(503))
async def ready(
    loaded: Annotated[artifact.LoadedModel, Depends(ready_model)],
    service: Annotated[Service, Depends(current)],
) -> dict:
    """The model is loaded and its sha256 verified, and the prediction log takes a write."""
    try:
        service.log.probe()
    except (sqlite3.Error, OSError) as exc:
        log.error("not ready: the prediction log cannot be written: %s", exc)
        raise ServiceError(503, "not ready", LOG_DOWN) from None
    return {"status": "ready", "model_version": loaded.version, "engine": loaded.engine}


@router.get("/model", responses=schemas.error_responses(503))
async def describe(
    loaded: Annotated[artifact.LoadedModel, Depends(ready_model)],
    service: Annotated[Service, Depends(current)],
) -> dict:
    """Version, hashes, CV score, decision threshold and input schema of the served model."""
    meta = loaded.meta
    return {
        "model_version": loaded.version,
        "registry": {
            "version": service.registry_version,
            "stage": service.settings.registry_stage,
            "last_reload": service.last_reload,
        },
        "experiment": service.experiment.describe() if service.experiment else None,
        "model_sha256": meta["model_sha256"],
        "train_data_md5": meta["train_data_md5"],
        "candidate": meta["candidate"],
        "cv": meta["cv"],
        "decision_threshold": meta.get("decision_threshold"),
        "classes": meta["classes"],
        "positive_label": meta["positive_label"],
        "input_schema": loaded.schema["features"],
        "input_contract": contract_docs.describe(service.contract),
        "unknown_value_policy": service.settings.policy,
        "engine": loaded.engine,
        "engine_note": public(loaded.engine_note),
    }
