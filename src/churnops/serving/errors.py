"""Every error answer of the service: JSON {"error", "detail", "omitted"} with the field and the
value received (short and safely encoded), never a stack trace, no file paths; the body-size
and content-type guard; parsing the body."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from churnops.data.reasons import shown

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """An error answered as JSON {"error", "detail"} with its status code."""

    def __init__(self, status: int, error: str, detail: Any) -> None:
        super().__init__(error)
        self.status, self.error, self.detail = status, error, detail


BIG_BODY = 32_768  # bytes
MAX_ERRORS = 20  # problems listed in one error answer; the rest are counted
LOG_DOWN = "the prediction log cannot be written (the server log says why)"


def error_response(
    status: int, error: str, detail: Any, *, total: int | None = None
) -> JSONResponse:
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
    """ASGI middleware: 413 for bodies over the limit, 415 for non-JSON POST bodies (a POST
    with no body and no content type passes: the routes that need one refuse it)."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        scope.setdefault("state", {})["received_at"] = time.perf_counter()
        headers = dict(scope["headers"])
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        bodiless = headers.get(b"content-length", b"0") == b"0" and not kind  # e.g. a reload
        if kind != b"application/json" and not bodiless:
            return await error_response(
                415,
                "unsupported media type",
                f"send application/json, got {kind.decode() or 'none'}",
            )(scope, receive, send)
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await error_response(
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


def install(app: FastAPI) -> None:
    """Answer every error as JSON."""

    @app.exception_handler(ServiceError)
    async def serviceerror_response(_: Request, exc: ServiceError):
        return error_response(exc.status, exc.error, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError):
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            messages = [p.get("msg") for p in problems[:MAX_ERRORS]]
            return error_response(400, "malformed JSON", messages)
        return error_response(
            422, "invalid request", fields(problems[:MAX_ERRORS]), total=len(problems)
        )

    @app.exception_handler(StarletteHTTPException)
    async def httperror_response(_: Request, exc: StarletteHTTPException):
        # FastAPI answers 400 when the body cannot be parsed (e.g. JSON nested too deeply)
        error = "malformed JSON" if exc.status_code == 400 else "request rejected"
        return error_response(exc.status_code, error, exc.detail)

    @app.exception_handler(RecursionError)
    async def too_deep(_: Request, exc: RecursionError):
        return error_response(400, "malformed JSON", "the JSON is nested too deeply")

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal error", type(exc).__name__)


def parse_body(body: bytes) -> Any:
    """The request body as JSON; 400 naming the problem when it is not."""
    if not body:
        raise ServiceError(400, "malformed JSON", "the body is empty")
    try:
        return json.loads(body)
    except RecursionError:
        raise ServiceError(400, "malformed JSON", "the JSON is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise ServiceError(400, "malformed JSON", shown(str(exc))) from None


def fields(problems: list[dict]) -> list[dict]:
    """One entry per problem: the field's path, the value received (short and safely encoded),
    the message."""
    return [
        {
            "field": ".".join(str(x) for x in p.get("loc", ()) if x != "body") or "body",
            "value": plain(p.get("input")),
            "message": shown(p.get("msg")),
        }
        for p in problems
    ]


def plain(value: Any) -> Any:
    """The received value as JSON can carry it: numbers, booleans and null as they are,
    anything else as short, safely encoded text."""
    if (
        value is None
        or isinstance(value, bool | int)
        or (isinstance(value, float) and value == value and abs(value) != float("inf"))
    ):
        return value
    return shown(value)
