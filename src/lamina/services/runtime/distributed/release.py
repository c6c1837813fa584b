"""Hand queued jobs to the broker fairly, and put lost ones back (the API replicas' side).

A job is created PENDING in the database as always; the releaser publishes its id to the
broker and stamps ``released_at``. At most ``per_project`` jobs of one project are released
and not yet finished at any time (0: no limit), so the broker's queue stays short and fair:
each pass serves the projects round-robin (fewest in flight first, then the one served least
recently), and within a project single jobs go before batch items, oldest first. Everything
else waits in the database, where a restart of the broker cannot lose it.

Each pass runs under a transaction advisory lock, so with N replicas one releases at a time
(any of them) and the per-project limit holds exactly. The ids are published inside the
transaction that stamps them: if publishing fails, the stamps roll back and the jobs are
released by a later pass; if the replica dies after publishing but before committing, the
jobs are released again later. A second message for a job is harmless: the worker's claim is
a conditional update, so only one run happens and a finished job's message is dropped.

:meth:`Releaser.recover` is the safety net under the broker's own redelivery: jobs whose
lease expired (their worker died and the message did not come back, e.g. Redis before its
visibility timeout) and released jobs nobody claimed for a long time are published again;
jobs whose workers died ``max_attempts`` times are failed with a message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from lamina.services.runtime.distributed.coordination import (
    RECOVER_LOCK,
    RELEASE_LOCK,
    try_xact_lock,
)
from lamina.services.store.db import Database, utcnow
from lamina.services.store.tables import batch_items_table, jobs_table, project_claims_table

log = logging.getLogger("lamina.distributed")

Publish = Callable[[str], None]
"""Send one job id to the broker; raises when the broker cannot take it."""

BUSY = -1
"""What :meth:`Releaser.release` returns when another replica holds the release lock."""


class Releaser:
    """Releases PENDING jobs to the broker (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        publish: Publish,
        *,
        per_project: int,
        max_attempts: int,
        lease_grace_seconds: float,
        stale_release_seconds: float = 600.0,
        max_per_pass: int = 200,
    ) -> None:
        self.db = db
        self.publish = publish
        self.per_project = per_project
        self.max_attempts = max_attempts
        self.lease_grace = timedelta(seconds=lease_grace_seconds)
        self.stale_release = timedelta(seconds=stale_release_seconds)
        self.max_per_pass = max_per_pass
        self.held_back = False
        """Whether the last pass left jobs waiting because their projects were at their
        limit: a worker finishing one frees a slot, so the caller should look again soon."""

    def release(self) -> int:
        """One pass: publish the next jobs; returns how many (:data:`BUSY` if another replica
        is releasing right now)."""
        now = utcnow()
        c = jobs_table.c
        self.held_back = False
        with self.db.begin() as conn:
            if not try_xact_lock(conn, RELEASE_LOCK):
                return BUSY
            waiting: dict[str, datetime] = {
                r[0]: r[1]
                for r in conn.execute(
                    sa.select(c.project_id, sa.func.min(c.created_at))
                    .where(c.status == "PENDING", c.released_at.is_(None))
                    .group_by(c.project_id)
                )
            }
            if not waiting:
                return 0
            inflight: dict[str, int] = {
                r[0]: int(r[1])
                for r in conn.execute(
                    sa.select(c.project_id, sa.func.count())
                    .where(c.released_at.is_not(None), c.status.in_(("PENDING", "RUNNING")))
                    .group_by(c.project_id)
                )
            }
            served = _last_served(conn, list(waiting))
            order = sorted(
                waiting,
                key=lambda p: (inflight.get(p, 0), served.get(p, datetime.min), waiting[p], p),
            )
            is_batch_item = sa.exists().where(batch_items_table.c.job_id == c.id)
            queues: list[list[str]] = []
            owners: dict[str, str] = {}
            for project in order:
                room = self.max_per_pass
                if self.per_project > 0:
                    room = min(room, self.per_project - inflight.get(project, 0))
                if room <= 0:
                    self.held_back = True
                    continue
                queues.append(
                    [
                        r[0]
                        for r in conn.execute(
                            sa.select(c.id)
                            .where(
                                c.status == "PENDING",
                                c.released_at.is_(None),
                                c.project_id == project,
                            )
                            .order_by(sa.case((is_batch_item, 1), else_=0), c.created_at, c.id)
                            .limit(room)
                        )
                    ]
                )
                owners.update((job_id, project) for job_id in queues[-1])
            chosen = _round_robin(queues)[: self.max_per_pass]
            if not chosen:
                return 0
            stamped = conn.execute(
                jobs_table.update()
                .where(c.id.in_(chosen), c.status == "PENDING", c.released_at.is_(None))
                .values(released_at=now)
            ).rowcount
            if stamped != len(chosen):  # one was cancelled meanwhile: publish the rest
                still = {
                    r[0]
                    for r in conn.execute(
                        sa.select(c.id).where(c.id.in_(chosen), c.released_at == now)
                    )
                }
                chosen = [job_id for job_id in chosen if job_id in still]
            for job_id in chosen:
                self.publish(job_id)
                log.info(
                    "job %s: released to the workers",
                    job_id,
                    extra={"job_id": job_id, "project_id": owners[job_id]},
                )
            _mark_served(conn, {owners[job_id] for job_id in chosen}, now)
        return len(chosen)

    def release_again(self) -> int:
        """Publish again every job released and not yet claimed: after a broker outage, whose
        restart may have emptied the queue (a broker without persistence loses it, and Redis
        loses unacknowledged deliveries). A second message for a job is harmless."""
        c = jobs_table.c
        mark = utcnow()
        total = 0
        while True:
            with self.db.begin() as conn:
                ids = [
                    r[0]
                    for r in conn.execute(
                        sa.select(c.id)
                        .where(c.status == "PENDING", c.released_at < mark)
                        .order_by(c.created_at)
                        .limit(self.max_per_pass)
                    )
                ]
                if not ids:
                    break
                now = max(utcnow(), mark)
                conn.execute(jobs_table.update().where(c.id.in_(ids)).values(released_at=now))
                for job_id in ids:
                    self.publish(job_id)
            total += len(ids)
        if total:
            log.warning("broker back: published %d queued job(s) again", total)
        return total

    def recover(self) -> int:
        """Fail jobs out of attempts; publish again lost and long-unclaimed jobs."""
        self.db.fail_exhausted(self.max_attempts)
        now = utcnow()
        c = jobs_table.c
        lease_lost = sa.and_(
            c.status == "RUNNING",
            c.lease_expires_at < now - self.lease_grace,
            sa.or_(c.released_at.is_(None), c.released_at < now - self.lease_grace),
        )
        never_claimed = sa.and_(c.status == "PENDING", c.released_at < now - self.stale_release)
        with self.db.begin() as conn:
            if not try_xact_lock(conn, RECOVER_LOCK):
                return 0
            lost = [
                r[0]
                for r in conn.execute(
                    sa.select(c.id)
                    .where(sa.or_(lease_lost, never_claimed))
                    .order_by(c.created_at)
                    .limit(self.max_per_pass)
                )
            ]
            if not lost:
                return 0
            conn.execute(jobs_table.update().where(c.id.in_(lost)).values(released_at=now))
            for job_id in lost:
                self.publish(job_id)
        log.warning("published %d job(s) again (worker lost or message lost)", len(lost))
        return len(lost)


