"""Classic LlamaParse routes, under ``/api/parsing`` and ``/api/v1/parsing`` (both prefixes are
called by ``llama-cloud-services`` 0.6). Thin: translation and result shapes live in
:mod:`lamina.services.api.classic_options` and :mod:`lamina.services.api.classic`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from lamina.server.deps import get_project, services_dep
from lamina.server.openapi import errors, ok
from lamina.server.routes_files import upload_stream
from lamina.services.api.classic import ClassicParseService
from lamina.services.api.classic_options import ClassicOptionError, translate_upload
from lamina.services.container import Services
from lamina.types import ClassicParsingJob

PREFIXES = ("/api/parsing", "/api/v1/parsing")
IGNORED_HEADER = "X-Lamina-Ignored-Options"
MAX_FORM_FIELDS = 500

router = APIRouter(tags=["classic parse"], responses=errors(400, 401, 404, 422))


def _classic(services: Services) -> ClassicParseService:
    return ClassicParseService(services.parse, services.storage)


async def upload(
    request: Request,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> Response:
    """Multipart ``file`` (or an ``input_url`` field) plus the classic option fields."""
    form = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS)
    try:
        file = form.get("file")
        fields = {k: v for k, v in form.multi_items() if not isinstance(v, UploadFile)}
        translated = translate_upload(fields)
        classic = _classic(services)
        parse_request = classic.request_of(translated)  # refuses before the upload is stored
        has_url = bool(translated.body.get("source_url"))
        if isinstance(file, UploadFile) == has_url:
            raise ClassicOptionError(
                "Send exactly one input: a multipart file field or an input_url"
            )
        row = None
        if isinstance(file, UploadFile):
            upload = file
            row = await run_in_threadpool(  # streamed from the spooled part, never held whole
                lambda: services.files.create(
                    project_id,
                    name=upload.filename or "upload",
                    data=upload_stream(upload),
                    purpose="parse",
                    content_type=upload.content_type,
                )
            )
    finally:
        await form.close()

    def create_job() -> dict[str, Any]:
        job = classic.create(project_id, translated, parse_request, row)
        return classic.status(project_id, job["id"])

    body = await run_in_threadpool(create_job)
    headers = {IGNORED_HEADER: ",".join(translated.ignored)} if translated.ignored else None
    return JSONResponse(body, headers=headers)


def job_status(
    job_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return _classic(services).status(project_id, job_id)


def result_markdown(
    job_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return _classic(services).markdown(project_id, job_id)


def result_text(
    job_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return _classic(services).text(project_id, job_id)


def result_json(
    job_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return _classic(services).json(project_id, job_id)


def raw_markdown(
    job_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> PlainTextResponse:
    return PlainTextResponse(_classic(services).raw_markdown(project_id, job_id))


def raw_text(
    job_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> PlainTextResponse:
    return PlainTextResponse(_classic(services).raw_text(project_id, job_id))


def result_image(
    job_id: str,
    name: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> Response:
    image = _classic(services).image(project_id, job_id, name)
    return Response(image.data, media_type=image.media_type)


def not_produced(
    job_id: str,
    kind: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    """XLSX, PDF and structured results: Lamina does not produce them (400, saying so)."""
    _classic(services).status(project_id, job_id)  # 404 for an unknown job first
    raise ClassicOptionError(
        f"Lamina does not produce the {kind} result of the classic API; use markdown, text, "
        "json or the images"
    )


for _prefix in PREFIXES:
    router.add_api_route(
        f"{_prefix}/upload", upload, methods=["POST"], responses=ok(ClassicParsingJob, 413)
    )
    router.add_api_route(
        f"{_prefix}/job/{{job_id}}", job_status, methods=["GET"], responses=ok(ClassicParsingJob)
    )
    router.add_api_route(
        f"{_prefix}/job/{{job_id}}/result/markdown", result_markdown, methods=["GET"]
    )
    router.add_api_route(f"{_prefix}/job/{{job_id}}/result/text", result_text, methods=["GET"])
    router.add_api_route(f"{_prefix}/job/{{job_id}}/result/json", result_json, methods=["GET"])
    router.add_api_route(
        f"{_prefix}/job/{{job_id}}/result/raw/markdown", raw_markdown, methods=["GET"]
    )
    router.add_api_route(f"{_prefix}/job/{{job_id}}/result/raw/text", raw_text, methods=["GET"])
    router.add_api_route(
        f"{_prefix}/job/{{job_id}}/result/image/{{name}}", result_image, methods=["GET"]
    )
    router.add_api_route(
        f"{_prefix}/job/{{job_id}}/result/raw/{{kind}}", not_produced, methods=["GET"]
    )
    router.add_api_route(f"{_prefix}/job/{{job_id}}/result/{{kind}}", not_produced, methods=["GET"])
