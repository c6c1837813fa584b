"""Classic LlamaExtract routes (``/api/v1/extraction/...``) and the classic Files routes its
client uploads through (``/api/v1/files``). Thin: :mod:`lamina.services.api.classic_extract`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, File, Query, Response, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from lamina.server.deps import get_project, services_dep
from lamina.server.openapi import errors
from lamina.server.routes_classic import IGNORED_HEADER
from lamina.server.routes_files import upload_stream
from lamina.services.api.classic_extract import ClassicExtractService, file_to_classic
from lamina.services.container import Services
from lamina.types import SchemaValidationResponse

router = APIRouter(tags=["classic extract"], responses=errors(400, 401, 404, 422))
_AGENTS = "/api/v1/extraction/extraction-agents"


def _classic(services: Services) -> ClassicExtractService:
    return ClassicExtractService(services.db, services.extract, services.files)


def _with_ignored(body: Any, ignored: list[str]) -> JSONResponse:
    headers = {IGNORED_HEADER: ",".join(ignored)} if ignored else None
    return JSONResponse(body, headers=headers)


@router.post("/api/v1/files")
async def upload_file(
    upload_file: UploadFile = File(...),
    external_file_id: str | None = Query(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    """The classic file upload (multipart ``upload_file``) → the classic ``File`` shape."""
    row = await run_in_threadpool(
        lambda: services.files.create(
            project_id,
            name=upload_file.filename or "upload",
            data=upload_stream(upload_file),
            purpose="extract",
            external_file_id=external_file_id,
            content_type=upload_file.content_type,
        )
    )
    return file_to_classic(row)


@router.get("/api/v1/files/{file_id}")
def get_file(
    file_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return file_to_classic(services.files.get(project_id, file_id))


@router.post(_AGENTS + "/schema/validation")
def validate_schema(
    body: dict[str, Any] = Body(...),
    services: Services = Depends(services_dep),
) -> SchemaValidationResponse:
    return services.extract.validate_schema(body.get("data_schema"))


@router.post(_AGENTS)
def create_agent(
    body: dict[str, Any] = Body(...),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> JSONResponse:
    agent, ignored = _classic(services).create_agent(
        project_id, body.get("name"), body.get("data_schema"), body.get("config")
    )
    return _with_ignored(agent, ignored)


@router.get(_AGENTS)
def list_agents(
    include_default: bool | None = Query(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> list[dict[str, Any]]:
    return _classic(services).list_agents(project_id)


@router.get(_AGENTS + "/by-name/{name}")
def get_agent_by_name(
    name: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    classic = _classic(services)
    return classic.agent_to_wire(classic.agent_row(project_id, name=name))


@router.get(_AGENTS + "/{agent_id}")
def get_agent(
    agent_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    classic = _classic(services)
    return classic.agent_to_wire(classic.agent_row(project_id, agent_id))


@router.put(_AGENTS + "/{agent_id}")
def update_agent(
    agent_id: str,
    body: dict[str, Any] = Body(...),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> JSONResponse:
    agent, ignored = _classic(services).update_agent(
        project_id, agent_id, body.get("data_schema"), body.get("config")
    )
    return _with_ignored(agent, ignored)


@router.delete(_AGENTS + "/{agent_id}")
def delete_agent(
    agent_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    _classic(services).delete_agent(project_id, agent_id)
    return {}


@router.post("/api/v1/extraction/jobs")
def run_job(
    body: dict[str, Any] = Body(...),
    from_ui: bool | None = Query(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> JSONResponse:
    job, ignored = _classic(services).run_job(project_id, body)
    return _with_ignored(job, ignored)


@router.post("/api/v1/extraction/run")
def run_stateless(
    body: dict[str, Any] = Body(...),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> JSONResponse:
    job, ignored = _classic(services).run_stateless(project_id, body)
    return _with_ignored(job, ignored)


@router.get("/api/v1/extraction/jobs/{job_id}")
def get_job(
    job_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return _classic(services).get_job(project_id, job_id)


@router.get("/api/v1/extraction/runs/by-job/{job_id}")
def get_run_by_job(
    job_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return _classic(services).run_by_job(project_id, job_id)


@router.get("/api/v1/extraction/runs")
def list_runs(
    extraction_agent_id: str = Query(...),
    skip: int = Query(0),
    limit: int = Query(50),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return _classic(services).list_runs(project_id, extraction_agent_id, skip, limit)


@router.get("/api/v1/extraction/runs/{run_id}")
def get_run(
    run_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return _classic(services).run(project_id, run_id)


@router.delete("/api/v1/extraction/runs/{run_id}")
def delete_run(
    run_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> Response:
    _classic(services).delete_run(project_id, run_id)
    return JSONResponse({})
