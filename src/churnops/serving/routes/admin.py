"""POST /admin/reload: load and verify the model again (the registry stage's current version
when served by stage) and swap it in; disabled unless an admin token is configured
(CHURNOPS_ADMIN_TOKEN), and then only with `Authorization: Bearer <token>`."""

from typing import Annotated

from fastapi import APIRouter, Depends

from churnops.serving import schemas, service
from churnops.serving.auth import admin
from churnops.serving.errors import ServiceError
from churnops.serving.service import Service

router = APIRouter()


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
