"""Bearer tokens where data or the service changes: the API token (CHURNOPS_API_TOKEN) guards
POST /feedback, and POST /predict too when `predict_auth` is on; the admin token
(CHURNOPS_ADMIN_TOKEN) guards the admin routes. Tokens are compared in constant time; a missing
token is 401, a wrong one 403, both as the service's JSON errors.

Where the service listens beyond this machine, `churnops serve` refuses to start without an API
token unless told `--insecure` (`exposed`).
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import Depends, Header, Request

from churnops.serving.errors import ServiceError
from churnops.serving.service import Service, current

LOOPBACK_NAMES = ("localhost",)


def check(expected: str, authorization: str | None, *, name: str) -> None:
    """Raise unless `authorization` is `Bearer <expected>` (constant-time comparison).

    Raises:
        ServiceError: 401 without a bearer token, 403 with a wrong one.
    """
    if not authorization or not authorization.startswith("Bearer "):
        raise ServiceError(401, "unauthorized", f"send Authorization: Bearer <{name}>")
    given = authorization.removeprefix("Bearer ").encode()
    if not hmac.compare_digest(given, expected.encode()):
        raise ServiceError(403, "forbidden", f"wrong {name}")


def api_caller(
    svc: Annotated[Service, Depends(current)],
    authorization: Annotated[str | None, Header()] = None,
) -> Service:
    """Dependency of the routes that change data: the API token, when one is configured."""
    if svc.settings.api_token is not None:
        check(svc.settings.api_token, authorization, name="API token")
    return svc


def check_predict(request: Request, svc: Service) -> None:
    """/predict's check (inline: the route takes no dependencies, for speed)."""
    if svc.settings.predict_auth:
        check(svc.settings.api_token, request.headers.get("authorization"), name="API token")


def admin(
    svc: Annotated[Service, Depends(current)],
    authorization: Annotated[str | None, Header()] = None,
) -> Service:
    """Dependency of the admin routes: disabled (403) without an admin token."""
    token = svc.settings.admin_token
    if token is None:
        raise ServiceError(403, "forbidden", "admin routes are disabled: set CHURNOPS_ADMIN_TOKEN")
    check(token, authorization, name="admin token")
    return svc


def exposed(host: str) -> bool:
    """Whether listening on `host` reaches beyond this machine (anything but loopback)."""
    if host in LOOPBACK_NAMES:
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return True
