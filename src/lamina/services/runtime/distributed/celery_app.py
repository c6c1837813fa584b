"""The Celery application (one task, ``lamina.run_job``) and what a worker does with it.

Delivery guarantees come from two places. The broker's: the task is acknowledged late (after
it ran), a worker process lost mid-task makes the message go back to the queue
(``task_reject_on_worker_lost``), a failure or time-out is not acknowledged as done
(``task_acks_on_failure_or_timeout=False``), messages are persistent on durable queues (a
broker restart keeps them). The database's: a delivered job id is claimed by lease with a
conditional update (:meth:`Database.claim_job`), the result is recorded only by the lease
holder of that attempt, and ``attempts`` counts claims, so a job that kills its worker
``max_attempts`` times is failed with a message instead of being redelivered forever. A
message that arrives twice, or for a finished or cancelled job, is acknowledged and dropped.

Each worker process (Celery's prefork children) builds its own :class:`JobWorker` on its first
task, after the fork: its own database connections, its own lease owner id.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from typing import TYPE_CHECKING, Any

from lamina.services.runtime.execution import job_timeout
from lamina.services.runtime.worker import (
    CONFIG_ENV,
    WorkerConfig,
    WorkerLoop,
    _pid_alive,
    make_owner,
)
from lamina.services.store.db import Database
from lamina.services.store.storage import progress_text

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger("lamina.distributed")

TASK_NAME = "lamina.run_job"
QUEUE = "lamina"
_HOST = socket.gethostname()


def make_celery(
    broker_url: str, *, queue: str = QUEUE, visibility_timeout: float = 7200.0
) -> Celery:
    """A Celery app on ``broker_url`` with Lamina's delivery settings and its one task.

    ``visibility_timeout`` (Redis only: when an unacknowledged message is delivered again)
    must exceed the longest job; until it passes, a job whose worker died is published again
    by the replicas' lease recovery instead.
    """
    from celery import Celery

    app = Celery("lamina", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_acks_on_failure_or_timeout=False,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=queue,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        broker_connection_timeout=3,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": visibility_timeout},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        broker_heartbeat=10,
    )
    app.task(name=TASK_NAME, ignore_result=True)(run_job)
    return app


def run_job(job_id: str) -> str:
    """The task: run ``job_id`` once if it is ours to run; returns what happened."""
    return _job_worker().run(job_id)


_WORKER: JobWorker | None = None
_WORKER_LOCK = threading.Lock()


def _job_worker() -> JobWorker:
    global _WORKER
    with _WORKER_LOCK:
        if _WORKER is None or _WORKER.pid != os.getpid():  # built after the fork, per process
            _WORKER = JobWorker(WorkerConfig(**json.loads(os.environ[CONFIG_ENV])))
        return _WORKER


class JobWorker:
    """Claims a delivered job, runs it with the local worker's code, records the outcome."""

    def __init__(self, config: WorkerConfig) -> None:
        self.pid = os.getpid()
        self.config = config
        self.owner = make_owner("celery")
        self.loop = WorkerLoop(config, self.owner, on_lease_lost=self._lease_lost)
        self.db: Database = self.loop.db

    def run(self, job_id: str) -> str:
        from lamina.services.logs import log_context

        with log_context(job_id=job_id):
            return self._run(job_id)

    def _run(self, job_id: str) -> str:
        cfg = self.config
        row = self.db.claim_job(job_id, self.owner, cfg.lease_seconds, cfg.max_attempts)
        if row is None:
            current = self.db.get_job(job_id, summary=True)
            if current is None:
                return "gone"
            owner = current.get("lease_owner") or ""
            if current["status"] == "RUNNING" and _dead_here(owner):
                # Its worker process died on this host: no need to wait for the lease.
                self.db.expire_lease(job_id, owner)
                row = self.db.claim_job(job_id, self.owner, cfg.lease_seconds, cfg.max_attempts)
            if row is None:
                current = self.db.get_job(job_id, summary=True)
                status = current["status"] if current else "gone"
                log.info("job %s: not claimable (%s); message dropped", job_id, status)
                return str(status).lower()
        timeout = job_timeout(row, cfg.job_timeout_seconds)
        timer = None
        if timeout > 0:
            timer = threading.Timer(timeout, self._time_out, args=(row, timeout))
            timer.daemon = True
            timer.start()
        try:
            self.loop._run_claimed(row)
        finally:
            if timer is not None:
                timer.cancel()
        return "ran"

    def _time_out(self, row: dict[str, Any], limit: float) -> None:
        """Fail a job over its time limit, then end this process (the engine's thread cannot
        be stopped); Celery starts a new one, the message comes back and finds it FAILED."""
        job_id = row["id"]
        what = "Extract" if row.get("kind") == "extract" else "Parse"
        message = f"{what} job timed out after {limit:g} s"
        progress = self.loop.storage.read_progress(job_id)
        if progress is not None:
            message += f" ({progress_text(progress)})"
        log.warning("job %s exceeded its time limit of %s s; failing it", job_id, limit)
        with contextlib.suppress(Exception):
            self.db.finish_job(job_id, self.owner, status="FAILED", error_message=message)
        os._exit(1)

    def _lease_lost(self) -> None:
        """The job was cancelled or deleted while running: stop working on it now."""
        log.info("lease lost (job cancelled or deleted); restarting this worker process")
        os._exit(0)


def _dead_here(owner: str) -> bool:
    """Whether a lease owner (``host/pid/...``) is a process of this host that has ended."""
    host, _, rest = owner.partition("/")
    pid_text = rest.partition("/")[0]
    return host == _HOST and pid_text.isdigit() and not _pid_alive(int(pid_text))
