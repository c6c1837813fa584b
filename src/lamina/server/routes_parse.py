"""Parse v2 routes (``/api/v2/parse``): thin wrappers over :class:`ParseService`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from lamina.server import operations
from lamina.server.deps import get_project, presign_base, services_dep
from lamina.server.openapi import errors, ok
from lamina.server.routes_files import upload_stream
from lamina.services.api.parse import (
    parse_upload_configuration,
    split_csv,
    to_parse_job,
    versions,
)
from lamina.services.container import Services
from lamina.types import (
    JobDeleted,
    JobStatus,
    PaginatedList,
    ParseCreateRequest,
    ParseJob,
    ParseResponse,
)

router = APIRouter(prefix="/api/v2/parse", tags=["parse"], responses=errors(401, 422))
# The response model is the return annotation; only the fields the service set are written
# (what the row has, what ``expand`` asked for), so the JSON is the same as before it was typed.
_TYPED: dict[str, Any] = {"response_model_exclude_unset": True}


@router.post("", responses=ok(ParseJob, 400, 404, 413), **_TYPED)
def create_parse_job(
    body: ParseCreateRequest,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> ParseJob:
    return operations.create_parse_job(services, project_id, body)


@router.post("/upload", responses=ok(ParseJob, 400, 404, 413), **_TYPED)
async def upload_and_parse(
    file: UploadFile = File(...),
    configuration: str | None = Form(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> ParseJob:
    """Multipart ``file`` plus a ``configuration`` form field holding the create body as JSON."""
    request, raw = parse_upload_configuration(configuration)
    services.parse.validate_options(request, raw)  # fail fast, before storing the upload

    def store_and_create() -> ParseJob:
        row = services.files.create(
            project_id,
            name=file.filename or "upload",
            data=upload_stream(file),
            purpose="parse",
            content_type=file.content_type,
        )
        return to_parse_job(services.parse.create(project_id, request, raw, uploaded_file=row))

    return await run_in_threadpool(store_and_create)


@router.get("", responses=ok(PaginatedList[ParseJob]), **_TYPED)
def list_parse_jobs(
    page_size: int | None = Query(None),
    page_token: str | None = Query(None),
    status: JobStatus | None = Query(None),
    job_ids: list[str] | None = Query(None),
    created_at_on_or_after: datetime | None = Query(None),
    created_at_on_or_before: datetime | None = Query(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> PaginatedList[ParseJob]:
    return services.parse.list(
        project_id,
        status=status,
        job_ids=split_csv(job_ids),
        created_after=created_at_on_or_after,
        created_before=created_at_on_or_before,
        page_size=page_size,
        page_token=page_token,
    )


@router.get("/versions")
def list_versions() -> dict[str, Any]:
    return versions()


# Expand values answered from the job row alone (no result file is read).
_ROW_ONLY_EXPANDS = frozenset({"raw_parameters"})


@router.get("/{job_id}", responses=ok(ParseResponse, 400, 404), **_TYPED)
async def get_parse_job(
    request: Request,
    job_id: str,
    expand: list[str] | None = Query(None),
    image_filenames: list[str] | None = Query(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> ParseResponse:
    """The status poll is the hot path: on SQLite (WAL, readers never wait) a poll that reads
    no result file is one primary-key query, answered on the event loop without a thread hop."""
    wanted = split_csv(expand)
    needs_urls = any(e.endswith("_content_metadata") for e in wanted)
    base_url = presign_base(request) if needs_urls else ""

    def respond() -> ParseResponse:
        return operations.get_parse_job(
            services,
            project_id,
            job_id,
            expand=wanted,
            image_filenames=image_filenames,
            base_url=base_url,
        )

    if services.db.engine.dialect.name == "sqlite" and _ROW_ONLY_EXPANDS.issuperset(wanted):
        return respond()
    return await run_in_threadpool(respond)


@router.post("/{job_id}/cancel", responses=ok(ParseJob, 400, 404), **_TYPED)
def cancel_parse_job(
    job_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> ParseJob:
    return services.parse.cancel(project_id, job_id)


@router.delete("/{job_id}", responses=ok(JobDeleted, 404), **_TYPED)
def delete_parse_job(
    job_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> JobDeleted:
    return services.parse.delete(project_id, job_id)
