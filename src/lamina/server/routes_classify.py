"""Classify v2 routes (``/api/v2/classify``): thin wrappers over :class:`ClassifyService`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query

from lamina.server.deps import get_project, services_dep
from lamina.server.openapi import errors, ok
from lamina.services.api.parse import split_csv
from lamina.services.container import Services
from lamina.types import ClassifyCreateRequest, ClassifyJob, JobDeleted, PaginatedList

router = APIRouter(prefix="/api/v2/classify", tags=["classify"], responses=errors(400, 401, 422))
# The response model is the return annotation; only the fields the service set are written
# (``usage`` only when expanded), so the JSON is the same as before it was typed.
_TYPED: dict[str, Any] = {"response_model_exclude_unset": True}


@router.post("", responses=ok(ClassifyJob, 404), **_TYPED)
def create_classify_job(
    body: ClassifyCreateRequest,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> ClassifyJob:
    return services.classify.create(project_id, body.model_dump(exclude_unset=True))


@router.get("", responses=ok(PaginatedList[ClassifyJob]), **_TYPED)
def list_classify_jobs(
    page_size: int | None = Query(None),
    page_token: str | None = Query(None),
    status: str | None = Query(None),
    job_ids: list[str] | None = Query(None),
    configuration_id: str | None = Query(None),
    created_at_on_or_after: datetime | None = Query(None),
    created_at_on_or_before: datetime | None = Query(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> PaginatedList[ClassifyJob]:
    return services.classify.list(
        project_id,
        status=status,
        job_ids=split_csv(job_ids),
        configuration_id=configuration_id,
        created_after=created_at_on_or_after,
        created_before=created_at_on_or_before,
        page_size=page_size,
        page_token=page_token,
    )


@router.get("/{job_id}", responses=ok(ClassifyJob, 404), **_TYPED)
def get_classify_job(
    job_id: str,
    expand: list[str] | None = Query(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> ClassifyJob:
    return services.classify.get(project_id, job_id, split_csv(expand))


@router.post("/{job_id}/cancel", responses=ok(ClassifyJob, 404), **_TYPED)
def cancel_classify_job(
    job_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> ClassifyJob:
    return services.classify.cancel(project_id, job_id)


@router.delete("/{job_id}", responses=ok(JobDeleted, 404), **_TYPED)
def delete_classify_job(
    job_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> JobDeleted:
    return services.classify.delete(project_id, job_id)
