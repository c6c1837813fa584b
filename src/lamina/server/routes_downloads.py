"""Presigned download routes. They take no bearer key: the signature is the credential."""

from __future__ import annotations

import mimetypes
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import FileResponse

from lamina.server.deps import services_dep
from lamina.server.links import FILE_DOWNLOAD, RESULT_DOWNLOAD
from lamina.server.openapi import errors
from lamina.services.container import Services

router = APIRouter(tags=["downloads"], responses=errors(403, 404, 422))


@router.get(FILE_DOWNLOAD)
def download_file(
    file_id: str,
    expires: str | None = Query(None),
    project: str | None = Query(None),
    signature: str | None = Query(None),
    services: Services = Depends(services_dep),
) -> Response:
    row, data = services.files.open_signed(
        file_id, expires=expires, project=project, signature=signature
    )
    return Response(
        data,
        media_type=row["content_type"] or "application/octet-stream",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(row['name'])}"},
    )


@router.get(RESULT_DOWNLOAD)
def download_result(
    job_id: str,
    name: str,
    expires: str | None = Query(None),
    project: str | None = Query(None),
    signature: str | None = Query(None),
    services: Services = Depends(services_dep),
) -> Response:
    path, filename = services.parse.open_signed_result(
        job_id, name, expires=expires, project=project, signature=signature
    )
    media_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if filename.endswith((".md", ".txt", ".json")):
        media_type += "; charset=utf-8"
    return FileResponse(path, media_type=media_type, filename=filename)