def _round_robin(queues: list[list[str]]) -> list[str]:
    """The first of each queue, then the second of each, and so on."""
    out: list[str] = []
    depth = max((len(q) for q in queues), default=0)
    for i in range(depth):
        out.extend(q[i] for q in queues if i < len(q))
    return out


def _last_served(conn: sa.Connection, projects: list[str]) -> dict[str, datetime]:
    pc = project_claims_table.c
    served: dict[str, datetime] = {}
    for start in range(0, len(projects), 500):
        chunk = projects[start : start + 500]
        served.update(
            (r[0], r[1])
            for r in conn.execute(
                sa.select(pc.project_id, pc.last_claimed_at).where(pc.project_id.in_(chunk))
            )
        )
    return served


def _mark_served(conn: sa.Connection, projects: set[str], now: datetime) -> None:
    """Record when each project was last served (round-robin order of the next pass); under
    the release lock, so no other replica writes these rows at the same time."""
    pc = project_claims_table.c
    existing = set(_last_served(conn, sorted(projects)))
    for project in sorted(projects):
        if project in existing:
            conn.execute(
                project_claims_table.update()
                .where(pc.project_id == project)
                .values(last_claimed_at=now)
            )
        else:
            conn.execute(
                project_claims_table.insert().values(project_id=project, last_claimed_at=now)
            )
