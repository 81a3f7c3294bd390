"""The FastAPI application: the service started from its settings, the routes by concern
(status, predictions, outcomes), JSON errors that name the field and the value, and never a
stack trace (`churnops.serving.errors`).
"""

import gc
import logging

from fastapi import FastAPI

from churnops.serving import errors, service
from churnops.serving.routes import feedback, predict, status
from churnops.serving.settings import Settings, settings_from_env

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service; the model is loaded and verified here, and /ready says whether it is."""
    settings = settings or Settings()
    started = service.start(settings)
    app = FastAPI(
        title="churnops prediction service",
        description="Churn probabilities from the pipeline's evaluated model.",
    )
    app.state.service = started
    errors.install(app)
    app.include_router(status.router)
    app.include_router(predict.router_for(started.contract, settings))
    app.include_router(feedback.router)
    app.add_middleware(errors.BodyLimit, limit=settings.max_body_bytes)
    return app


def app_from_env() -> FastAPI:
    """The app factory uvicorn calls (`churnops serve`)."""
    logging.basicConfig(level=logging.INFO)
    app = create_app(settings_from_env())
    # the libraries and the model are loaded for good: keep their millions of objects out of the
    # garbage collector's full passes, which otherwise stall every request for ~100 ms
    gc.collect()
    gc.freeze()
    return app
