"""The hot operations, one function each, shared by the routes and the embedded fast lane.

Upload a file, create a parse job and read a parse job are answered two ways: by the FastAPI
routes (:mod:`lamina.server.routes_files`, :mod:`lamina.server.routes_parse`) and, in embedded
mode, straight from the services by :class:`lamina.server.embedded.FastLane`. Both call these
functions, so the two answers cannot drift apart. Nothing here imports FastAPI: the fast lane
answers before the app is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from lamina.services.container import Services
    from lamina.types import File, ParseCreateRequest, ParseJob, ParseResponse


def upload_file(
    services: Services,
    project_id: str,
    *,
    filename: str | None,
    data: bytes | BinaryIO,
    purpose: str | None,
    external_file_id: str | None,
    content_type: str | None,
    base_url: str,
) -> File:
    """``POST /api/v1/beta/files``: store the upload; its File (with ``download_url``)."""
    row = services.files.create(
        project_id,
        name=filename or "upload",
        data=data,
        purpose=purpose,
        external_file_id=external_file_id,
        content_type=content_type,
    )
    return services.files.to_file(row, base_url=base_url)


def create_parse_job(services: Services, project_id: str, request: ParseCreateRequest) -> ParseJob:
    """``POST /api/v2/parse``: validate and queue the job; its ParseJob. The fields the caller
    set are kept as the job's raw parameters."""
    from lamina.services.api.parse import to_parse_job

    raw = request.model_dump(mode="json", exclude_unset=True)
    return to_parse_job(services.parse.create(project_id, request, raw))


def get_parse_job(
    services: Services,
    project_id: str,
    job_id: str,
    *,
    expand: Sequence[str] | None,
    image_filenames: Sequence[str] | None,
    base_url: str,
) -> ParseResponse:
    """``GET /api/v2/parse/{job_id}``: the ParseResponse. ``expand`` and
    ``image_filenames`` are the query values as given (repeated and/or comma-separated)."""
    from lamina.services.api.parse import split_csv

    return services.parse.get_response(
        project_id,
        job_id,
        expand=split_csv(expand),
        image_filenames=split_csv(image_filenames) or None,
        base_url=base_url,
    )
