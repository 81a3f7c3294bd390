"""POST /admin/reload: load and verify the model again (the registry stage's current version
when served by stage) and swap it in; disabled unless an admin token is configured
(CHURNOPS_ADMIN_TOKEN), and then only with `Authorization: Bearer <token>`."""

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header

from churnops.serving import schemas, service
from churnops.serving.errors import ServiceError
from churnops.serving.service import Service, current

router = APIRouter()


def admin(
    svc: Annotated[Service, Depends(current)],
    authorization: Annotated[str | None, Header()] = None,
) -> Service:
    """Dependency: the caller holds the admin token (compared in constant time)."""
    token = svc.settings.admin_token
    if token is None:
        raise ServiceError(403, "forbidden", "admin routes are disabled: set CHURNOPS_ADMIN_TOKEN")
    if not authorization or not authorization.startswith("Bearer "):
        raise ServiceError(401, "unauthorized", "send Authorization: Bearer <admin token>")
    given = authorization.removeprefix("Bearer ").encode()
    if not hmac.compare_digest(given, token.encode()):
        raise ServiceError(403, "forbidden", "wrong admin token")
    return svc


@router.post("/admin/reload", responses=schemas.error_responses(401, 403))
async def reload(svc: Annotated[Service, Depends(admin)]) -> dict:
    """Load and verify the model again off the request path, then swap it in; requests in
    flight finish on the old model. A failed load keeps the old one, and the answer says why.
    Refused (409) when the service runs several worker processes: one reload reaches only the
    worker that answers, and the others would go on serving the old model."""
    if svc.settings.workers > 1:
        raise ServiceError(
            409,
            "reload refused, still serving the old model",
            f"this service runs {svc.settings.workers} worker processes and a reload reaches "
            "only the one that answers: restart it (`churnops serve --stage ...` fetches the "
            "stage's version), or run one worker per process behind a load balancer",
        )
    result = await service.reload(svc)
    if not result["reloaded"]:
        raise ServiceError(409, "reload failed, still serving the old model", result)
    return result
