"""Parse v2 routes (``/api/v2/parse``): thin wrappers over :class:`ParseService`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from lamina.server.deps import get_project, presign_base, services_dep
from lamina.server.openapi import errors, ok
from lamina.server.routes_files import upload_stream
from lamina.services.api.parse import job_to_wire, parse_upload_configuration, split_csv, versions
from lamina.services.container import Services
from lamina.types import JobStatus, PaginatedList, ParseCreateRequest, ParseJob, ParseResponse

router = APIRouter(prefix="/api/v2/parse", tags=["parse"], responses=errors(401, 422))


@router.post("", response_model=None, responses=ok(ParseJob, 400, 404, 413))
def create_parse_job(
    body: ParseCreateRequest,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    raw = body.model_dump(mode="json", exclude_unset=True)
    return job_to_wire(services.parse.create(project_id, body, raw))


@router.post("/upload", response_model=None, responses=ok(ParseJob, 400, 404, 413))
async def upload_and_parse(
    file: UploadFile = File(...),
    configuration: str | None = Form(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    """Multipart ``file`` plus a ``configuration`` form field holding the create body as JSON."""
    request, raw = parse_upload_configuration(configuration)
    services.parse.validate_options(request, raw)  # fail fast, before storing the upload

    def store_and_create() -> dict[str, Any]:
        row = services.files.create(
            project_id,
            name=file.filename or "upload",
            data=upload_stream(file),
            purpose="parse",
            content_type=file.content_type,
        )
        return job_to_wire(services.parse.create(project_id, request, raw, uploaded_file=row))

    return await run_in_threadpool(store_and_create)


@router.get("", response_model=None, responses=ok(PaginatedList[ParseJob]))
def list_parse_jobs(
    page_size: int | None = Query(None),
    page_token: str | None = Query(None),
    status: JobStatus | None = Query(None),
    job_ids: list[str] | None = Query(None),
    created_at_on_or_after: datetime | None = Query(None),
    created_at_on_or_before: datetime | None = Query(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    items, token, total = services.parse.list(
        project_id,
        status=status,
        job_ids=split_csv(job_ids),
        created_after=created_at_on_or_after,
        created_before=created_at_on_or_before,
        page_size=page_size,
        page_token=page_token,
    )
    return {"items": items, "next_page_token": token, "total_size": total}


@router.get("/versions")
def list_versions() -> dict[str, Any]:
    return versions()


# Expand values answered from the job row alone (no result file is read).
_ROW_ONLY_EXPANDS = frozenset({"raw_parameters"})


@router.get("/{job_id}", response_model=None, responses=ok(ParseResponse, 400, 404))
async def get_parse_job(
    request: Request,
    job_id: str,
    expand: list[str] | None = Query(None),
    image_filenames: list[str] | None = Query(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    """The status poll is the hot path: on SQLite (WAL, readers never wait) a poll that reads
    no result file is one primary-key query, answered on the event loop without a thread hop."""
    wanted = split_csv(expand)
    needs_urls = any(e.endswith("_content_metadata") for e in wanted)
    base_url = presign_base(request) if needs_urls else ""

    def respond() -> dict[str, Any]:
        return services.parse.get_response(
            project_id,
            job_id,
            expand=wanted,
            image_filenames=split_csv(image_filenames) or None,
            base_url=base_url,
        )

    if services.db.engine.dialect.name == "sqlite" and _ROW_ONLY_EXPANDS.issuperset(wanted):
        return respond()
    return await run_in_threadpool(respond)


@router.post("/{job_id}/cancel", response_model=None, responses=ok(ParseJob, 400, 404))
def cancel_parse_job(
    job_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return services.parse.cancel(project_id, job_id)


@router.delete("/{job_id}", responses=errors(404))
def delete_parse_job(
    job_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return services.parse.delete(project_id, job_id)
