"""What a running service holds: its settings, the input contract, the verified model, the
prediction log and the micro-batcher; and the dependencies routes use to reach them."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request

from churnops.data.contract import Contract
from churnops.governance.privacy import Privacy, load_key
from churnops.serving import artifact, prediction_log
from churnops.serving import experiment as ab
from churnops.serving.errors import ServiceError, public
from churnops.serving.metrics import Metrics
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
    registry_version: str | None = None  # when served from the registry
    last_reload: dict | None = None  # what the last reload did, or why it failed
    metrics: Metrics = field(default_factory=Metrics)
    experiment: ab.Experiment | None = None  # an A/B test: the arms' models and batchers


def _load(paths: Mapping[str, Path], settings: Settings) -> artifact.LoadedModel:
    return artifact.load(
        paths["model"],
        paths["meta"],
        paths["schema"],
        compiled_dir=paths["compiled"],
        engine=settings.engine,
    )


def _paths(settings: Settings) -> dict[str, Path]:
    return {
        "model": settings.model_path,
        "meta": settings.meta_path,
        "schema": settings.schema_path,
        "compiled": settings.compiled_path,
    }


def start(settings: Settings, contract: Contract, metrics: Metrics | None = None) -> Service:
    """Load and verify the model, open the log. A failure leaves the service up and not ready,
    with the reason (no file paths)."""
    service = Service(settings=settings, contract=contract, metrics=metrics or Metrics())
    service.registry_version = settings.registry_version
    try:
        service.log = prediction_log.PredictionLog(
            settings.log_path, synchronous=settings.log_sync, privacy=privacy_of(settings)
        )
        if settings.experiment_path is not None:
            experiment = ab.load(settings.experiment_path, service.log, engine=settings.engine)
            control = experiment.control
            service.experiment, service.model, service.batcher = (
                experiment,
                control.model,
                control.batcher,
            )
            service.registry_version = control.registry_version
            service.metrics.served(
                *(
                    (a.model.version, a.registry_version, a.model.engine)
                    for a in experiment.arms.values()
                )
            )
        else:
            service.model = _load(_paths(settings), settings)
            service.batcher = MicroBatcher(service.model, service.log)
            service.metrics.served(
                (service.model.version, service.registry_version, service.model.engine)
            )
    except (artifact.ModelIntegrityError, OSError, ValueError, sqlite3.Error) as exc:
        log.error("not ready: %s", exc)
        service.model, service.not_ready = None, public(str(exc))
    return service


async def reload(service: Service) -> dict[str, Any]:
    """Load and verify the model again - the registry stage's current version when served by
    stage, else the same paths - off the event loop, then swap it in at once: requests already
    scoring finish on the old model. A failure keeps the old model and says why."""
    settings, before = service.settings, service.model
    result: dict[str, Any] = {"from": before.version if before else None}
    if service.experiment is not None:
        result.update(
            reloaded=False,
            reason=f"A/B experiment {service.experiment.name!r} fixes the arms' models: restart "
            "the service to change them",
        )
        service.last_reload = result
        return result
    try:
        version, paths = await asyncio.to_thread(_resolve, service)
        model = await asyncio.to_thread(_load, paths, settings)
        contract = Contract(model.schema, settings.policy)
        if _shape(contract) != _shape(service.contract):
            raise ValueError(
                "the new model takes other features (names or kinds): restart the service for it"
            )
    except (artifact.ModelIntegrityError, RuntimeError, OSError, ValueError) as exc:
        log.error("reload failed, still serving %s: %s", result["from"], exc)
        result.update(reloaded=False, reason=public(str(exc)))
    else:
        service.model, service.contract = model, contract  # ranges and categories may be new
        if service.batcher is not None:
            service.batcher.swap(model)
        service.registry_version, service.not_ready = version, None
        service.metrics.served((model.version, version, model.engine))
        result.update(reloaded=True, to=model.version, registry_version=version)
        log.info("reloaded: %s -> %s (registry %s)", result["from"], model.version, version)
    service.last_reload = result
    return result


def _shape(contract: Contract) -> dict[str, str]:
    return {name: info["kind"] for name, info in contract.features.items()}


def _resolve(service: Service) -> tuple[str | None, dict[str, Path]]:
    """The registry version and the bundle paths a reload loads."""
    settings = service.settings
    if settings.registry_stage is None:
        return service.registry_version, _paths(settings)
    from churnops.registry import bundle, versions

    version = versions.in_stage(Path("."), settings.registry_stage)
    if version is None:
        raise RuntimeError(f"no version is in stage {settings.registry_stage!r}")
    folder = versions.fetch(Path("."), version=version)
    return version, bundle.paths(folder)


def stop(service: Service) -> None:
    """Close the log (every acknowledged prediction is already committed)."""
    if service.log is not None:
        service.log.close()


def privacy_of(settings: Settings) -> Privacy:
    """How the log stores record ids and inputs under these settings.

    Raises:
        MissingKey: pseudonymisation is on and no key is set.
    """
    key = (
        load_key(env=settings.hmac_key_env, file=settings.hmac_key_file)
        if settings.pseudonymize_ids
        else None
    )
    return Privacy(key=key, withheld=frozenset(settings.pii_columns))


def current(request: Request) -> Service:
    """Dependency: the app's service."""
    return request.app.state.service


def ready_model(request: Request) -> artifact.LoadedModel:
    """Dependency: the verified model, or 503 with the reason it is not there."""
    service = current(request)
    if service.model is None:
        raise ServiceError(503, "model not ready", service.not_ready)
    return service.model
