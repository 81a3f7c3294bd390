"""Live service metrics in the Prometheus text format (`GET /metrics`), with the Prometheus client
library: requests by route and status, request latency, predictions by decision and arm, scoring
errors by arm, the served model, and prediction-log write failures.

With several worker processes (`churnops serve --workers N`) each worker writes its figures to
the folder named by PROMETHEUS_MULTIPROC_DIR, which `churnops serve` creates, and a scrape of
any worker collects all of them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
ROUTES = ("/predict", "/feedback", "/health", "/ready", "/model", "/metrics", "/admin/reload")
NO_ARM = "none"  # predictions served outside an A/B experiment
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class Metrics:
    """One service's metrics (a registry of its own, so that several apps in one process, as in
    the tests, do not share figures)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "churnops_requests",
            "HTTP requests answered, by route and status code",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "churnops_request_latency_seconds",
            "Time from a request's arrival to the start of its answer, by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "churnops_predictions",
            "Predictions served and logged, by decision and A/B arm",
            ["decision", "arm"],
            registry=self.registry,
        )
        self.errors = Counter(
            "churnops_prediction_errors",
            "Records a model could not score (not a finite probability, or the model raised), "
            "by A/B arm and reason",
            ["arm", "reason"],
            registry=self.registry,
        )
        self.model = Gauge(
            "churnops_model_info",
            "The served model: 1 for its version, registry version and engine",
            ["version", "registry_version", "engine"],
            registry=self.registry,
            multiprocess_mode="liveall",
        )
        self.log_failures = Counter(
            "churnops_log_write_failures",
            "Predictions or outcomes that could not be written to the prediction log",
            registry=self.registry,
        )
        self._model_labels: list[tuple[str, str, str]] = []

    def served(self, *models: tuple[str, str | None, str]) -> None:
        """Name the served model(s) (version, registry version, engine), after a start or a
        reload; an A/B test serves one per arm."""
        for labels in self._model_labels:
            self.model.remove(*labels)
        self._model_labels = [(v, r or "", e) for v, r, e in models]
        for labels in self._model_labels:
            self.model.labels(*labels).set(1)

    def predicted(self, decisions: list[bool], arm: str | None = None) -> None:
        """Count one request's predictions."""
        positive = sum(decisions)
        arm = arm or NO_ARM
        if positive:
            self.predictions.labels("true", arm).inc(positive)
        if len(decisions) - positive:
            self.predictions.labels("false", arm).inc(len(decisions) - positive)

    def failed(self, arm: str | None, reason: str) -> None:
        """Count one record a model could not score."""
        self.errors.labels(arm or NO_ARM, reason).inc()

    def exposition(self) -> tuple[bytes, str]:
        """The scrape's body and content type: every worker's figures when there are several."""
        if os.environ.get(MULTIPROC_ENV):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class RequestMetrics:
    """ASGI middleware: count each HTTP request by route (one of ROUTES, else "other", so that
    stray paths cannot multiply the series) and status, and time it."""

    def __init__(self, app: Callable, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        path = scope.get("path", "")
        route = path if path in ROUTES else "other"
        status = 500  # what the client gets when the app raises before answering

        async def sending(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                self.metrics.latency.labels(route).observe(time.perf_counter() - start)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.metrics.requests.labels(route, str(status)).inc()
