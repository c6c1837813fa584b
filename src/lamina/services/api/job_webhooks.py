"""Webhooks of single parse, extract and classify jobs (batches announce their own).

A job created with ``webhook_configurations`` or ``webhook_configuration_ids`` is registered in
``job_webhooks`` (the resolved endpoints and the last status announced). Workers change job
statuses in the database without knowing about webhooks; the :class:`JobWebhookWatcher`
thread compares each registered job's status with the one it last announced and, in one
transaction, inserts the events of the change into the webhook outbox (the same outbox and
delivery loop as batches: retries, signing, at least once) and records the new status. A
restart loses nothing: the registration and the job status are both in the database.

Events: ``<kind>.pending`` first, then ``.running`` (parse and classify; the SDK lists no
``extract.running``), and one of ``.success``, ``.error``, ``.cancelled``; a job seen for the
first time already finished gets ``pending`` and its final event. The payload's ``data`` is the
job as ``GET`` returns it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from lamina.services.api.webhooks import enqueue
from lamina.services.runtime.background import BackgroundThread
from lamina.services.store.db import Database, Row, utcnow
from lamina.services.store.tables import job_webhooks_table, jobs_table
from lamina.types import WireModel

WatchJob = Callable[[Row, list[dict[str, Any]]], None]
"""What a job-creating service calls with a new job row and its resolved webhooks."""

_FINAL = {"COMPLETED": "success", "FAILED": "error", "CANCELLED": "cancelled"}
_RUNNING_EVENTS = frozenset({"parse", "classify"})


def events_between(kind: str, announced: str | None, status: str) -> list[str]:
    """The events a job's move from ``announced`` (None: nothing yet) to ``status`` emits."""
    order = ["PENDING", "RUNNING", "FINAL"]
    start = -1 if announced is None else order.index("FINAL" if announced in _FINAL else announced)
    end = order.index("FINAL" if status in _FINAL else status)
    events = []
    for step in order[start + 1 : end + 1]:
        if step == "PENDING":
            events.append(f"{kind}.pending")
        elif step == "RUNNING" and status == "RUNNING" and kind in _RUNNING_EVENTS:
            events.append(f"{kind}.running")
        elif step == "FINAL":
            events.append(f"{kind}.{_FINAL[status]}")
    return events


def register(db: Database, job: Row, webhooks: list[dict[str, Any]]) -> None:
    """Watch ``job`` for ``webhooks`` (call right after the job row is stored)."""
    if not webhooks:
        return
    with db.begin() as conn:
        conn.execute(
            job_webhooks_table.insert().values(
                job_id=job["id"],
                project_id=job["project_id"],
                kind=job["kind"],
                webhooks=webhooks,
                announced=None,
                created_at=utcnow(),
            )
        )


class JobWebhookWatcher(BackgroundThread):
    """Turns status changes of registered jobs into outbox events (see the module docstring)."""

    thread_name = "lamina-job-webhooks"

    def __init__(
        self,
        db: Database,
        to_wire: Mapping[str, Callable[[Row], WireModel]],
        *,
        wake_delivery: Callable[[], None],
        interval: float = 0.5,
        idle_interval: float = 30.0,
    ) -> None:
        super().__init__()
        self.db = db
        self.to_wire = to_wire
        self.wake_delivery = wake_delivery
        self.interval = interval
        self.idle_interval = idle_interval

    def _run(self) -> None:
        import logging

        log = logging.getLogger("lamina.webhooks")
        while not self._stop.is_set():
            self._wake.clear()  # before the pass: a wake during it is not lost
            try:
                delay = self.step()
            except Exception:  # a bad row must not stop the loop; retried next pass
                log.exception("job webhook watcher pass failed")
                delay = self.interval * 4
            if delay:
                self._wake.wait(delay)

    def step(self) -> float:
        """One pass; returns the seconds to wait before the next."""
        w, j = job_webhooks_table.c, jobs_table.c
        with self.db.begin() as conn:
            rows = conn.execute(
                sa.select(w.job_id, w.kind, w.webhooks, w.announced, j.status)
                .select_from(job_webhooks_table.outerjoin(jobs_table, j.id == w.job_id))
                .where(sa.or_(w.announced.is_(None), j.status.is_(None), j.status != w.announced))
                .limit(200)
            ).all()
        sent = 0
        for job_id, kind, webhooks, announced, status in rows:
            sent += self._announce(job_id, kind, webhooks, announced, status)
        if sent:
            self.wake_delivery()
        if len(rows) == 200:
            return 0.0
        if not rows and not self._watching():
            return self.idle_interval  # nothing registered: ``register`` wakes the loop
        return self.interval

    def _watching(self) -> bool:
        with self.db.begin() as conn:
            return conn.execute(sa.select(job_webhooks_table.c.job_id).limit(1)).first() is not None

    def _announce(
        self,
        job_id: str,
        kind: str,
        webhooks: list[dict[str, Any]],
        announced: str | None,
        status: str | None,
    ) -> int:
        w = job_webhooks_table.c
        done = status is None or status in _FINAL
        with self.db.begin() as conn:
            if status is None:  # the job was deleted: nothing more to say
                conn.execute(job_webhooks_table.delete().where(w.job_id == job_id))
                return 0
            job = conn.execute(sa.select(jobs_table).where(jobs_table.c.id == job_id)).first()
            if job is None:
                return 0
            # The job as its route answers it: the fields its service set.
            data = self.to_wire[kind](dict(job._mapping)).model_dump(
                mode="json", exclude_unset=True
            )
            if done:
                changed = conn.execute(
                    job_webhooks_table.delete().where(
                        w.job_id == job_id, _same(w.announced, announced)
                    )
                ).rowcount
            else:
                changed = conn.execute(
                    job_webhooks_table.update()
                    .where(w.job_id == job_id, _same(w.announced, announced))
                    .values(announced=status)
                ).rowcount
            if changed != 1:  # another pass got here first
                return 0
            count = 0
            for event in events_between(kind, announced, status):
                count += enqueue(conn, job_id, webhooks, event, data)
            return count


def _same(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value
