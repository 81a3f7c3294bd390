"""The FastAPI application: the service started from its settings, the routes by concern
(status, predictions, outcomes), JSON errors that name the field and the value, and never a
stack trace (`churnops.serving.errors`).
"""

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator

from fastapi import FastAPI

from churnops.data.contract import Contract
from churnops.files import read_json
from churnops.serving import errors, service
from churnops.serving.metrics import Metrics, RequestMetrics
from churnops.serving.routes import admin, feedback, predict, status
from churnops.serving.settings import Settings, settings_from_env

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service. Its lifespan loads and verifies the model and opens the log when the
    server starts (and closes the log when it stops); /ready says whether the model is there."""
    settings = settings or Settings()
    contract = Contract(read_json(settings.schema_path), settings.policy)
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.service = service.start(settings, contract, metrics)
        hangup = _on_sighup(app.state.service)
        try:
            yield
        finally:
            if hangup:
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            service.stop(app.state.service)

    words = contract.words
    app = FastAPI(
        title=f"{words.outcome[:1].upper()}{words.outcome[1:]} prediction service",
        description=f"Probabilities of {words.outcome} for {words.entities}, from the "
        "pipeline's evaluated model.",
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(status.router)
    app.include_router(predict.router_for(contract, settings))
    app.include_router(feedback.router_for(contract))
    app.include_router(admin.router)
    app.add_middleware(errors.BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=metrics)  # outermost: it sees every answer
    return app


_reloads: set[asyncio.Task] = set()  # running reloads, kept referenced until they finish


def _keep(task: asyncio.Task) -> None:
    _reloads.add(task)
    task.add_done_callback(_reloads.discard)


def _on_sighup(svc: service.Service) -> bool:
    """Reload on SIGHUP (`kill -HUP <pid>`); only where the loop can take signals (the main
    thread of a single-process server)."""
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGHUP, lambda: _keep(loop.create_task(service.reload(svc))))
    except (RuntimeError, ValueError, NotImplementedError):
        return False
    return True


def app_from_env() -> FastAPI:
    """The app factory uvicorn calls (`churnops serve`)."""
    logging.basicConfig(level=logging.INFO)
    app = create_app(settings_from_env())
    # the libraries and the model are loaded for good: keep their millions of objects out of the
    # garbage collector's full passes, which otherwise stall every request for ~100 ms
    gc.collect()
    gc.freeze()
    return app
