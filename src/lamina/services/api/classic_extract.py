"""The classic LlamaExtract API (``llama-cloud-services`` 0.6 ``LlamaExtract``) over Extract v2.

A translation layer like the classic parse one: an extraction *agent* is a named schema plus
a classic ``ExtractConfig`` (table ``extraction_agents``); a classic job is an ordinary Extract
v2 job (``exj-…``, same queue, same extractor) whose ``raw_parameters`` name the agent, and
its *run* (``ExtractRun``, id ``exr-…`` of the job) is built from the job and its result.
The classic Files routes the client uploads through (``/api/v1/files``) store ordinary files.

Classic ``ExtractConfig`` → Extract v2: ``extraction_mode`` FAST/BALANCED → tier
``cost_effective`` (the local extractor), MULTIMODAL/PREMIUM → ``agentic`` (needs
``LAMINA_MODEL_URL``, else 422 naming the mode); ``extraction_target`` PER_DOC/PER_PAGE/
PER_TABLE_ROW; ``cite_sources``, ``confidence_scores``, ``system_prompt`` (model tiers),
``page_range`` → ``target_pages``. The other fields tune LlamaCloud's own pipeline
(``chunk_mode``, ``high_resolution_mode``, ``use_reasoning``, models, priority...): ignored and
named back in ``X-Lamina-Ignored-Options``.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lamina.services.api.configurations import jobs_of_configuration, link_configuration
from lamina.services.api.extract import ExtractService
from lamina.services.api.files import FileService
from lamina.services.errors import NotFoundError, ValidationFailed
from lamina.services.store.db import Database, Row, aware, new_id, utcnow
from lamina.services.store.records import ProjectRecords
from lamina.services.store.tables import agents_table
from lamina.types import ExtractCreateRequest

AGENT_ID_PREFIX = "eag"
RUN_PREFIX = "exr-"
JOB_PREFIX = "exj-"
STATELESS_AGENT = "stateless"
_MODES = {"FAST": "cost_effective", "BALANCED": "cost_effective", "MULTIMODAL": "agentic"}
_MODES["PREMIUM"] = "agentic"
_TARGETS = {"PER_DOC": "per_doc", "PER_PAGE": "per_page", "PER_TABLE_ROW": "per_table_row"}
_HONOURED = frozenset(
    {
        "extraction_mode",
        "extraction_target",
        "cite_sources",
        "confidence_scores",
        "system_prompt",
        "page_range",
    }
)
_STATUS = {
    "PENDING": "PENDING",
    "RUNNING": "PENDING",
    "COMPLETED": "SUCCESS",
    "FAILED": "ERROR",
    "CANCELLED": "CANCELLED",
}
_RUN_STATE = {"PENDING": "PENDING", "RUNNING": "PENDING", "COMPLETED": "SUCCESS"}


def _iso(value: datetime | None) -> str | None:
    stamp = aware(value)
    return stamp.isoformat() if stamp else None


def v2_configuration(
    data_schema: Any, config: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """A classic schema + ``ExtractConfig`` → (Extract v2 configuration, ignored options)."""
    out: dict[str, Any] = {"data_schema": data_schema}
    mode = config.get("extraction_mode")
    if mode is not None:
        if mode not in _MODES:
            raise ValidationFailed.single(
                ["config", "extraction_mode"],
                f"extraction_mode must be one of: {', '.join(_MODES)}",
                input=mode,
            )
        out["tier"] = _MODES[mode]
    target = config.get("extraction_target")
    if target is not None:
        if target not in _TARGETS:
            raise ValidationFailed.single(
                ["config", "extraction_target"],
                f"extraction_target must be one of: {', '.join(_TARGETS)}",
                input=target,
            )
        out["extraction_target"] = _TARGETS[target]
    for name in ("cite_sources", "confidence_scores", "system_prompt"):
        if config.get(name) is not None:
            out[name] = config[name]
    if config.get("page_range"):
        out["target_pages"] = str(config["page_range"])
    ignored = sorted(
        name
        for name, value in config.items()
        if name not in _HONOURED and value not in (None, False)
    )
    return out, ignored


def file_to_classic(row: Row) -> dict[str, Any]:
    """An uploaded file in the classic ``File`` shape."""
    return {
        "id": row["id"],
        "name": row["name"],
        "project_id": row["project_id"],
        "file_size": row["size_bytes"],
        "file_type": row["file_type"],
        "external_file_id": row["external_file_id"],
        "purpose": row["purpose"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
        "last_modified_at": _iso(row["updated_at"]),
        "expires_at": _iso(row.get("expires_at")),
        "data_source_id": None,
        "resource_info": None,
        "permission_info": None,
    }


class ClassicExtractService:
    """Agents, jobs, runs and stateless runs of the classic API."""

    def __init__(self, db: Database, extract: ExtractService, files: FileService) -> None:
        self.db = db
        self.agents = ProjectRecords(db, agents_table)
        self.extract = extract
        self.files = files

    # agents -------------------------------------------------------------------------------------

    def _check(self, data_schema: Any, config: Mapping[str, Any]) -> list[str]:
        """Validate an agent's schema and config as an Extract v2 job would; returns the
        ignored options."""
        v2, ignored = v2_configuration(data_schema, config)
        self.extract.check_configuration(v2)
        return ignored

    def create_agent(
        self, project_id: str, name: Any, data_schema: Any, config: Any
    ) -> tuple[dict[str, Any], list[str]]:
        if not isinstance(name, str) or not name.strip():
            raise ValidationFailed.single(["name"], "name is required", input=name)
        config = dict(config or {})
        ignored = self._check(data_schema, config)
        now = utcnow()
        row = {
            "id": new_id(AGENT_ID_PREFIX),
            "project_id": project_id,
            "name": name,
            "data_schema": data_schema,
            "config": config,
            "created_at": now,
            "updated_at": now,
        }
        try:
            self.agents.insert(row)
        except sa.exc.IntegrityError as exc:
            raise ValidationFailed.single(
                ["name"], f"An extraction agent named {name!r} already exists", input=name
            ) from exc
        return self.agent_to_wire(row), ignored

    def agent_row(
        self, project_id: str, agent_id: str | None = None, *, name: str | None = None
    ) -> Row:
        if agent_id is not None:
            found = self.agents.get(project_id, agent_id)
        else:
            found = self.agents.find(project_id, name=name)
        if found is None:
            raise NotFoundError(f"Extraction agent not found: {agent_id or name}")
        return found

    def agent_to_wire(self, row: Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "name": row["name"],
            "project_id": row["project_id"],
            "data_schema": row["data_schema"],
            "config": row["config"],
            "custom_configuration": None,
            "created_at": _iso(row["created_at"]),
            "updated_at": _iso(row["updated_at"]),
        }

    def list_agents(self, project_id: str) -> list[dict[str, Any]]:
        return [self.agent_to_wire(row) for row in self.agents.all(project_id)]

    def update_agent(
        self, project_id: str, agent_id: str, data_schema: Any, config: Any
    ) -> tuple[dict[str, Any], list[str]]:
        row = self.agent_row(project_id, agent_id)
        schema = row["data_schema"] if data_schema is None else data_schema
        new_config = dict(row["config"] if config is None else config)
        ignored = self._check(schema, new_config)
        values = {"data_schema": schema, "config": new_config, "updated_at": utcnow()}
        self.agents.update(project_id, agent_id, values)
        return self.agent_to_wire({**row, **values}), ignored

    def delete_agent(self, project_id: str, agent_id: str) -> None:
        self.agent_row(project_id, agent_id)
        self.agents.delete(project_id, agent_id)

    # jobs and runs ------------------------------------------------------------------------------

    def run_job(self, project_id: str, body: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """``POST /api/v1/extraction/jobs``: an Extract v2 job with the agent's schema and
        config (``data_schema_override`` / ``config_override`` win)."""
        agent_id = body.get("extraction_agent_id")
        file_id = body.get("file_id")
        if not isinstance(agent_id, str) or not isinstance(file_id, str):
            raise ValidationFailed.single(
                [], "extraction_agent_id and file_id are required", input=None, type="missing"
            )
        agent = self.agent_row(project_id, agent_id)
        schema = body.get("data_schema_override") or agent["data_schema"]
        config = dict(body.get("config_override") or agent["config"])
        job, ignored = self._create(project_id, file_id, schema, config, agent)
        return self.job_to_wire(job), ignored

    def run_stateless(
        self, project_id: str, body: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[str]]:
        """``POST /api/v1/extraction/run``: schema + config + one of ``file_id``, ``text`` or
        ``file`` (base64 ``data`` and ``mime_type``); the content is stored as a file first."""
        sources = [k for k in ("file_id", "text", "file") if body.get(k)]
        if len(sources) != 1:
            raise ValidationFailed.single(
                [], "Give exactly one of file_id, text or file", input=sources, type="missing"
            )
        if sources[0] == "file_id":
            file_id = str(body["file_id"])
        else:
            data, name, content_type = self._content(body)
            file_id = self.files.create(
                project_id, name=name, data=data, purpose="extract", content_type=content_type
            )["id"]
        config = dict(body.get("config") or {})
        job, ignored = self._create(project_id, file_id, body.get("data_schema"), config, None)
        return self.job_to_wire(job), ignored

    @staticmethod
    def _content(body: Mapping[str, Any]) -> tuple[bytes, str, str]:
        if body.get("text"):
            return str(body["text"]).encode("utf-8"), "text.txt", "text/plain"
        payload = body["file"]
        if not isinstance(payload, Mapping) or not isinstance(payload.get("data"), str):
            raise ValidationFailed.single(
                ["file"], "file must be {data: base64, mime_type}", input=None
            )
        try:
            data = base64.b64decode(payload["data"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationFailed.single(
                ["file", "data"], "data is not valid base64", input=None
            ) from exc
        mime = str(payload.get("mime_type") or "application/octet-stream")
        extension = mimetypes.guess_extension(mime) or ""
        return data, f"upload{extension}", mime

    def _create(
        self,
        project_id: str,
        file_id: str,
        data_schema: Any,
        config: dict[str, Any],
        agent: Row | None,
    ) -> tuple[Row, list[str]]:
        v2, ignored = v2_configuration(data_schema, config)
        request = ExtractCreateRequest.model_validate({"file_input": file_id, "configuration": v2})
        raw = {
            "file_input": file_id,
            "configuration": v2,
            "classic": True,
            "classic_agent_id": agent["id"] if agent else None,
            "classic_config": config,
            "classic_data_schema": data_schema,
        }
        job = self.extract.create(project_id, request, raw)
        if agent is not None:
            link_configuration(self.db, {**job, "kind": "classic_extract"}, agent["id"])
        return job, ignored

    def _job(self, project_id: str, job_id: str) -> Row:
        row = self.extract.get_row(project_id, job_id)
        if not (row["raw_parameters"] or {}).get("classic"):
            raise NotFoundError(f"Extraction job not found: {job_id}")
        return row

    def _agent_of(self, row: Row) -> dict[str, Any]:
        raw = row["raw_parameters"] or {}
        agent_id = raw.get("classic_agent_id")
        if agent_id:
            try:
                return self.agent_to_wire(self.agent_row(row["project_id"], agent_id))
            except NotFoundError:
                pass  # the agent was deleted since; describe it from the job
        return {
            "id": agent_id or STATELESS_AGENT,
            "name": STATELESS_AGENT if not agent_id else str(agent_id),
            "project_id": row["project_id"],
            "data_schema": raw.get("classic_data_schema") or {},
            "config": raw.get("classic_config") or {},
            "custom_configuration": None,
            "created_at": _iso(row["created_at"]),
            "updated_at": _iso(row["created_at"]),
        }

    def _file(self, row: Row) -> dict[str, Any] | None:
        file_row = self.db.get_file(row["file_id"]) if row["file_id"] else None
        return file_to_classic(file_row) if file_row else None

    def job_to_wire(self, row: Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "status": _STATUS.get(row["status"], "ERROR"),
            "error": row["error_message"],
            "extraction_agent": self._agent_of(row),
            "file_id": row["file_id"],
            "file": self._file(row),
        }

    def get_job(self, project_id: str, job_id: str) -> dict[str, Any]:
        return self.job_to_wire(self._job(project_id, job_id))

    def run_to_wire(self, row: Row) -> dict[str, Any]:
        raw = row["raw_parameters"] or {}
        job = self.extract.to_job(row, {"extract_metadata"})
        metadata = job.model_dump(mode="json", exclude_unset=True).get("extract_metadata")
        return {
            "id": RUN_PREFIX + row["id"].removeprefix(JOB_PREFIX),
            "job_id": row["id"],
            "extraction_agent_id": raw.get("classic_agent_id") or STATELESS_AGENT,
            "project_id": row["project_id"],
            "config": raw.get("classic_config") or {},
            "data_schema": raw.get("classic_data_schema") or {},
            "status": _RUN_STATE.get(row["status"], "ERROR"),
            "error": row["error_message"],
            "data": job.extract_result,
            "extraction_metadata": {**metadata} if metadata else None,
            "file_id": row["file_id"],
            "file": self._file(row),
            "from_ui": False,
            "created_at": _iso(row["created_at"]),
            "updated_at": _iso(row["updated_at"]),
        }

    def run_by_job(self, project_id: str, job_id: str) -> dict[str, Any]:
        return self.run_to_wire(self._job(project_id, job_id))

    def run(self, project_id: str, run_id: str) -> dict[str, Any]:
        return self.run_to_wire(self._job(project_id, JOB_PREFIX + run_id.removeprefix(RUN_PREFIX)))

    def delete_run(self, project_id: str, run_id: str) -> None:
        row = self._job(project_id, JOB_PREFIX + run_id.removeprefix(RUN_PREFIX))
        self.extract.delete(project_id, row["id"], force=True)

    def list_runs(self, project_id: str, agent_id: str, skip: int, limit: int) -> dict[str, Any]:
        self.agent_row(project_id, agent_id)
        if skip < 0 or not 1 <= limit <= 1000:
            raise ValidationFailed.single(
                [],
                "skip must be >= 0 and limit 1..1000",
                origin="parameter",
                input={"skip": skip, "limit": limit},
            )
        ids = sorted(jobs_of_configuration(self.db, project_id, "classic_extract", agent_id))
        rows = [r for r in (self.db.get_job(i, project_id, kind="extract") for i in ids) if r]
        rows.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)
        page = rows[skip : skip + limit]
        return {
            "items": [self.run_to_wire(r) for r in page],
            "skip": skip,
            "limit": limit,
            "total": len(rows),
        }
