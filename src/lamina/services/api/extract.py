"""Extract v2 jobs: create, get with ``expand``, list, cancel, delete, schema checks — and
running one claimed extract job (:func:`run_extract_job`, called by the worker loop).

Extract jobs live in the jobs table with ``kind = "extract"`` and go through the same queue,
leases, cancellation and crash recovery as parse jobs. A job's input is a file (``dfl-``: the
worker parses it first, with ``parse_tier``) or a completed parse job (``pjb-``: its stored
``items.json`` is reused, nothing is parsed again). The result is one file,
``results/<exj-id>/extract.json``, written atomically like parse results.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from lamina.extract import SchemaError, check_schema, extract_local
from lamina.extract._document import Document
from lamina.extract.llm import ChatClient, ModelError, extract_llm
from lamina.services.errors import InvalidRequestError, NotFoundError, ValidationFailed
from lamina.services.request_limits import RequestLimits, check_json_size, check_queue
from lamina.services.runtime.execution import (
    ExecutionLimits,
    JobFailure,
    Outcome,
    items_pages,
    load_input,
)
from lamina.services.store.db import Database, Row, aware, new_id, utcnow
from lamina.services.store.storage import RESULT_FILES, Storage, dump_json, write_atomic
from lamina.types import (
    EXTRACT_EXPAND_VALUES,
    EXTRACT_TIERS,
    EXTRACTION_TARGETS,
    TIERS,
    ExtractConfiguration,
    ExtractCreateRequest,
    ExtractJobLevelMetadata,
    ExtractJobMetadata,
    ExtractJobUsage,
    ExtractUsage,
    ExtractV2Job,
    GeneratedConfiguration,
    JobDeleted,
    OutputOptions,
    PageRanges,
    PaginatedList,
    ParseConfiguration,
    SchemaValidationResponse,
)

if TYPE_CHECKING:
    from lamina.services.api.configurations import ConfigurationService
    from lamina.services.api.job_webhooks import WatchJob

JOB_ID_PREFIX = "exj"
KIND = "extract"
EXTRACT_FILE = "extract.json"
MODEL_TIERS = ("agentic", "agentic_plus", "turbo")
PARSE_MODEL_TIERS = ("agentic", "agentic_plus")
DEFAULT_TIER = "cost_effective"
DEFAULT_PARSE_TIER = "cost_effective"
_VERSION_RE = re.compile(r"^(latest|\d{4}-\d{2}-\d{2}|\d+(\.\d+)*)$")
_CONFIDENCE_KEYS = ("confidence", "extraction_confidence", "parsing_confidence")

NO_MODEL_HINT = (
    "Start the server with LAMINA_MODEL_URL set to an OpenAI-compatible base URL (and "
    "LAMINA_MODEL_NAME / LAMINA_MODEL_API_KEY as needed), or use tier cost_effective."
)


class ExtractService:
    """Extract jobs of each project."""

    def __init__(
        self,
        db: Database,
        storage: Storage,
        *,
        model_url: str | None,
        chat: ChatClient | None,
        limits: RequestLimits,
        configurations: ConfigurationService,
        notify: Callable[[], None],
        watch: WatchJob,
    ) -> None:
        """``chat``: the model endpoint when one is configured (schema generation);
        ``configurations``: saved configurations and webhooks; ``notify``: wakes the job runner
        after a create; ``watch``: registers a new job's webhooks."""
        self.db = db
        self.storage = storage
        self.model_url = model_url
        self.chat = chat
        self.limits = limits
        self.notify = notify
        self.configurations = configurations
        self.watch = watch

    # create -----------------------------------------------------------------------------------

    def check_configuration(self, config: Mapping[str, Any]) -> None:
        """A configuration given as JSON (an extract_v2 batch's), checked as create does."""
        try:
            parsed = ExtractConfiguration.model_validate(config)
        except ValidationError as exc:
            from lamina.services.errors import validation_errors

            raise ValidationFailed(validation_errors(exc, ["configuration"])) from exc
        self.validate_configuration(parsed)

    def validate_configuration(self, config: ExtractConfiguration) -> None:
        """Checks beyond the model: schema, tier, target, version, pages, model endpoint."""
        base = ("configuration",)
        try:
            check_schema(config.data_schema, [*base, "data_schema"])
        except SchemaError as exc:
            raise ValidationFailed(exc.detail) from exc
        tier = config.tier or DEFAULT_TIER
        if tier not in EXTRACT_TIERS:
            raise ValidationFailed.single(
                [*base, "tier"],
                f"Unsupported tier: {tier}. Must be one of: {', '.join(EXTRACT_TIERS)}",
                input=tier,
            )
        if tier in MODEL_TIERS and not self.model_url:
            raise ValidationFailed.single(
                [*base, "tier"],
                f"Tier {tier} needs an LLM endpoint and none is configured. {NO_MODEL_HINT}",
                input=tier,
            )
        target = config.extraction_target or "per_doc"
        if target not in EXTRACTION_TARGETS:
            raise ValidationFailed.single(
                [*base, "extraction_target"],
                f"Unsupported extraction_target: {target}. "
                f"Must be one of: {', '.join(EXTRACTION_TARGETS)}",
                input=target,
            )
        if config.version is not None and not _VERSION_RE.match(config.version):
            raise ValidationFailed.single(
                [*base, "version"],
                f"Unsupported version: {config.version}. Use latest, a version such as 2.0, "
                "or a date (YYYY-MM-DD).",
                input=config.version,
            )
        parse_tier = config.parse_tier or DEFAULT_PARSE_TIER
        if parse_tier not in TIERS:
            raise ValidationFailed.single(
                [*base, "parse_tier"],
                f"Unsupported parse_tier: {parse_tier}. Must be one of: {', '.join(TIERS)}",
                input=parse_tier,
            )
        if parse_tier in PARSE_MODEL_TIERS and not self.model_url:
            raise ValidationFailed.single(
                [*base, "parse_tier"],
                f"Parse tier {parse_tier} needs a model endpoint. {NO_MODEL_HINT}",
                input=parse_tier,
            )
        if config.target_pages is not None:
            from lamina.engine.errors import InvalidOptionError
            from lamina.engine.pages import parse_target_pages

            try:
                parse_target_pages(config.target_pages, upto=0)
            except InvalidOptionError as exc:
                raise ValidationFailed.single(
                    [*base, "target_pages"], str(exc), input=config.target_pages
                ) from exc

    def create(self, project_id: str, request: ExtractCreateRequest, raw: dict[str, Any]) -> Row:
        """Validate and store a PENDING extract job, then wake the workers.

        ``configuration_id``: a saved extract_v2 configuration, under the inline fields;
        ``parse_config_id``: a saved parse_v2 configuration for the document parse, resolved
        now (the job keeps a copy, so a later edit of the saved one does not change it).
        """
        inline = raw.get("configuration") if isinstance(raw.get("configuration"), dict) else {}
        if request.configuration_id:
            from lamina.services.api.configurations import merged

            saved = self.configurations.parameters_for(
                project_id, request.configuration_id, "extract_v2", ["configuration_id"]
            )
            try:
                config = ExtractConfiguration.model_validate(merged(saved, inline or {}))
            except ValidationError as exc:
                from lamina.services.errors import validation_errors

                raise ValidationFailed(validation_errors(exc, ["configuration"])) from exc
        elif request.configuration is not None:
            config = request.configuration
        else:
            raise ValidationFailed.single(
                ["configuration"],
                "One of configuration or configuration_id is required",
                input=None,
                type="missing",
            )
        check_json_size(raw, self.limits.max_configuration_bytes, [], "The job's configuration")
        self.validate_configuration(config)
        check_queue(self.db.pending_count(project_id), self.limits.max_queued_jobs_per_project)
        resolved_parse = None
        if config.parse_config_id:
            resolved_parse = self.configurations.parameters_for(
                project_id,
                config.parse_config_id,
                "parse_v2",
                ["configuration", "parse_config_id"],
            )
            self._check_parse_tier(str(resolved_parse.get("tier") or DEFAULT_PARSE_TIER))
        webhooks = self._webhooks(project_id, request, raw)
        file_row = self._resolve_input(project_id, request.file_input)
        now = utcnow()
        stored_raw = dict(raw)
        if resolved_parse is not None:
            stored_raw["resolved_parse_configuration"] = resolved_parse
        row: Row = {
            "id": new_id(JOB_ID_PREFIX),
            "project_id": project_id,
            "kind": KIND,
            "file_input": request.file_input,
            "file_id": file_row["id"] if file_row else None,
            "status": "PENDING",
            "tier": config.tier or DEFAULT_TIER,
            "name": file_row["name"] if file_row else None,
            "configuration": config.model_dump(mode="json", exclude_none=True),
            "raw_parameters": stored_raw,
            "error_message": None,
            "created_at": now,
            "updated_at": now,
            "attempts": 0,
        }
        self.db.insert_job(row)
        if request.configuration_id:
            from lamina.services.api.configurations import link_configuration

            link_configuration(self.db, row, request.configuration_id)
        if webhooks:
            self.watch(row, webhooks)
        created = self.db.get_job(row["id"]) or row
        self.notify()
        return created

    def _check_parse_tier(self, tier: str) -> None:
        if tier in PARSE_MODEL_TIERS and not self.model_url:
            raise ValidationFailed.single(
                ["configuration", "parse_config_id"],
                f"The saved parse configuration asks for tier {tier}, which needs a model "
                f"endpoint. {NO_MODEL_HINT}",
                input=tier,
            )

    def _webhooks(
        self, project_id: str, request: ExtractCreateRequest, raw: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        return list(
            self.configurations.job_webhooks(
                project_id,
                raw.get("webhook_configurations"),
                request.webhook_configuration_ids,
                [],
            )
        )

    def _resolve_input(self, project_id: str, file_input: str) -> Row | None:
        """The file behind ``file_input``; a parse job must exist here and be COMPLETED."""
        if file_input.startswith("pjb-"):
            job = self.db.get_job(file_input, project_id, kind="parse")
            if job is None:
                raise NotFoundError(f"Parse job not found: {file_input}")
            if job["status"] != "COMPLETED":
                raise InvalidRequestError(
                    f"Parse job {file_input} is {job['status']}; extract from a COMPLETED parse "
                    "job (wait for it), or pass the file id instead."
                )
            return self.db.get_file(job["file_id"]) if job["file_id"] else None
        if file_input.startswith("dfl-"):
            found = self.db.get_file(file_input, project_id)
            if found is None:
                raise NotFoundError(f"File not found: {file_input}")
            return found
        raise ValidationFailed.single(
            ["file_input"],
            "file_input must be a file id (dfl-...) or a parse job id (pjb-...)",
            input=file_input,
        )

    # read -------------------------------------------------------------------------------------

    def get_row(self, project_id: str, job_id: str) -> Row:
        row = self.db.get_job(job_id, project_id, kind=KIND)
        if row is None:
            raise NotFoundError(f"Extract job not found: {job_id}")
        return row

    def get(self, project_id: str, job_id: str, *, expand: Sequence[str]) -> ExtractV2Job:
        """The ExtractV2Job of ``GET /api/v2/extract/{job_id}``."""
        wanted = _check_expand(expand)
        return self.to_job(self.get_row(project_id, job_id), wanted)

    def list(
        self,
        project_id: str,
        *,
        status: str | None = None,
        job_ids: Sequence[str] | None = None,
        file_input: str | None = None,
        configuration_id: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        expand: Sequence[str] = (),
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> PaginatedList[ExtractV2Job]:
        """One page of jobs, newest first (``ExtractV2JobQueryResponse``)."""
        wanted = _check_expand(expand)
        if configuration_id is not None:
            from lamina.services.api.configurations import jobs_of_configuration

            linked = jobs_of_configuration(self.db, project_id, KIND, configuration_id)
            job_ids = [j for j in job_ids if j in linked] if job_ids else sorted(linked)
            if not job_ids:
                return PaginatedList[ExtractV2Job](items=[], next_page_token=None, total_size=0)
        page = self.db.list_jobs(
            project_id,
            kind=KIND,
            status=status,
            job_ids=job_ids,
            file_input=file_input,
            created_after=created_after,
            created_before=created_before,
            page_size=50 if page_size is None else page_size,
            page_token=page_token,
        )
        return page.typed(lambda row: self.to_job(row, wanted))

    def to_job(self, row: Row, expand: set[str]) -> ExtractV2Job:
        """A job row (plus its result file when COMPLETED) as an ``ExtractV2Job``: the fields
        every job has always set, the others only when expanded or present."""
        config = ExtractConfiguration.model_validate(row["configuration"])
        job = ExtractV2Job(
            id=row["id"],
            project_id=row["project_id"],
            file_input=row["file_input"],
            status=row["status"],
            created_at=aware(row["created_at"]),
            updated_at=aware(row["updated_at"]),
            configuration_id=(row["raw_parameters"] or {}).get("configuration_id"),
            error_message=row["error_message"],
        )
        if "configuration" in expand:
            job.configuration = config
        stored = (
            self.storage.read_result_json(row["id"], EXTRACT_FILE)
            if row["status"] == "COMPLETED"
            else None
        )
        if stored is None:
            return job
        job.extract_result = stored["extract_result"]
        if "extract_metadata" in expand or config.cite_sources or config.confidence_scores:
            job.extract_metadata = ExtractJobMetadata(
                field_metadata=_filter_metadata(stored["field_metadata"], config),
                parse_job_id=stored.get("parse_job_id"),
                parse_tier=stored.get("parse_tier"),
            )
        pages = int(stored.get("pages_extracted") or 0)
        if "metadata" in expand:
            job.metadata = ExtractJobLevelMetadata(
                usage=ExtractJobUsage(num_pages_extracted=pages, num_pages_billed=pages)
            )
        if "usage" in expand:
            job.usage = ExtractUsage(credits=0.0, extract_credits=0.0, parse_credits=0.0)
        return job

    # change -----------------------------------------------------------------------------------

    def cancel(self, project_id: str, job_id: str) -> ExtractV2Job:
        if self.db.cancel_job(job_id, project_id, kind=KIND):
            self.notify()
            return self.to_job(self.get_row(project_id, job_id), set())
        row = self.get_row(project_id, job_id)
        if row["status"] == "CANCELLED":
            return self.to_job(row, set())
        raise InvalidRequestError(
            f"Extract job {job_id} is already {row['status']}; only PENDING or RUNNING jobs can "
            "be cancelled"
        )

    def delete(self, project_id: str, job_id: str, *, force: bool = False) -> JobDeleted:
        row = self.get_row(project_id, job_id)
        if row["status"] in ("PENDING", "RUNNING") and not force:
            raise InvalidRequestError(
                f"Extract job {job_id} is {row['status']}; cancel it first, or pass force=true"
            )
        if not self.db.delete_job(job_id, project_id, kind=KIND):
            raise NotFoundError(f"Extract job not found: {job_id}")
        self.storage.delete_results(job_id)
        return JobDeleted(id=job_id, project_id=project_id)

    # schemas ----------------------------------------------------------------------------------

    @staticmethod
    def validate_schema(schema: Any) -> SchemaValidationResponse:
        """``POST /api/v2/extract/schema/validation``: the schema, or 422 with its problems."""
        try:
            return SchemaValidationResponse(data_schema=check_schema(schema, ["data_schema"]))
        except SchemaError as exc:
            raise ValidationFailed(exc.detail) from exc

    def generate_schema(
        self,
        *,
        prompt: str | None,
        data_schema: dict[str, Any] | None,
        file_id: str | None,
        name: str | None,
    ) -> GeneratedConfiguration:
        """``POST /api/v2/extract/schema/generate``: a configuration with a schema.

        A given ``data_schema`` alone is validated and returned; generating one from a prompt or
        a file needs the model endpoint (400 without one).
        """
        schema = data_schema
        if prompt or file_id:
            if self.chat is None:
                raise InvalidRequestError(
                    f"Generating a schema needs an LLM endpoint and none is configured. "
                    f"{NO_MODEL_HINT.replace(', or use tier cost_effective', '')}"
                )
            schema = self._ask_for_schema(prompt or "", data_schema)
        if schema is None:
            raise ValidationFailed.single(
                [], "Give a prompt, a file_id or a data_schema", input=None, type="missing"
            )
        checked = self.validate_schema(schema).data_schema
        return GeneratedConfiguration(
            name=name or "extract-configuration",
            parameters={"product_type": "extract_v2", "data_schema": checked},
        )

    def _ask_for_schema(self, prompt: str, base: dict[str, Any] | None) -> dict[str, Any]:
        assert self.chat is not None
        text = (
            "Write a JSON Schema (type object, with properties and descriptions) for the data "
            f"described here:\n{prompt}"
        )
        if base:
            text += f"\n\nRefine or extend this schema:\n{dump_json(base).decode()}"
        messages = [
            {"role": "system", "content": "You design JSON Schemas for document extraction."},
            {"role": "user", "content": text},
        ]
        try:
            answer = self.chat.complete_json(messages, {"type": "object"})
        except ModelError as exc:
            raise InvalidRequestError(str(exc)) from exc
        if not isinstance(answer, dict):
            raise InvalidRequestError("The model did not answer with a JSON Schema object")
        return answer


def _check_expand(expand: Sequence[str]) -> set[str]:
    unknown = [e for e in expand if e not in EXTRACT_EXPAND_VALUES]
    if unknown:
        raise ValidationFailed.single(
            ["expand"],
            f"Unsupported expand value(s): {', '.join(unknown)}. "
            f"Must be among: {', '.join(EXTRACT_EXPAND_VALUES)}",
            origin="parameter",
            input=unknown,
        )
    return set(expand)


def _filter_metadata(meta: Any, config: ExtractConfiguration) -> Any:
    """Drop citations when ``cite_sources`` is false, confidences when ``confidence_scores`` is."""
    drop: set[str] = set()
    if config.cite_sources is False:
        drop.add("citation")
    if config.confidence_scores is False:
        drop.update(_CONFIDENCE_KEYS)
    if not drop:
        return meta

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "reasoning" in node or "citation" in node:  # a leaf entry
                return {k: v for k, v in node.items() if k not in drop}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(meta)


# --- running a job (worker side) ----------------------------------------------------------------


def run_extract_job(row: Row, storage: Storage, limits: ExecutionLimits) -> Outcome:
    """Run one claimed extract job to an :class:`Outcome` (never raises)."""
    started = time.monotonic()
    try:
        from lamina.engine import EngineError
    except ImportError as exc:  # pragma: no cover - engine missing from the install
        return Outcome("FAILED", f"The parse engine is not available: {exc}")
    try:
        config = ExtractConfiguration.model_validate(row["configuration"])
        pages, confidence, parse_job_id, parse_tier = _load_pages(row, storage, limits, config)
        doc = Document.from_pages(pages, confidence)
        if not doc.pages:
            raise JobFailure("The document has no pages to extract from (all pages failed)")
        target = config.extraction_target or "per_doc"
        tier = config.tier or DEFAULT_TIER
        if tier in MODEL_TIERS:
            if limits.model is None:
                raise JobFailure(f"Tier {tier} needs an LLM endpoint and none is configured")
            output = extract_llm(
                doc,
                config.data_schema,
                limits.model,
                target=target,
                system_prompt=config.system_prompt,
            )
        else:
            output = extract_local(doc, config.data_schema, target=target)
        stored = {
            "extract_result": output.data,
            "field_metadata": output.field_metadata,
            "parse_job_id": parse_job_id,
            "parse_tier": parse_tier,
            "pages_extracted": output.pages_extracted,
            "duration_seconds": round(time.monotonic() - started, 3),
        }
        with storage.staged_results(row["id"]) as staging:
            write_atomic(staging / EXTRACT_FILE, dump_json(stored))
        return Outcome("COMPLETED", None, {"pages_extracted": output.pages_extracted})
    except JobFailure as exc:
        return Outcome("FAILED", str(exc))
    except ModelError as exc:
        return Outcome("FAILED", str(exc))
    except SchemaError as exc:
        return Outcome("FAILED", f"Invalid data_schema: {exc}")
    except EngineError as exc:
        return Outcome("FAILED", str(exc) or type(exc).__name__)
    except ValidationError as exc:
        return Outcome("FAILED", f"Invalid stored configuration: {exc}")
    except Exception as exc:
        import logging

        logging.getLogger("lamina.worker").exception("job %s failed unexpectedly", row["id"])
        return Outcome("FAILED", f"Internal error while extracting: {type(exc).__name__}: {exc}")


def _load_pages(
    row: Row, storage: Storage, limits: ExecutionLimits, config: ExtractConfiguration
) -> tuple[list[Any], dict[int, float | None], str | None, str]:
    """The items pages to extract from: a parse job's stored items, or a fresh parse of the
    file. Returns (pages, parse confidence per page, parse job id or None, parse tier)."""
    ranges = PageRanges(target_pages=config.target_pages, max_pages=config.max_pages)
    source: str = row["file_input"]
    if source.startswith("pjb-"):
        stored = storage.read_result_json(source, RESULT_FILES["items"][0])
        if stored is None:
            raise JobFailure(f"The results of parse job {source} are gone (deleted)")
        pages = list(stored.get("pages") or [])
        parse_meta = storage.read_result_json(source, "job_metadata.json") or {}
        wanted = _wanted_pages([p["page_number"] for p in pages], ranges)
        pages = [p for p in pages if p["page_number"] in wanted]
        page_meta = storage.read_result_json(source, RESULT_FILES["metadata"][0]) or {}
        confidence = {
            int(m["page_number"]): m.get("confidence")
            for m in page_meta.get("pages") or []
            if isinstance(m, dict) and "page_number" in m
        }
        return pages, confidence, source, str(parse_meta.get("tier") or "stored")
    from lamina.engine import parse_document

    parse_tier = config.parse_tier or DEFAULT_PARSE_TIER
    data = load_input(row, storage, limits)
    # Cell boxes, so values read from tables cite their cell rather than the row band.
    saved = (row["raw_parameters"] or {}).get("resolved_parse_configuration")
    if saved:  # a saved parse configuration (parse_config_id): its options, our page range
        parse_tier = str(saved.get("tier") or parse_tier)
        base = ParseConfiguration.model_validate({**saved, "tier": parse_tier})
        output = base.output_options or OutputOptions()
        parse_config = base.model_copy(
            update={
                "page_ranges": ranges,
                "output_options": output.model_copy(update={"granular_bboxes": ["cell"]}),
            }
        )
    else:
        parse_config = ParseConfiguration(
            tier=parse_tier,
            page_ranges=ranges,
            output_options=OutputOptions(granular_bboxes=["cell"]),
        )
    result = parse_document(data, filename=row["name"], config=parse_config)
    confidence = {
        p.page_number: (p.metadata.confidence if p.metadata else None) for p in result.pages
    }
    return list(items_pages(result)), confidence, None, parse_tier


def _wanted_pages(numbers: list[int], ranges: PageRanges) -> set[int]:
    from lamina.engine.pages import parse_target_pages

    chosen = sorted(numbers)
    if ranges.target_pages:
        named = set(parse_target_pages(ranges.target_pages, upto=max(chosen, default=0)))
        chosen = [n for n in chosen if n in named]
    if ranges.max_pages:
        chosen = chosen[: ranges.max_pages]
    return set(chosen)
