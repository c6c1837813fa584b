"""The batch dispatcher thread: dispatch pending items in windows, sync finished jobs, finish
batches. See :mod:`lamina.services.batch.service` for the design."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from lamina.services.api.webhooks import enqueue
from lamina.services.batch.wire import (
    ACTIVE,
    CLASSIFICATION_FILE,
    SYNC_WINDOW,
    BatchLimits,
    batch_event_data,
    counts_of,
    event_name,
)
from lamina.services.runtime.background import BackgroundThread
from lamina.services.store.db import Database, Row, new_id, utcnow
from lamina.services.store.storage import Storage, dump_json, write_atomic
from lamina.services.store.tables import (
    batch_items_table,
    batch_jobs_table,
    jobs_table,
    processing_results_table,
)

log = logging.getLogger("lamina.batch")


# --- the dispatcher -------------------------------------------------------------------------------


class _Rollback(Exception):
    """Raised inside a transaction to undo it (a conditional update found nothing)."""


Classifier = Callable[[str, Row], dict[str, Any]]
"""(document text, batch row) → classification dict; raises on a model failure."""


class BatchDispatcher(BackgroundThread):
    """The thread that moves batches forward (see the module docstring)."""

    thread_name = "lamina-batch"

    def __init__(
        self,
        db: Database,
        storage: Storage,
        limits: BatchLimits,
        *,
        classifier: Classifier,
        wake_workers: Callable[[], None] = lambda: None,
        wake_webhooks: Callable[[], None] = lambda: None,
        on_idle: Callable[[], object] = lambda: None,
        poll_seconds: float = 0.1,
    ) -> None:
        super().__init__()
        self.db = db
        self.storage = storage
        self.limits = limits
        self.classifier = classifier
        self.wake_workers = wake_workers
        self.wake_webhooks = wake_webhooks
        self.poll_seconds = poll_seconds
        self.on_idle = on_idle
        """Housekeeping run about once a minute (stale batch creations)."""
        self._last_housekeeping = 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.tick()
            except Exception:
                log.exception("batch dispatcher error; retrying")
                busy = False
            if not busy:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def tick(self) -> bool:
        """One pass: sync finished items, then advance each active batch. True if it did work."""
        if time.monotonic() - self._last_housekeeping > 60:
            self._last_housekeeping = time.monotonic()
            self.on_idle()
        synced = self.sync_finished()
        c = batch_jobs_table.c
        with self.db.begin() as conn:
            active = [
                dict(r._mapping)
                for r in conn.execute(
                    sa.select(batch_jobs_table)
                    .where(c.status.in_(ACTIVE))
                    .order_by(c.created_at, c.id)
                )
            ]
        dispatched = 0
        for batch in active:
            if self._stop.is_set():
                break
            dispatched += self.advance(batch)
        if dispatched:
            self.wake_workers()
        return synced >= SYNC_WINDOW

    # sync ---------------------------------------------------------------------------------------

    def sync_finished(self) -> int:
        """Items whose parse job ended → their final status (and result); returns how many."""
        bi, j = batch_items_table.c, jobs_table.c
        terminal = ("COMPLETED", "FAILED", "CANCELLED")
        with self.db.begin() as conn:
            found = [
                (dict(r._mapping), r.job_status, r.job_error)
                for r in conn.execute(
                    sa.select(
                        batch_items_table,
                        j.status.label("job_status"),
                        j.error_message.label("job_error"),
                    )
                    .join(jobs_table, j.id == bi.job_id)
                    .where(bi.status == "processing", j.status.in_(terminal))
                    .limit(SYNC_WINDOW)
                )
            ]
            orphans = [
                dict(r._mapping)
                for r in conn.execute(
                    sa.select(batch_items_table)
                    .outerjoin(jobs_table, j.id == bi.job_id)
                    .where(bi.status == "processing", j.id.is_(None))
                    .limit(SYNC_WINDOW)
                )
            ]
        batches: dict[str, Row] = {}
        for item, job_status, job_error in found:
            batch = batches.get(item["batch_id"]) or self._batch(item["batch_id"])
            batches[batch["id"]] = batch
            try:
                self._finish_item(batch, item, job_status, job_error)
            except Exception:
                log.exception("batch %s: could not record item %s", batch["id"], item["id"])
        for item in orphans:
            self._set_item(item, "failed", error="The item's parse job was deleted")
        return len(found) + len(orphans)

    def _batch(self, batch_id: str) -> Row:
        with self.db.begin() as conn:
            row = conn.execute(
                sa.select(batch_jobs_table).where(batch_jobs_table.c.id == batch_id)
            ).first()
        assert row is not None
        return dict(row._mapping)

    def _finish_item(self, batch: Row, item: Row, job_status: str, job_error: str | None) -> None:
        if job_status == "CANCELLED":
            self._set_item(item, "cancelled")
            return
        if job_status == "FAILED":
            self._set_item(item, "failed", error=job_error or "The parse job failed")
            return
        result_id = new_id("res")
        job_config = batch["job_config"]
        output_metadata: dict[str, Any] | None
        if batch["job_type"] == "classify":
            text = self.storage.read_result_text(item["job_id"], "text_full.txt") or ""
            try:
                classification = self.classifier(text, batch)
            except Exception as exc:
                self._set_item(item, "failed", error=f"Classification failed: {exc}")
                return
            folder_id = result_id
            with self.storage.staged_results(folder_id) as staging:
                write_atomic(staging / CLASSIFICATION_FILE, dump_json(classification))
            output_path = self.storage.result_uri(folder_id, CLASSIFICATION_FILE)
            output_metadata = {
                "type": classification.get("type"),
                "confidence": classification.get("confidence"),
                "parse_job_id": item["job_id"],
            }
        elif batch["job_type"] == "extract":
            output_path = self.storage.result_uri(item["job_id"])
            output_metadata = {"extract_job_id": item["job_id"]}
        else:
            output_path = self.storage.result_uri(item["job_id"])
            output_metadata = {"parse_job_id": item["job_id"]}
        result = {
            "id": result_id,
            "project_id": batch["project_id"],
            "item_id": item["item_id"],
            "batch_item_id": item["id"],
            "batch_id": batch["id"],
            "job_type": batch["job_type"],
            "job_id": item["job_id"],
            "job_config": job_config,
            "parameters_hash": batch["parameters_hash"],
            "file_sha256": item["file_sha256"],
            "output_path": output_path,
            "output_metadata": output_metadata,
            "processed_at": utcnow(),
        }
        self._set_item(item, "completed", result=result)

    def _set_item(
        self,
        item: Row,
        status: str,
        *,
        error: str | None = None,
        skip_reason: str | None = None,
        job_id: str | None = None,
        result: Row | None = None,
        from_status: str = "processing",
    ) -> bool:
        """Conditionally move an item on (and record its result) in one transaction."""
        now = utcnow()
        values: dict[str, Any] = {
            "status": status,
            "updated_at": now,
            "completed_at": now,
            "error_message": error,
        }
        if skip_reason is not None:
            values["skip_reason"] = skip_reason
        if job_id is not None:
            values["job_id"] = job_id
        bi = batch_items_table.c
        try:
            with self.db.begin() as conn:
                changed = conn.execute(
                    batch_items_table.update()
                    .where(bi.id == item["id"], bi.status == from_status)
                    .values(**values)
                ).rowcount
                if changed != 1:
                    raise _Rollback
                if result is not None:
                    conn.execute(processing_results_table.insert().values(**result))
        except _Rollback:
            return False
        return True

    # dispatch -----------------------------------------------------------------------------------

    def advance(self, batch: Row) -> int:
        """Start, dispatch a window of, or finish one batch; returns jobs dispatched."""
        if batch["status"] == "pending" and not self._transition(batch, "pending", "running"):
            return 0
        bi = batch_items_table.c
        with self.db.begin() as conn:
            counts = counts_of(conn, [batch["id"]])[batch["id"]]
            free = batch["max_concurrency"] - counts.get("processing", 0)
            pending = []
            if free > 0 and counts.get("pending", 0):
                pending = [
                    dict(r._mapping)
                    for r in conn.execute(
                        sa.select(batch_items_table)
                        .where(bi.batch_id == batch["id"], bi.status == "pending")
                        .order_by(bi.position)
                        .limit(free)
                    )
                ]
        dispatched = 0
        for item in pending:
            if self._stop.is_set():
                break
            dispatched += self._dispatch(batch, item)
        if pending:
            with self.db.begin() as conn:
                counts = counts_of(conn, [batch["id"]])[batch["id"]]
        if not counts.get("pending", 0):
            if not counts.get("processing", 0):
                total = batch["total_items"]
                failed_all = total > 0 and counts.get("failed", 0) == total
                final = "failed" if failed_all else "completed"
                error = f"All {total} items failed" if failed_all else None
                self._transition(batch, None, final, error=error)
            elif batch["status"] == "running":
                self._transition(batch, "running", "dispatched", quiet=True)
        return dispatched

    def _transition(
        self,
        batch: Row,
        from_status: str | None,
        to_status: str,
        *,
        error: str | None = None,
        quiet: bool = False,
    ) -> bool:
        """Conditionally change a batch's status and enqueue its webhook event, atomically."""
        now = utcnow()
        c = batch_jobs_table.c
        values: dict[str, Any] = {"status": to_status, "updated_at": now}
        if to_status == "running":
            values["started_at"] = now
        if to_status in ("completed", "failed"):
            values["completed_at"] = now
            values["error_message"] = error
        allowed = [from_status] if from_status else list(ACTIVE)
        with self.db.begin() as conn:
            changed = conn.execute(
                batch_jobs_table.update()
                .where(c.id == batch["id"], c.status.in_(allowed))
                .values(**values)
            ).rowcount
            if changed != 1:
                return False
            batch.update(values)
            if not quiet:
                counts = counts_of(conn, [batch["id"]])[batch["id"]]
                event = event_name(batch, to_status, counts)
                data = batch_event_data(batch, counts)
                if enqueue(conn, batch["id"], batch["webhooks"], event, data):
                    self.wake_webhooks()
        if to_status in ("completed", "failed"):
            log.info("batch %s: %s", batch["id"], to_status)
        return True

    def _dispatch(self, batch: Row, item: Row) -> int:
        """Skip the item, or create its parse job and mark it processing (one transaction)."""
        limit = self.limits.max_file_bytes
        if limit is not None and item["size_bytes"] > limit:
            self._set_item(
                item,
                "skipped",
                skip_reason="size_limit_exceeded",
                error=f"File is {item['size_bytes']} bytes; the batch limit is {limit}",
                from_status="pending",
            )
            return 0
        pr = processing_results_table.c
        with self.db.begin() as conn:
            previous = conn.execute(
                sa.select(pr.job_id)
                .where(
                    pr.project_id == batch["project_id"],
                    pr.file_sha256 == item["file_sha256"],
                    pr.parameters_hash == batch["parameters_hash"],
                    pr.job_type == batch["job_type"],
                )
                .order_by(pr.processed_at.desc())
                .limit(1)
            ).first()
        if previous is not None:
            self._set_item(
                item,
                "skipped",
                skip_reason="already_processed",
                job_id=previous[0],
                from_status="pending",
            )
            return 0
        if batch["job_type"] == "classify":
            config = batch["classify"]["parse"]
        else:
            config = batch["parse_configuration"]
        now = utcnow()
        extract = batch["job_type"] == "extract"  # an extract_v2 job per item
        job_id = new_id("exj" if extract else "pjb")
        job_row: Row = {
            "id": job_id,
            "project_id": batch["project_id"],
            "kind": "extract" if extract else "parse",
            "file_input": item["file_id"] if extract else None,
            "file_id": item["file_id"],
            "source_url": None,
            "http_proxy": None,
            "status": "PENDING",
            "tier": config.get("tier") or "cost_effective",
            "name": item["item_name"],
            "configuration": config,
            "raw_parameters": {**config, "file_id": item["file_id"]},
            "user_metadata": {"batch_id": batch["id"], "batch_item_id": item["item_id"]},
            "error_message": None,
            "created_at": now,
            "updated_at": now,
            "attempts": 0,
        }
        bi = batch_items_table.c
        try:
            with self.db.begin() as conn:
                changed = conn.execute(
                    batch_items_table.update()
                    .where(bi.id == item["id"], bi.status == "pending")
                    .values(status="processing", job_id=job_id, started_at=now, updated_at=now)
                ).rowcount
                if changed != 1:
                    raise _Rollback
                conn.execute(jobs_table.insert().values(**job_row))
        except _Rollback:
            return 0
        return 1
