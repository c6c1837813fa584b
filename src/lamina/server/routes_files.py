"""Files API routes (``/api/v1/beta/files``): thin wrappers over :class:`FileService`."""

from __future__ import annotations

from typing import Any, BinaryIO

from fastapi import APIRouter, Body, Depends, File, Form, Query, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUploadFile

from lamina.server import operations
from lamina.server.deps import get_base_url, get_project, presign_base, services_dep
from lamina.server.openapi import errors, ok
from lamina.services.api.parse import split_csv
from lamina.services.container import Services
from lamina.services.errors import ValidationFailed
from lamina.types import File as FileModel
from lamina.types import PaginatedList, PresignedURL

router = APIRouter(prefix="/api/v1/beta/files", tags=["files"], responses=errors(401, 422))
# The response model is the return annotation; only the fields the service set are written
# (``download_url`` when asked for), so the JSON is the same as before it was typed.
_TYPED: dict[str, Any] = {"response_model_exclude_unset": True}


def upload_stream(upload: StarletteUploadFile) -> BinaryIO:
    """The upload as a file to copy from, at its start.

    Starlette spools a multipart file part to a temporary file as it arrives (in memory only up
    to 1 MB), and :meth:`FileService.create` copies it to storage in chunks: an upload is never
    held in memory whole.
    """
    upload.file.seek(0)
    return upload.file


@router.post("", responses=ok(FileModel, 400, 413), **_TYPED)
async def create_file(
    file: UploadFile = File(..., description="The file to upload"),
    purpose: str | None = Form(None),
    external_file_id: str | None = Form(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
    base_url: str = Depends(get_base_url),
) -> FileModel:
    return await run_in_threadpool(
        lambda: operations.upload_file(
            services,
            project_id,
            filename=file.filename,
            data=upload_stream(file),
            purpose=purpose,
            external_file_id=external_file_id,
            content_type=file.content_type,
            base_url=base_url,
        )
    )


@router.get("", responses=ok(PaginatedList[FileModel], 400), **_TYPED)
def list_files(
    request: Request,
    page_size: int | None = Query(None),
    page_token: str | None = Query(None),
    file_name: str | None = Query(None),
    external_file_id: str | None = Query(None),
    file_ids: list[str] | None = Query(None),
    order_by: str | None = Query(None),
    expand: list[str] | None = Query(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> PaginatedList[FileModel]:
    return services.files.list(
        project_id,
        file_name=file_name,
        external_file_id=external_file_id,
        file_ids=split_csv(file_ids),
        order_by=order_by,
        page_size=page_size,
        page_token=page_token,
        base_url=presign_base(request) if "download_url" in split_csv(expand) else None,
    )


@router.post("/query", responses=ok(PaginatedList[FileModel], 400), **_TYPED)
def query_files(
    body: dict[str, Any] | None = Body(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> PaginatedList[FileModel]:
    """The SDK's deprecated ``files.query``: the list filters in a JSON body (``filter``
    ``{file_name, external_file_id, file_ids, data_source_id, only_manually_uploaded}``,
    ``order_by``, ``page_size``, ``page_token``). Every file here was uploaded by hand, so a
    ``data_source_id`` matches none."""
    body = body or {}
    filters = body.get("filter") or {}
    if not isinstance(filters, dict):
        raise ValidationFailed.single(["filter"], "filter must be an object", input=filters)
    if filters.get("data_source_id"):
        return PaginatedList[FileModel](items=[], next_page_token=None, total_size=0)
    return services.files.list(
        project_id,
        file_name=filters.get("file_name"),
        external_file_id=filters.get("external_file_id"),
        file_ids=filters.get("file_ids") or None,
        order_by=body.get("order_by"),
        page_size=body.get("page_size"),
        page_token=body.get("page_token"),
    )


@router.get("/{file_id}", responses=ok(FileModel, 404), **_TYPED)
def get_file(
    file_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> FileModel:
    return services.files.to_file(services.files.get(project_id, file_id))


@router.delete("/{file_id}", status_code=204, responses=errors(404))
def delete_file(
    file_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> Response:
    services.files.delete(project_id, file_id)
    return Response(status_code=204)


@router.get("/{file_id}/content", responses=ok(PresignedURL, 400, 404), **_TYPED)
def file_content(
    file_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
    base_url: str = Depends(get_base_url),
) -> PresignedURL:
    """A PresignedURL (``{url, expires_at}``) for downloading the file's content."""
    return services.files.presigned_url(services.files.get(project_id, file_id), base_url)
