"""Directories routes (``/api/v1/beta/directories``): thin wrappers over DirectoryService."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from lamina.server.deps import get_project, get_services
from lamina.server.openapi import errors, ok
from lamina.server.routes_files import upload_stream
from lamina.services.api.directories import DirectoryService
from lamina.services.api.parse import split_csv
from lamina.services.batch.system import BatchSystem
from lamina.services.store.db import MAX_TOKEN_LENGTH
from lamina.types import (
    Directory,
    DirectoryCreateRequest,
    DirectoryFile,
    DirectoryFileAddRequest,
    DirectoryFileUpdateRequest,
    DirectoryUpdateRequest,
    PaginatedList,
)

router = APIRouter(
    prefix="/api/v1/beta/directories", tags=["directories"], responses=errors(401, 422)
)
_DELETED = {204: {"description": "Deleted"}, **errors(404)}
# The response model is the return annotation; only the fields the service set are written
# (a DirectoryFile has no download_url here), so the JSON is the same as before it was typed.
_TYPED: dict[str, Any] = {"response_model_exclude_unset": True}


def get_batch(request: Request) -> BatchSystem:
    """The batch services of the app."""
    batch = get_services(request).batch
    assert batch is not None, "the batch services are not wired"
    return batch


def _directories(batch: BatchSystem = Depends(get_batch)) -> DirectoryService:
    return batch.directories


@router.post("", responses=ok(Directory, 400), **_TYPED)
def create_directory(
    body: DirectoryCreateRequest,
    project_id: str = Depends(get_project),
    directories: DirectoryService = Depends(_directories),
) -> Directory:
    return directories.create(
        project_id,
        name=body.name,
        description=body.description,
        type=body.type,
        connector_subscription_id=body.connector_subscription_id,
        system_metadata=body.system_metadata,
    )


@router.get("", responses=ok(PaginatedList[Directory]), **_TYPED)
def list_directories(
    name: str | None = Query(None),
    type: str | None = Query(None),
    types: list[str] | None = Query(None),
    include_deleted: bool = Query(False),
    page_size: int | None = Query(None, ge=1, le=1000),
    page_token: str | None = Query(None, max_length=MAX_TOKEN_LENGTH),
    project_id: str = Depends(get_project),
    directories: DirectoryService = Depends(_directories),
) -> PaginatedList[Directory]:
    wanted = split_csv(types) + ([type] if type else [])
    return directories.list(
        project_id,
        name=name,
        types=wanted or None,
        include_deleted=include_deleted,
        page_size=page_size,
        page_token=page_token,
    )


@router.get("/{directory_id}", responses=ok(Directory, 404), **_TYPED)
def get_directory(
    directory_id: str,
    project_id: str = Depends(get_project),
    directories: DirectoryService = Depends(_directories),
) -> Directory:
    return directories.get(project_id, directory_id)


@router.patch("/{directory_id}", responses=ok(Directory, 400, 404), **_TYPED)
def update_directory(
    directory_id: str,
    body: DirectoryUpdateRequest,
    project_id: str = Depends(get_project),
    directories: DirectoryService = Depends(_directories),
) -> Directory:
    return directories.update(
        project_id, directory_id, name=body.name, description=body.description
    )


@router.delete("/{directory_id}", status_code=204, responses=_DELETED)
def delete_directory(
    directory_id: str,
    project_id: str = Depends(get_project),
    directories: DirectoryService = Depends(_directories),
) -> Response:
    directories.delete(project_id, directory_id)
    return Response(status_code=204)


@router.post("/{directory_id}/files", responses=ok(DirectoryFile, 400, 404), **_TYPED)
def add_directory_file(
    directory_id: str,
    body: DirectoryFileAddRequest,
    project_id: str = Depends(get_project),
    directories: DirectoryService = Depends(_directories),
) -> DirectoryFile:
    return directories.add_file(
        project_id,
        directory_id,
        file_id=body.file_id,
        display_name=body.display_name,
        unique_id=body.unique_id,
        metadata=body.metadata,
    )


@router.post("/{directory_id}/files/upload", responses=ok(DirectoryFile, 400, 404, 413), **_TYPED)
async def upload_directory_file(
    directory_id: str,
    upload_file: UploadFile = File(...),
    display_name: str | None = Form(None),
    external_file_id: str | None = Form(None),
    metadata: str | None = Form(None),
    unique_id: str | None = Form(None),
    project_id: str = Depends(get_project),
    directories: DirectoryService = Depends(_directories),
) -> DirectoryFile:
    """Multipart ``upload_file`` (as the SDK sends it), stored and added in one call."""
    return await run_in_threadpool(
        lambda: directories.upload_file(
            project_id,
            directory_id,
            name=upload_file.filename or "upload",
            data=upload_stream(upload_file),
            content_type=upload_file.content_type,
            display_name=display_name,
            external_file_id=external_file_id,
            unique_id=unique_id,
            metadata=metadata,
        )
    )


@router.get("/{directory_id}/files", responses=ok(PaginatedList[DirectoryFile], 404), **_TYPED)
def list_directory_files(
    directory_id: str,
    display_name: str | None = Query(None),
    display_name_contains: str | None = Query(None),
    file_id: str | None = Query(None),
    unique_id: str | None = Query(None),
    include_deleted: bool = Query(False),
    page_size: int | None = Query(None, ge=1, le=1000),
    page_token: str | None = Query(None, max_length=MAX_TOKEN_LENGTH),
    project_id: str = Depends(get_project),
    directories: DirectoryService = Depends(_directories),
) -> PaginatedList[DirectoryFile]:
    return directories.list_files(
        project_id,
        directory_id,
        display_name=display_name,
        display_name_contains=display_name_contains,
        file_id=file_id,
        unique_id=unique_id,
        include_deleted=include_deleted,
        page_size=page_size,
        page_token=page_token,
    )


@router.get("/{directory_id}/files/{directory_file_id}", responses=ok(DirectoryFile, 404), **_TYPED)
def get_directory_file(
    directory_id: str,
    directory_file_id: str,
    project_id: str = Depends(get_project),
    directories: DirectoryService = Depends(_directories),
) -> DirectoryFile:
    return directories.get_file(project_id, directory_id, directory_file_id)


@router.patch(
    "/{directory_id}/files/{directory_file_id}", responses=ok(DirectoryFile, 400, 404), **_TYPED
)
def update_directory_file(
    directory_id: str,
    directory_file_id: str,
    body: DirectoryFileUpdateRequest,
    project_id: str = Depends(get_project),
    directories: DirectoryService = Depends(_directories),
) -> DirectoryFile:
    return directories.update_file(
        project_id,
        directory_id,
        directory_file_id,
        display_name=body.display_name,
        unique_id=body.unique_id,
        metadata=body.metadata,
        target_directory_id=body.target_directory_id,
    )


@router.delete("/{directory_id}/files/{directory_file_id}", status_code=204, responses=_DELETED)
def delete_directory_file(
    directory_id: str,
    directory_file_id: str,
    project_id: str = Depends(get_project),
    directories: DirectoryService = Depends(_directories),
) -> Response:
    directories.delete_file(project_id, directory_id, directory_file_id)
    return Response(status_code=204)
