"""Classify v2 jobs (``/api/v2/classify``): one document, a list of rules, one type.

Jobs are rows of the shared jobs table with ``kind = "classify"`` (the parse queue, leases,
cancel, crash recovery and time limits apply as for parse and extract). The worker reads the
document's text — a ``pjb-…`` input's stored text, or a parse of the ``dfl-…`` file at tier
``fast`` (``cost_effective``, which OCRs, when ``fast`` finds no text), limited by
``parsing_configuration`` (``target_pages``, ``max_pages``, ``lang``) — and classifies it:

- mode ``FAST`` (the default): :func:`lamina.classify.classify_text`, rules offline;
- mode ``MULTIMODAL`` (a Lamina extension, as for v1 batch classify): the model at
  ``LAMINA_MODEL_URL``; refused (422) without one.

The result ``{type, confidence, reasoning}`` is ``results/<id>/classification.json``. A job's
``configuration_id`` and ``transaction_id`` live in ``job_links``; reusing a transaction id in
the same project returns the first job and ignores the new body, as the SDK documents.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from pydantic import ValidationError

from lamina.services.api.classify_rules import check_classify_configuration
from lamina.services.errors import (
    InvalidRequestError,
    NotFoundError,
    ValidationFailed,
    validation_errors,
)
from lamina.services.runtime.execution import ExecutionLimits, JobFailure, Outcome, load_input
from lamina.services.store.db import Database, Row, aware, new_id, paginate, utcnow
from lamina.services.store.storage import RESULT_FILES, Storage, dump_json, write_atomic
from lamina.services.store.tables import job_links_table, jobs_table
from lamina.types import (
    ClassifyConfiguration,
    ClassifyJob,
    ClassifyResult,
    ClassifyUsage,
    JobDeleted,
    PaginatedList,
)

if TYPE_CHECKING:
    from lamina.extract.llm import ChatClient
    from lamina.services.api.configurations import ConfigurationService
    from lamina.services.api.job_webhooks import WatchJob

JOB_ID_PREFIX = "clj"
KIND = "classify"
CLASSIFY_FILE = "classification.json"
STATUSES = ("PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED")
_MODEL_TEXT_LIMIT = 12_000  # characters of the document a MULTIMODAL classification sends


class ClassifyService:
    """Classify jobs of each project."""

    def __init__(
        self,
        db: Database,
        storage: Storage,
        *,
        model_url: str | None,
        configurations: ConfigurationService,
        notify: Callable[[], None],
        watch: WatchJob,
    ) -> None:
        """``configurations``: saved configurations and webhook ids; ``notify``: wakes the job
        runner after a create; ``watch``: registers a new job's webhooks."""
        self.db = db
        self.storage = storage
        self.model_url = model_url
        self.configurations = configurations
        self.notify = notify
        self.watch = watch

    def create(self, project_id: str, body: Mapping[str, Any]) -> ClassifyJob:
        transaction = body.get("transaction_id")
        if transaction is not None and not isinstance(transaction, str):
            raise ValidationFailed.single(["transaction_id"], "must be a string", input=transaction)
        if transaction:
            earlier = self._by_transaction(project_id, transaction)
            if earlier is not None:
                return self.to_job(earlier)
        config_id = body.get("configuration_id")
        config = self._configuration(project_id, config_id, body.get("configuration"))
        file_input, input_type, file_row = self._resolve_input(project_id, body)
        webhooks = self._webhooks(project_id, body)
        now = utcnow()
        row: Row = {
            "id": new_id(JOB_ID_PREFIX),
            "project_id": project_id,
            "kind": KIND,
            "file_input": file_input,
            "file_id": file_row["id"] if file_row else None,
            "status": "PENDING",
            "tier": "fast",
            "name": file_row["name"] if file_row else file_input,
            "configuration": config,
            "raw_parameters": {
                **body,
                "document_input_type": input_type,
            },
            "error_message": None,
            "created_at": now,
            "updated_at": now,
            "attempts": 0,
        }
        with self.db.begin() as conn:
            if transaction:
                # A concurrent create with the same key loses the unique index race here.
                try:
                    with conn.begin_nested():
                        conn.execute(
                            job_links_table.insert().values(
                                job_id=row["id"],
                                project_id=project_id,
                                kind=KIND,
                                configuration_id=config_id,
                                transaction_id=transaction,
                            )
                        )
                except sa.exc.IntegrityError:
                    earlier = self._by_transaction(project_id, transaction)
                    if earlier is not None:
                        return self.to_job(earlier)
                    raise
            elif config_id:
                conn.execute(
                    job_links_table.insert().values(
                        job_id=row["id"],
                        project_id=project_id,
                        kind=KIND,
                        configuration_id=config_id,
                    )
                )
            conn.execute(jobs_table.insert().values(**row))
        if webhooks:
            self.watch(row, webhooks)
        created = self.to_job(self.get_row(project_id, row["id"]))  # before a worker claims it
        self.notify()
        return created

    def _configuration(self, project_id: str, config_id: str | None, inline: Any) -> dict[str, Any]:
        """The job's configuration: the saved one under the inline fields, checked (422s)."""
        if inline is not None and not isinstance(inline, Mapping):
            raise ValidationFailed.single(
                ["configuration"], "configuration must be an object", input=inline
            )
        config: dict[str, Any] = dict(inline or {})
        if config_id:
            from lamina.services.api.configurations import merged

            saved = self.configurations.parameters_for(
                project_id, config_id, "classify_v2", ["configuration_id"]
            )
            config = merged(saved, config)
        if not config:
            raise ValidationFailed.single(
                ["configuration"],
                "Give a configuration with rules, or a configuration_id of a saved classify_v2 "
                "configuration",
                input=None,
                type="missing",
            )
        config = check_classify_configuration(config)
        try:  # what the answers declare (a lang that is no string, say, is refused here)
            ClassifyConfiguration.model_validate(config)
        except ValidationError as exc:
            raise ValidationFailed(validation_errors(exc, ["configuration"])) from exc
        if config.get("mode") == "MULTIMODAL" and not self.model_url:
            raise ValidationFailed.single(
                ["configuration", "mode"],
                "Classify mode MULTIMODAL needs a model endpoint and none is configured. Start "
                "the server with LAMINA_MODEL_URL, or use mode FAST.",
                input="MULTIMODAL",
            )
        return config

    def _webhooks(self, project_id: str, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        return list(
            self.configurations.job_webhooks(
                project_id,
                body.get("webhook_configurations"),
                body.get("webhook_configuration_ids"),
                [],
            )
        )

    def _resolve_input(
        self, project_id: str, body: Mapping[str, Any]
    ) -> tuple[str, str, Row | None]:
        given = {
            name: body.get(name)
            for name in ("file_input", "file_id", "parse_job_id")
            if body.get(name)
        }
        if not given:
            raise ValidationFailed.single(
                ["file_input"],
                "file_input is required: a file id (dfl-…) or a completed parse job id (pjb-…)",
                input=None,
                type="missing",
            )
        # file_input wins over its deprecated names, file_id over parse_job_id.
        name, value = next(iter(given.items()))
        value = str(value)
        if value.startswith("pjb-") or name == "parse_job_id":
            job = self.db.get_job(value, project_id, kind="parse")
            if job is None:
                raise NotFoundError(f"Parse job not found: {value}")
            if job["status"] != "COMPLETED":
                raise InvalidRequestError(
                    f"Parse job {value} is {job['status']}; classify reads a COMPLETED parse job"
                )
            return value, "parse_job_id", None
        file_row = self.db.get_file(value, project_id)
        if file_row is None:
            raise NotFoundError(f"File not found: {value}")
        return value, "file_id", file_row

    def _by_transaction(self, project_id: str, transaction: str) -> Row | None:
        c = job_links_table.c
        with self.db.begin() as conn:
            found = conn.execute(
                sa.select(c.job_id).where(
                    c.project_id == project_id, c.kind == KIND, c.transaction_id == transaction
                )
            ).first()
        return self.db.get_job(found[0], project_id, kind=KIND) if found else None

    def _links(self, job_id: str) -> Row:
        with self.db.begin() as conn:
            found = conn.execute(
                sa.select(job_links_table).where(job_links_table.c.job_id == job_id)
            ).first()
        return dict(found._mapping) if found else {}

    def get_row(self, project_id: str, job_id: str) -> Row:
        row = self.db.get_job(job_id, project_id, kind=KIND)
        if row is None:
            raise NotFoundError(f"Classify job not found: {job_id}")
        return row

    def get(self, project_id: str, job_id: str, expand: Sequence[str]) -> ClassifyJob:
        unknown = [e for e in expand if e != "usage"]
        if unknown:
            raise ValidationFailed.single(
                ["expand"], "expand accepts: usage", origin="parameter", input=unknown
            )
        return self.to_job(self.get_row(project_id, job_id), usage="usage" in expand)

    def to_job(self, row: Row, *, usage: bool = False) -> ClassifyJob:
        """A job record (and its result file when COMPLETED) as a ``ClassifyJob``: every field
        set, ``usage`` only when asked for; the configuration as stored."""
        links = self._links(row["id"])
        raw = row["raw_parameters"] or {}
        result = None
        parse_job_id = (
            row["file_input"] if raw.get("document_input_type") == "parse_job_id" else None
        )
        if row["status"] == "COMPLETED":
            stored = self.storage.read_result_json(row["id"], CLASSIFY_FILE) or {}
            result = stored.get("result")
            parse_job_id = stored.get("parse_job_id") or parse_job_id
        job = ClassifyJob(
            id=row["id"],
            project_id=row["project_id"],
            user_id=row["project_id"],
            status=row["status"],
            configuration=ClassifyConfiguration.model_validate(row["configuration"]),
            configuration_id=links.get("configuration_id"),
            document_input_type=raw.get("document_input_type", "file_id"),
            file_input=row["file_input"],
            parse_job_id=parse_job_id,
            transaction_id=links.get("transaction_id"),
            error_message=row["error_message"],
            result=ClassifyResult.model_validate(result) if result is not None else None,
            created_at=aware(row["created_at"]),
            updated_at=aware(row["updated_at"]),
        )
        if usage:
            job.usage = ClassifyUsage(credits=0.0, parse_credits=None if parse_job_id else 0.0)
        return job

    def list(
        self,
        project_id: str,
        *,
        status: str | None,
        job_ids: Sequence[str] | None,
        configuration_id: str | None,
        created_after: datetime | None,
        created_before: datetime | None,
        page_size: int | None,
        page_token: str | None,
    ) -> PaginatedList[ClassifyJob]:
        from lamina.services.store.db import to_naive_utc

        if status is not None and status not in STATUSES:
            raise ValidationFailed.single(
                ["status"],
                f"status must be one of: {', '.join(STATUSES)}",
                origin="parameter",
                input=status,
            )
        c = jobs_table.c
        where: list[sa.ColumnElement[bool]] = [c.project_id == project_id, c.kind == KIND]
        if status:
            where.append(c.status == status)
        if job_ids:
            where.append(c.id.in_(list(job_ids)))
        if configuration_id:
            links = job_links_table.c
            where.append(
                c.id.in_(sa.select(links.job_id).where(links.configuration_id == configuration_id))
            )
        if created_after is not None:
            where.append(c.created_at >= to_naive_utc(created_after))
        if created_before is not None:
            where.append(c.created_at <= to_naive_utc(created_before))
        with self.db.begin() as conn:
            page = paginate(
                conn,
                jobs_table,
                where,
                sort="created_at",
                descending=True,
                page_size=50 if page_size is None else page_size,
                page_token=page_token,
            )
        return page.typed(self.to_job)

    def cancel(self, project_id: str, job_id: str) -> ClassifyJob:
        if self.db.cancel_job(job_id, project_id, kind=KIND):
            self.notify()
            return self.to_job(self.get_row(project_id, job_id))
        row = self.get_row(project_id, job_id)
        if row["status"] == "CANCELLED":
            return self.to_job(row)
        raise InvalidRequestError(
            f"Classify job {job_id} is already {row['status']}; only PENDING or RUNNING jobs "
            "can be cancelled"
        )

    def delete(self, project_id: str, job_id: str) -> JobDeleted:
        """Delete a job in any state (a running one is cancelled by losing its row)."""
        if not self.db.delete_job(job_id, project_id, kind=KIND):
            raise NotFoundError(f"Classify job not found: {job_id}")
        with self.db.begin() as conn:
            conn.execute(job_links_table.delete().where(job_links_table.c.job_id == job_id))
        self.storage.delete_results(job_id)
        return JobDeleted(id=job_id, project_id=project_id)


# --- the worker side ---------------------------------------------------------------------------


def _document_text(row: Row, storage: Storage, limits: ExecutionLimits) -> tuple[str, str | None]:
    """(text of the pages to classify, the parse job read if any)."""
    parsing = (row["configuration"] or {}).get("parsing_configuration") or {}
    if (row["raw_parameters"] or {}).get("document_input_type") == "parse_job_id":
        stored = storage.read_result_json(row["file_input"], RESULT_FILES["text"][0])
        if stored is None:
            raise JobFailure(f"The results of parse job {row['file_input']} are gone")
        pages = stored.get("pages", [])
        target = parsing.get("target_pages")
        if target:
            from lamina.engine.pages import parse_target_pages

            wanted = set(parse_target_pages(str(target), upto=len(pages) or 1))
            pages = [p for p in pages if p["page_number"] in wanted]
        if parsing.get("max_pages"):
            pages = pages[: int(parsing["max_pages"])]
        return "\n\n".join(p.get("text", "") for p in pages), row["file_input"]
    from lamina.engine import parse_document
    from lamina.types import ParseConfiguration

    data = load_input(row, storage, limits)
    ranges = {k: parsing[k] for k in ("target_pages", "max_pages") if parsing.get(k)}
    text = ""
    for tier in ("fast", "cost_effective"):
        config: dict[str, Any] = {"tier": tier, "version": "latest"}
        if ranges:
            config["page_ranges"] = ranges
        if parsing.get("lang"):
            config["processing_options"] = {"ocr_parameters": {"languages": [parsing["lang"]]}}
        result = parse_document(
            data,
            filename=row["name"] or "document",
            config=ParseConfiguration.model_validate(config),
        )
        text = "\n\n".join(p.text for p in result.pages if p.error is None)
        if text.strip():
            break
    return text, None


def run_classify_job(row: Row, storage: Storage, limits: ExecutionLimits) -> Outcome:
    """Run one claimed classify job to an :class:`Outcome` (never raises)."""
    started = time.monotonic()
    try:
        from lamina.classify import classify_text
        from lamina.engine import EngineError
    except ImportError as exc:  # pragma: no cover - engine missing from the install
        return Outcome("FAILED", f"The parse engine is not available: {exc}")
    try:
        config = row["configuration"] or {}
        text, parse_job_id = _document_text(row, storage, limits)
        if config.get("mode") == "MULTIMODAL":
            from lamina.extract.llm import ChatClient

            if limits.model is None:
                raise JobFailure("Mode MULTIMODAL needs a model endpoint and none is configured")
            answer = classify_with_model(ChatClient(limits.model), text, config["rules"])
        else:
            answer = classify_text(text, config["rules"]).to_dict()
        result = {
            "type": answer.get("type"),
            "confidence": float(answer.get("confidence") or 0.0),
            "reasoning": str(answer.get("reasoning") or ""),
        }
        stored = {
            "result": result,
            "parse_job_id": parse_job_id,
            "scores": answer.get("scores"),
            "duration_seconds": round(time.monotonic() - started, 3),
        }
        with storage.staged_results(row["id"]) as staging:
            write_atomic(staging / CLASSIFY_FILE, dump_json(stored))
        return Outcome("COMPLETED", None, {"type": result["type"]})
    except JobFailure as exc:
        return Outcome("FAILED", str(exc))
    except EngineError as exc:
        return Outcome("FAILED", str(exc) or type(exc).__name__)
    except Exception as exc:
        import logging

        logging.getLogger("lamina.worker").exception("job %s failed unexpectedly", row["id"])
        return Outcome("FAILED", f"Internal error while classifying: {type(exc).__name__}: {exc}")


def classify_with_model(chat: ChatClient, text: str, rules: list[dict[str, str]]) -> dict[str, Any]:
    """Classify ``text`` with the model behind ``chat`` (mode MULTIMODAL, jobs and batches)."""
    types = [r["type"] for r in rules]
    listing = "\n".join(f"- {r['type']}: {r['description']}" for r in rules)
    schema = {
        "type": "object",
        "properties": {
            "type": {"type": ["string", "null"], "enum": [*types, None]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reasoning": {"type": "string"},
        },
        "required": ["type", "confidence", "reasoning"],
    }
    messages = [
        {
            "role": "system",
            "content": "Classify the document as exactly one of these types, or null if none "
            f"fits:\n{listing}\nAnswer in JSON with type, confidence (0-1) and reasoning.",
        },
        {"role": "user", "content": text[:_MODEL_TEXT_LIMIT]},
    ]
    answer = chat.complete_json(messages, schema)
    if not isinstance(answer, dict):
        raise RuntimeError("the model did not answer with an object")
    chosen = answer.get("type") if answer.get("type") in types else None
    try:
        confidence = max(0.0, min(1.0, float(answer.get("confidence") or 0.0)))
    except (TypeError, ValueError):
        confidence = 0.0
    return {
        "type": chosen,
        "confidence": confidence if chosen else 0.0,
        "reasoning": str(answer.get("reasoning") or ""),
        "mode": "MULTIMODAL",
    }
