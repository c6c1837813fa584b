"""Extract v2 routes (``/api/v2/extract``): thin wrappers over :class:`ExtractService`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query

from lamina.server.deps import get_project, services_dep
from lamina.server.openapi import errors, ok
from lamina.services.api.parse import split_csv
from lamina.services.container import Services
from lamina.types import (
    ExtractCreateRequest,
    ExtractV2Job,
    GeneratedConfiguration,
    JobDeleted,
    JobStatus,
    PaginatedList,
    SchemaGenerateRequest,
    SchemaValidationRequest,
    SchemaValidationResponse,
)

router = APIRouter(prefix="/api/v2/extract", tags=["extract"], responses=errors(401, 422))
# The response model is the return annotation; only the fields the service set are written
# (the expanded ones, a result once COMPLETED), so the JSON is the same as before it was typed.
_TYPED: dict[str, Any] = {"response_model_exclude_unset": True}


@router.post("", responses=ok(ExtractV2Job, 400, 404, 413), **_TYPED)
def create_extract_job(
    body: ExtractCreateRequest,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> ExtractV2Job:
    raw = body.model_dump(mode="json", exclude_unset=True)
    row = services.extract.create(project_id, body, raw)
    return services.extract.to_job(row, {"configuration"})


@router.get("", responses=ok(PaginatedList[ExtractV2Job]), **_TYPED)
def list_extract_jobs(
    page_size: int | None = Query(None),
    page_token: str | None = Query(None),
    status: JobStatus | None = Query(None),
    job_ids: list[str] | None = Query(None),
    file_input: str | None = Query(None),
    document_input_value: str | None = Query(None),
    configuration_id: str | None = Query(None),
    expand: list[str] | None = Query(None),
    created_at_on_or_after: datetime | None = Query(None),
    created_at_on_or_before: datetime | None = Query(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> PaginatedList[ExtractV2Job]:
    return services.extract.list(
        project_id,
        status=status,
        job_ids=split_csv(job_ids),
        file_input=file_input or document_input_value,
        configuration_id=configuration_id,
        created_after=created_at_on_or_after,
        created_before=created_at_on_or_before,
        expand=split_csv(expand),
        page_size=page_size,
        page_token=page_token,
    )


@router.post("/schema/validation", responses=ok(SchemaValidationResponse, 400, 413), **_TYPED)
def validate_schema(
    body: SchemaValidationRequest,
    _project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> SchemaValidationResponse:
    return services.extract.validate_schema(body.data_schema)


@router.post("/schema/generate", responses=ok(GeneratedConfiguration, 400, 404, 413), **_TYPED)
def generate_schema(
    body: SchemaGenerateRequest,
    _project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> GeneratedConfiguration:
    return services.extract.generate_schema(
        prompt=body.prompt, data_schema=body.data_schema, file_id=body.file_id, name=body.name
    )


@router.get("/{job_id}", responses=ok(ExtractV2Job, 404), **_TYPED)
def get_extract_job(
    job_id: str,
    expand: list[str] | None = Query(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> ExtractV2Job:
    return services.extract.get(project_id, job_id, expand=split_csv(expand))


@router.post("/{job_id}/cancel", responses=ok(ExtractV2Job, 400, 404), **_TYPED)
def cancel_extract_job(
    job_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> ExtractV2Job:
    return services.extract.cancel(project_id, job_id)


@router.delete("/{job_id}", responses=ok(JobDeleted, 400, 404), **_TYPED)
def delete_extract_job(
    job_id: str,
    force: bool = Query(False),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> JobDeleted:
    return services.extract.delete(project_id, job_id, force=force)
