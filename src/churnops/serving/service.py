"""What a running service holds: its settings, the input contract, the verified model, the
prediction log and the micro-batcher; and the dependencies routes use to reach them."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass

from fastapi import Request

from churnops.data.contract import Contract
from churnops.serving import artifact, prediction_log
from churnops.serving.errors import ServiceError, public
from churnops.serving.microbatch import MicroBatcher
from churnops.serving.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Service:
    """The served model and what goes with it; `not_ready` says why the model is absent."""

    settings: Settings
    contract: Contract
    model: artifact.LoadedModel | None = None
    log: prediction_log.PredictionLog | None = None
    batcher: MicroBatcher | None = None
    not_ready: str | None = None


def start(settings: Settings, contract: Contract) -> Service:
    """Load and verify the model, open the log. A failure leaves the service up and not ready,
    with the reason (no file paths)."""
    service = Service(settings=settings, contract=contract)
    try:
        service.model = artifact.load(
            settings.model_path,
            settings.meta_path,
            settings.schema_path,
            compiled_dir=settings.compiled_path,
            engine=settings.engine,
        )
        service.log = prediction_log.PredictionLog(settings.log_path, synchronous=settings.log_sync)
        service.batcher = MicroBatcher(service.model, service.log)
    except (artifact.ModelIntegrityError, OSError, ValueError, sqlite3.Error) as exc:
        log.error("not ready: %s", exc)
        service.model, service.not_ready = None, public(str(exc))
    return service


def stop(service: Service) -> None:
    """Close the log (every acknowledged prediction is already committed)."""
    if service.log is not None:
        service.log.close()


def current(request: Request) -> Service:
    """Dependency: the app's service."""
    return request.app.state.service


def ready_model(request: Request) -> artifact.LoadedModel:
    """Dependency: the verified model, or 503 with the reason it is not there."""
    service = current(request)
    if service.model is None:
        raise ServiceError(503, "model not ready", service.not_ready)
    return service.model
