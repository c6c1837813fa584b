"""Batch processing: jobs over a directory's files (or listed items), parse or classify.

The API side (:class:`BatchService`) validates a request, snapshots the items (one row per
file, with the file's hash and size) and stores the batch ``pending``. The snapshot is written in
bounded transactions (a chunk of items each, reads never inside a write transaction) under an
internal ``creating`` status nobody else sees; one last transaction makes the batch ``pending``
with its first webhook event, so other projects' writes never wait on a big batch.
The :class:`~lamina.services.batch.dispatch.BatchDispatcher` thread does the rest, from the
database alone, so a restart picks up exactly where a crash left off:

* **Dispatch** in windows: per batch at most ``max_concurrency`` items are ``processing``; for
  each free slot the next ``pending`` item is either skipped (``size_limit_exceeded``, or
  ``already_processed`` when a processing result with the same file hash and parameters hash
  exists) or gets a parse job on the one job queue (the ``parse_jobs`` table the workers
  claim). The job row is inserted in the same transaction as the item's ``pending →
  processing`` change and its ``job_id``, under a conditional update: an item is dispatched at
  most once, whatever crashes.
* **Sync**: items whose parse job reached a terminal status become ``completed`` / ``failed`` /
  ``cancelled``; a completed item gets its processing result (classify items are classified
  here, from the parse job's text) in the same transaction, again conditionally.
* **Finish**: a batch with no ``pending`` and no ``processing`` items is ``completed`` (or
  ``failed`` when every item failed). No pending left but some processing: ``dispatched``.

Counts are SQL aggregates over the items; nothing is held in memory per item.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from lamina.services.api.parse import MODEL_TIERS
from lamina.services.api.webhooks import enqueue, resolve_webhooks
from lamina.services.batch.wire import (
    ACTIVE,
    BATCH_ID_PREFIX,
    CLASSIFY_DEFAULT_MAX_PAGES,
    CLASSIFY_MODES,
    INSERT_CHUNK,
    V2_STATUS_IN,
    BatchLimits,
    batch_event_data,
    counts_of,
    event_name,
    is_preset,
    one_based_pages,
    parameters_hash,
    parse_configuration_from_parameters,
    progress_of,
    to_batch_item,
    to_batch_job,
    to_batch_v2,
    to_processing_result,
    v2_configuration,
)
from lamina.services.errors import InvalidRequestError, NotFoundError, ValidationFailed
from lamina.services.request_limits import check_json_size
from lamina.services.store.db import Database, Row, new_id, paginate, utcnow
from lamina.services.store.storage import Storage
from lamina.services.store.tables import (
    batch_items_table,
    batch_jobs_table,
    directories_table,
    directory_files_table,
    files_table,
    jobs_table,
    processing_results_table,
)
from lamina.types import (
    TIERS,
    BatchCreateRequest,
    BatchItemList,
    BatchJobList,
    BatchJobStatusResponse,
    BatchV2,
    BatchV2CreateRequest,
    BatchV2JobReference,
    BatchV2Result,
    ClassifyJobConfig,
    ItemProcessingResults,
    PaginatedList,
    WireModel,
)

if TYPE_CHECKING:
    from lamina.services.api.configurations import ConfigurationService

log = logging.getLogger("lamina.batch")

CREATING = "creating"
"""Internal status of a batch whose items are still being written (never shown)."""
_LOOKUP_CHUNK = 500


def _dumped(models: Sequence[WireModel] | None) -> builtins.list[dict[str, Any]] | None:
    """Request models back to the JSON they came as (the fields given), or None."""
    if models is None:
        return None
    return [m.model_dump(mode="json", exclude_unset=True) for m in models]


# --- the API side --------------------------------------------------------------------------------


class BatchService:
    """Batch jobs of each project (create, list, status, cancel, items, results)."""

    def __init__(
        self,
        db: Database,
        storage: Storage,
        limits: BatchLimits,
        *,
        configurations: ConfigurationService,
        validate_extract: Callable[[Mapping[str, Any]], None],
        notify: Callable[[], None],
    ) -> None:
        """``configurations``: saved configurations and webhooks; ``validate_extract``: checks
        an extract configuration as ``POST /api/v2/extract`` does; ``notify``: wakes the
        dispatcher and the webhook delivery after a change."""
        self.db = db
        self.storage = storage
        self.limits = limits
        self.configurations = configurations
        self.validate_extract = validate_extract
        self.notify = notify

    # create -------------------------------------------------------------------------------------

    def create(self, project_id: str, body: BatchCreateRequest) -> Row:
        """``POST /api/v1/beta/batch-processing``: validate, snapshot the items, store."""
        # Stored as sent (the fields given), the form the processing results report.
        job_config = body.job_config.model_dump(mode="json", exclude_unset=True)
        check_json_size(
            job_config,
            self.limits.requests.max_configuration_bytes,
            ["job_config"],
            "job_config",
        )
        parse_config: dict[str, Any] | None = None
        classify: dict[str, Any] | None = None
        params: dict[str, Any] = {}
        if isinstance(body.job_config, ClassifyJobConfig):
            job_type = "classify"
            classify = self._classify_spec(body.job_config)
            spec: dict[str, Any] = classify
        else:
            job_type = "parse"
            params = job_config.get("parameters") or {}
            parse_config = parse_configuration_from_parameters(params)
            self._check_tier(parse_config["tier"], ["job_config", "parameters", "tier"])
            spec = parse_config
        webhooks = resolve_webhooks(
            (["job_config", "webhook_url"], job_config.get("webhook_url")),
            (["job_config", "parameters", "webhook_url"], params.get("webhook_url")),
            (
                ["job_config", "parameters", "webhook_configurations"],
                params.get("webhook_configurations"),
            ),
            (["webhook_configurations"], _dumped(body.webhook_configurations)),
            policy=self.limits.outbound,
        )
        return self._store(
            project_id,
            api="v1",
            job_type=job_type,
            job_config=job_config,
            parse_config=parse_config,
            classify=classify,
            spec=spec,
            webhooks=webhooks,
            directory_id=body.directory_id,
            item_ids=body.item_ids,
            max_concurrency=body.max_concurrency,
        )

    def create_v2(self, project_id: str, body: BatchV2CreateRequest) -> Row:
        """``POST /api/v2/batches``: a parse_v2 or extract_v2 job per file of
        ``source_directory_id``. ``configuration_id`` is a built-in parse preset or a saved
        configuration of the job's type; ``webhook_configuration_ids`` name saved webhooks."""
        config = body.config.model_dump(mode="json", exclude_unset=True)
        check_json_size(config, self.limits.requests.max_configuration_bytes, ["config"], "config")
        job: dict[str, Any] = config["job"]
        job_kind = body.config.job.type
        if job_kind not in ("parse_v2", "extract_v2"):
            raise ValidationFailed.single(
                ["config", "job", "type"],
                "config.job.type must be parse_v2 or extract_v2",
                input=job_kind,
            )
        if not body.source_directory_id:
            raise ValidationFailed.single(
                ["source_directory_id"], "Field required", input=None, type="missing"
            )
        loc: list[str | int] = ["config", "job", "configuration_id"]
        config_id = body.config.job.configuration_id or ""
        saved = None
        if config_id and not is_preset(config_id):
            saved = self.configurations.parameters_for(project_id, config_id, job_kind, loc)
        if job_kind == "extract_v2":
            job_type = "extract"
            job_config = self._extract_config(project_id, job, saved)
        else:
            job_type = "parse"
            if saved:
                job_config = {**saved, "version": saved.get("version", "latest")}
            else:
                job_config = v2_configuration(job)
            self._check_tier(str(job_config.get("tier")), ["config", "job"])
        webhooks = self.configurations.job_webhooks(
            project_id,
            _dumped(body.webhook_configurations),
            body.webhook_configuration_ids,
            [],
        )
        return self._store(
            project_id,
            api="v2",
            job_type=job_type,
            job_config={"config": {"job": job}},
            parse_config=job_config,
            classify=None,
            spec=job_config,
            webhooks=webhooks,
            directory_id=body.source_directory_id,
            item_ids=None,
            max_concurrency=body.max_concurrency,
        )

    def _extract_config(
        self, project_id: str, job: Mapping[str, Any], saved: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """The extract configuration of an extract_v2 batch (saved, then inline on top)."""
        from lamina.services.api.configurations import merged

        inline = job.get("configuration") if isinstance(job.get("configuration"), Mapping) else {}
        config = merged(saved or {}, inline or {})
        if not isinstance(config.get("data_schema"), Mapping):
            raise ValidationFailed.single(
                ["config", "job", "configuration_id"],
                "An extract_v2 batch needs a saved extract_v2 configuration (configuration_id) "
                "or an inline configuration with a data_schema",
                input=job.get("configuration_id"),
            )
        self.validate_extract(config)
        if config.get("parse_config_id"):
            # Resolved now, as a single extract job does: each item's job reads this copy.
            config["resolved_parse_configuration"] = self.configurations.parameters_for(
                project_id,
                str(config["parse_config_id"]),
                "parse_v2",
                ["config", "job", "configuration_id"],
            )
        return config

    def _check_tier(self, tier: str, loc: list[str | int]) -> None:
        if tier not in TIERS:
            raise ValidationFailed.single(
                loc, f"Unsupported tier: {tier}. Must be one of: {', '.join(TIERS)}", input=tier
            )
        if tier in MODEL_TIERS and not self.limits.model_url:
            raise ValidationFailed.single(
                loc,
                f"Tier {tier} needs a vision/LLM model endpoint and none is configured. Start "
                "the server with LAMINA_MODEL_URL set, or use tier fast or cost_effective.",
                input=tier,
            )

    def _classify_spec(self, job_config: ClassifyJobConfig) -> dict[str, Any]:
        loc: list[str | int] = ["job_config", "rules"]
        if not job_config.rules:
            raise ValidationFailed.single(loc, "At least one rule is required", input=[])
        clean = []
        for i, rule in enumerate(job_config.rules):
            if not (rule.type and rule.description):
                raise ValidationFailed.single(
                    [*loc, i],
                    "A rule needs a non-empty type and description",
                    input=rule.model_dump(mode="json", exclude_unset=True),
                )
            clean.append({"type": rule.type, "description": rule.description})
        mode = job_config.mode or "FAST"
        if mode not in CLASSIFY_MODES:
            raise ValidationFailed.single(
                ["job_config", "mode"], "mode must be FAST or MULTIMODAL", input=mode
            )
        if mode == "MULTIMODAL" and not self.limits.model_url:
            raise ValidationFailed.single(
                ["job_config", "mode"],
                "Classify mode MULTIMODAL needs a model endpoint and none is configured. Start "
                "the server with LAMINA_MODEL_URL set to an OpenAI-compatible base URL, or use "
                "mode FAST (local, no model).",
                input=mode,
            )
        parsing = job_config.parsing_configuration
        max_pages = parsing.max_pages if parsing is not None else None
        target = parsing.target_pages if parsing is not None else None
        parse: dict[str, Any] = {"tier": "fast", "version": "latest"}
        ranges: dict[str, Any] = {"max_pages": int(max_pages or CLASSIFY_DEFAULT_MAX_PAGES)}
        if target:
            ranges["target_pages"] = one_based_pages([str(p) for p in target])
        parse["page_ranges"] = ranges
        return {"rules": clean, "mode": mode, "parse": parse}

    def _store(
        self,
        project_id: str,
        *,
        api: str,
        job_type: str,
        job_config: dict[str, Any],
        parse_config: dict[str, Any] | None,
        classify: dict[str, Any] | None,
        spec: dict[str, Any],
        webhooks: list[dict[str, Any]],
        directory_id: str | None,
        item_ids: builtins.list[str] | None,
        max_concurrency: int | None,
    ) -> Row:
        if (directory_id is None) == (item_ids is None):
            raise ValidationFailed.single(
                [], "Give either directory_id or item_ids", input=None, type="missing"
            )
        # The request models bound max_concurrency (1-10000).
        concurrency = self.limits.max_concurrency if max_concurrency is None else max_concurrency
        resolved: list[tuple[str, str, str, str, int]] | None = None
        if item_ids is not None:
            resolved = self._resolve_items(project_id, self._checked_item_ids(item_ids))
        else:
            self._check_directory(project_id, str(directory_id))
        now = utcnow()
        batch_id = new_id(BATCH_ID_PREFIX)
        row: Row = {
            "id": batch_id,
            "project_id": project_id,
            "api": api,
            "job_type": job_type,
            "directory_id": directory_id,
            "status": CREATING,
            "job_config": job_config,
            "parse_configuration": parse_config,
            "classify": classify,
            "parameters_hash": parameters_hash(job_type, spec),
            "webhooks": webhooks or None,
            "max_concurrency": concurrency,
            "total_items": 0,
            "error_message": None,
            "created_at": now,
            "updated_at": now,
            "started_at": None,
            "completed_at": None,
        }
        # Bounded transactions: the batch row exists as "creating" (invisible to the API and
        # the dispatcher) while its items are written chunk by chunk, each chunk read in its
        # own short transaction; the last transaction makes it "pending" with its event.
        with self.db.begin() as conn:
            conn.execute(batch_jobs_table.insert().values(**row))
        try:
            if resolved is not None:
                total = self._insert_items(batch_id, resolved)
            else:
                total = self._snapshot_directory(batch_id, str(directory_id))
            row.update(status="pending", total_items=total, updated_at=utcnow())
            c = batch_jobs_table.c
            with self.db.begin() as conn:
                conn.execute(
                    batch_jobs_table.update()
                    .where(c.id == batch_id, c.status == CREATING)
                    .values(status="pending", total_items=total, updated_at=row["updated_at"])
                )
                enqueue(
                    conn, batch_id, webhooks, event_name(row, "pending"), batch_event_data(row, {})
                )
        except BaseException:
            self._discard(batch_id)
            raise
        self.notify()
        return row

    def _checked_item_ids(self, item_ids: builtins.list[str]) -> builtins.list[str]:
        if not item_ids:
            raise ValidationFailed.single(
                ["item_ids"], "item_ids must be a non-empty list of ids", input=None
            )
        cap = self.limits.requests.max_batch_item_ids
        if len(item_ids) > cap:
            raise ValidationFailed.single(
                ["item_ids"],
                f"item_ids has {len(item_ids)} ids; at most {cap} are allowed in one request "
                "(put the files in a directory and give directory_id instead)",
                input=None,
            )
        return item_ids

    def _check_directory(self, project_id: str, directory_id: str) -> None:
        d = directories_table.c
        with self.db.begin() as conn:
            found = conn.execute(
                sa.select(d.id).where(
                    d.id == directory_id, d.project_id == project_id, d.deleted_at.is_(None)
                )
            ).first()
        if found is None:
            raise NotFoundError(f"Directory not found: {directory_id}")

    def _snapshot_directory(self, batch_id: str, directory_id: str) -> int:
        """The directory's current files as items, one read and one write transaction per
        chunk (keyset order: created_at, id); returns how many."""
        df, f = directory_files_table.c, files_table.c
        base = (
            sa.select(df.id, df.display_name, df.created_at, f.id, f.sha256, f.size_bytes)
            .join(files_table, f.id == df.file_id)
            .where(df.directory_id == directory_id, df.deleted_at.is_(None))
            .order_by(df.created_at, df.id)
        )
        position = 0
        last: tuple[Any, str] | None = None
        while True:
            query = base
            if last is not None:
                query = query.where(
                    sa.or_(
                        df.created_at > last[0], sa.and_(df.created_at == last[0], df.id > last[1])
                    )
                )
            with self.db.begin() as conn:
                chunk = list(conn.execute(query.limit(INSERT_CHUNK)))
            if not chunk:
                return position
            rows = []
            for entry_id, name, created, file_id, sha, size in chunk:
                rows.append(_item_row(batch_id, position, entry_id, name, file_id, sha, size))
                position += 1
                last = (created, entry_id)
            with self.db.begin() as conn:
                conn.execute(batch_items_table.insert(), rows)

    def _resolve_items(
        self, project_id: str, item_ids: builtins.list[str]
    ) -> builtins.list[tuple[str, str, str, str, int]]:
        """Each id (a directory file of the project, else an uploaded file) as
        (item id, name, file id, sha256, size), in the order given; reads only, in chunks."""
        df, f = directory_files_table.c, files_table.c
        found: dict[str, tuple[str, str, str, str, int]] = {}
        unique = list(dict.fromkeys(item_ids))
        for start in range(0, len(unique), _LOOKUP_CHUNK):
            chunk = unique[start : start + _LOOKUP_CHUNK]
            with self.db.begin() as conn:
                for entry in conn.execute(
                    sa.select(df.id, df.display_name, f.id, f.sha256, f.size_bytes)
                    .join(files_table, f.id == df.file_id)
                    .where(df.id.in_(chunk), df.project_id == project_id, df.deleted_at.is_(None))
                ):
                    found[entry[0]] = tuple(entry)
                missing = [i for i in chunk if i not in found]
                if missing:  # a plain uploaded file id works too
                    for entry in conn.execute(
                        sa.select(f.id, f.name, f.id, f.sha256, f.size_bytes).where(
                            f.id.in_(missing), f.project_id == project_id
                        )
                    ):
                        found[entry[0]] = tuple(entry)
        for item_id in item_ids:
            if item_id not in found:
                raise NotFoundError(f"Item not found: {item_id}")
        return [found[item_id] for item_id in item_ids]

    def _insert_items(
        self, batch_id: str, entries: builtins.list[tuple[str, str, str, str, int]]
    ) -> int:
        for start in range(0, len(entries), INSERT_CHUNK):
            rows = [
                _item_row(batch_id, start + i, *entry)
                for i, entry in enumerate(entries[start : start + INSERT_CHUNK])
            ]
            with self.db.begin() as conn:
                conn.execute(batch_items_table.insert(), rows)
        return len(entries)

    def _discard(self, batch_id: str) -> None:
        """Remove a batch that failed while being created (its items first)."""
        try:
            with self.db.begin() as conn:
                conn.execute(
                    batch_items_table.delete().where(batch_items_table.c.batch_id == batch_id)
                )
                conn.execute(
                    batch_jobs_table.delete().where(
                        batch_jobs_table.c.id == batch_id, batch_jobs_table.c.status == CREATING
                    )
                )
        except Exception:  # left "creating": removed by discard_stale_creating later
            log.warning("could not remove the unfinished batch %s", batch_id, exc_info=True)

    def discard_stale_creating(self, older_than_seconds: float = 600.0) -> int:
        """Remove batches left "creating" by a server that stopped mid-create."""
        c = batch_jobs_table.c
        cutoff = utcnow() - timedelta(seconds=older_than_seconds)
        with self.db.begin() as conn:
            stale = [
                r[0]
                for r in conn.execute(
                    sa.select(c.id).where(c.status == CREATING, c.updated_at < cutoff).limit(100)
                )
            ]
        for batch_id in stale:
            self._discard(batch_id)
        return len(stale)

    # read ---------------------------------------------------------------------------------------

    def get_row(self, project_id: str, batch_id: str, *, api: str | None = None) -> Row:
        c = batch_jobs_table.c
        query = sa.select(batch_jobs_table).where(
            c.id == batch_id, c.project_id == project_id, c.status != CREATING
        )
        if api is not None:
            query = query.where(c.api == api)
        with self.db.begin() as conn:
            found = conn.execute(query).first()
        if found is None:
            raise NotFoundError(f"Batch job not found: {batch_id}")
        return dict(found._mapping)

    def counts(self, batch_id: str) -> dict[str, int]:
        with self.db.begin() as conn:
            return counts_of(conn, [batch_id])[batch_id]

    def status(self, project_id: str, batch_id: str) -> BatchJobStatusResponse:
        """``GET /api/v1/beta/batch-processing/{job_id}``."""
        row = self.get_row(project_id, batch_id)
        counts = self.counts(batch_id)
        return BatchJobStatusResponse(
            job=to_batch_job(row, counts), progress_percentage=progress_of(row, counts)
        )

    def list(
        self,
        project_id: str,
        *,
        directory_id: str | None = None,
        job_type: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> BatchJobList:
        """``GET /api/v1/beta/batch-processing``: newest first, ``limit``/``offset`` paging."""
        limit = 50 if limit is None else limit
        offset = offset or 0
        if not 1 <= limit <= 1000 or offset < 0:
            raise ValidationFailed.single(
                ["limit"], "limit must be 1-1000 and offset >= 0", origin="parameter", input=limit
            )
        c = batch_jobs_table.c
        where: list[sa.ColumnElement[bool]] = [c.project_id == project_id, c.status != CREATING]
        if directory_id is not None:
            where.append(c.directory_id == directory_id)
        if job_type is not None:
            where.append(c.job_type == job_type.lower())
        if status is not None:
            where.append(c.status == status.lower())
        with self.db.begin() as conn:
            total = conn.execute(
                sa.select(sa.func.count()).select_from(batch_jobs_table).where(*where)
            ).scalar_one()
            rows = [
                dict(r._mapping)
                for r in conn.execute(
                    sa.select(batch_jobs_table)
                    .where(*where)
                    .order_by(c.created_at.desc(), c.id.desc())
                    .limit(limit)
                    .offset(offset)
                )
            ]
            counts = counts_of(conn, [r["id"] for r in rows])
        more = offset + len(rows) < total
        return BatchJobList(
            items=[to_batch_job(r, counts[r["id"]]) for r in rows],
            next_page_token=str(offset + len(rows)) if more else None,
            total_size=int(total),
        )

    def list_v2(
        self,
        project_id: str,
        *,
        source_directory_id: str | None,
        status: str | None,
        page_size: int | None,
        page_token: str | None,
    ) -> PaginatedList[BatchV2]:
        c = batch_jobs_table.c
        where: list[sa.ColumnElement[bool]] = [
            c.project_id == project_id,
            c.api == "v2",
            c.status != CREATING,
        ]
        if source_directory_id is not None:
            where.append(c.directory_id == source_directory_id)
        if status is not None:
            where.append(c.status.in_(V2_STATUS_IN.get(status.upper(), [status.lower()])))
        with self.db.begin() as conn:
            page = paginate(
                conn,
                batch_jobs_table,
                where,
                sort="created_at",
                descending=True,
                page_size=page_size or 50,
                page_token=page_token,
            )
        return PaginatedList[BatchV2](
            items=[to_batch_v2(row) for row in page.rows],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    def v2_results(self, batch_id: str) -> builtins.list[BatchV2Result]:
        c = batch_items_table.c
        with self.db.begin() as conn:
            rows = conn.execute(
                sa.select(c.item_id, c.job_id, c.status, c.skip_reason, c.error_message)
                .where(c.batch_id == batch_id)
                .order_by(c.position)
            )
            out = []
            for item_id, job_id, status, skip_reason, error in rows:
                result = BatchV2Result(source_directory_file_id=item_id)
                if job_id:
                    kind = "extract_v2" if job_id.startswith("exj-") else "parse_v2"
                    result.job_reference = BatchV2JobReference(id=job_id, type=kind)
                if status == "skipped" and not job_id:
                    result.error_message = f"Skipped: {skip_reason}"
                elif status == "failed" and not job_id:
                    result.error_message = error
                out.append(result)
        return out

    def items(
        self,
        project_id: str,
        batch_id: str,
        *,
        status: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> BatchItemList:
        """``GET /api/v1/beta/batch-processing/{job_id}/items`` in dispatch order."""
        self.get_row(project_id, batch_id)
        limit = 100 if limit is None else limit
        offset = offset or 0
        if not 1 <= limit <= 1000 or offset < 0:
            raise ValidationFailed.single(
                ["limit"], "limit must be 1-1000 and offset >= 0", origin="parameter", input=limit
            )
        c = batch_items_table.c
        where: list[sa.ColumnElement[bool]] = [c.batch_id == batch_id]
        if status is not None:
            where.append(c.status == status.lower())
        with self.db.begin() as conn:
            total = conn.execute(
                sa.select(sa.func.count()).select_from(batch_items_table).where(*where)
            ).scalar_one()
            rows = [
                dict(r._mapping)
                for r in conn.execute(
                    sa.select(batch_items_table)
                    .where(*where)
                    .order_by(c.position)
                    .limit(limit)
                    .offset(offset)
                )
            ]
        more = offset + len(rows) < total
        return BatchItemList(
            items=[to_batch_item(r) for r in rows],
            next_page_token=str(offset + len(rows)) if more else None,
            total_size=int(total),
        )

    def processing_results(
        self, project_id: str, item_id: str, *, job_type: str | None = None
    ) -> ItemProcessingResults:
        """``GET /api/v1/beta/batch-processing/items/{item_id}/processing-results``."""
        c, bi = processing_results_table.c, batch_items_table.c
        with self.db.begin() as conn:
            name_row = conn.execute(
                sa.select(bi.item_name)
                .join(batch_jobs_table, batch_jobs_table.c.id == bi.batch_id)
                .where(
                    bi.item_id == item_id,
                    batch_jobs_table.c.project_id == project_id,
                    batch_jobs_table.c.status != CREATING,
                )
                .order_by(bi.updated_at.desc())
                .limit(1)
            ).first()
            if name_row is None:
                raise NotFoundError(f"Item not found: {item_id}")
            where = [c.item_id == item_id, c.project_id == project_id]
            if job_type is not None:
                where.append(c.job_type == job_type.lower())
            rows = [
                dict(r._mapping)
                for r in conn.execute(
                    sa.select(processing_results_table).where(*where).order_by(c.processed_at)
                )
            ]
        return ItemProcessingResults(
            item_id=item_id,
            item_name=name_row[0],
            processing_results=[to_processing_result(r) for r in rows],
        )

    # cancel -------------------------------------------------------------------------------------

    def cancel(self, project_id: str, batch_id: str, reason: str | None = None) -> Row:
        """Stop dispatching; pending items (and their queued parse jobs) become cancelled.

        Items whose parse job is already running finish normally.
        """
        now = utcnow()
        c, bi, j = batch_jobs_table.c, batch_items_table.c, jobs_table.c
        with self.db.begin() as conn:
            row = conn.execute(
                sa.select(batch_jobs_table).where(
                    c.id == batch_id, c.project_id == project_id, c.status != CREATING
                )
            ).first()
            if row is None:
                raise NotFoundError(f"Batch job not found: {batch_id}")
            current = dict(row._mapping)
            if current["status"] == "cancelled":
                return current
            if current["status"] not in ACTIVE:
                raise InvalidRequestError(
                    f"Batch job {batch_id} is already {current['status']}; only pending, "
                    "running or dispatched jobs can be cancelled"
                )
            changed = conn.execute(
                batch_jobs_table.update()
                .where(c.id == batch_id, c.status.in_(ACTIVE))
                .values(
                    status="cancelled",
                    error_message=reason or None,
                    updated_at=now,
                    completed_at=now,
                )
            ).rowcount
            if changed != 1:  # finished meanwhile
                raise InvalidRequestError(f"Batch job {batch_id} finished before it was cancelled")
            conn.execute(
                batch_items_table.update()
                .where(bi.batch_id == batch_id, bi.status == "pending")
                .values(status="cancelled", completed_at=now, updated_at=now)
            )
            queued = (
                sa.select(bi.job_id)
                .where(bi.batch_id == batch_id, bi.status == "processing")
                .scalar_subquery()
            )
            conn.execute(
                jobs_table.update()
                .where(j.id.in_(queued), j.status == "PENDING")
                .values(status="CANCELLED", updated_at=now, finished_at=now)
            )
            current = {**current, "status": "cancelled", "updated_at": now, "completed_at": now}
            current["error_message"] = reason or None
            counts = counts_of(conn, [batch_id])[batch_id]
            enqueue(
                conn,
                batch_id,
                current["webhooks"],
                event_name(current, "cancelled"),
                batch_event_data(current, counts),
            )
        self.notify()
        return current


def _item_row(
    batch_id: str,
    position: int,
    item_id: str,
    name: str,
    file_id: str,
    sha: str,
    size: int,
) -> Row:
    now = utcnow()
    return {
        "id": new_id("bit"),
        "batch_id": batch_id,
        "position": position,
        "item_id": item_id,
        "item_name": name,
        "file_id": file_id,
        "file_sha256": sha,
        "size_bytes": size,
        "status": "pending",
        "skip_reason": None,
        "job_id": None,
        "error_message": None,
        "started_at": None,
        "completed_at": None,
        "updated_at": now,
    }
