"""The Celery executor: the job runner of an API replica (``lamina serve --broker-url``).

It implements the same interface as the local runners (``JobRunner``: start, wake, stop,
listeners) but starts no worker: one thread per replica releases queued jobs
to the broker (:mod:`.release`), recovers lost ones, and watches the broker, so that a create
request during a broker outage is answered 503 with ``Retry-After`` (the gate asks
:meth:`CeleryExecutor.unavailable_for`) instead of queueing work nobody can be told about.

The loops that must run once across replicas (batch dispatcher, webhook delivery, job webhook
watcher) are started by :class:`Leadership` in the replica holding the leader lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from lamina.services.runtime.distributed.celery_app import TASK_NAME, make_celery
from lamina.services.runtime.distributed.coordination import LeaderLock
from lamina.services.runtime.distributed.release import BUSY, Releaser
from lamina.services.settings import ServerSettings
from lamina.services.store.db import Database

log = logging.getLogger("lamina.distributed")

HELD_BACK_POLL_SECONDS = 0.05
"""How often the releaser looks again while projects wait at their in-flight limit."""

BROKER_RETRY_AFTER = 5
"""Seconds a caller is told to wait while the broker is unreachable."""


class CeleryExecutor:
    """Releases jobs to Celery workers; see the module docstring."""

    def __init__(
        self, settings: ServerSettings, db: Database, *, poll_seconds: float = 0.5
    ) -> None:
        assert settings.broker_url, "CeleryExecutor needs settings.broker_url"
        self.settings = settings
        self.db = db
        self.queue = settings.broker_queue
        self.app = make_celery(
            settings.broker_url,
            queue=self.queue,
            visibility_timeout=max(2 * settings.job_timeout_seconds, 600),
        )
        self.releaser = Releaser(
            db,
            self._publish,
            per_project=settings.max_inflight_per_project,
            max_attempts=settings.max_attempts,
            lease_grace_seconds=max(settings.lease_seconds, 1.0),
        )
        self.poll_seconds = poll_seconds
        self.recover_seconds = max(settings.lease_seconds / 2, 1.0)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
        self._broker_ok = True
        self._last_probe = 0.0
        self.leadership: Leadership | None = None

    # JobRunner ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="lamina-release", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.leadership is not None:
            self.leadership.stop()

    def add_listener(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Accepted for the interface; job ends are seen by polling the database here."""
        self._listeners.append(listener)

    # broker health ----------------------------------------------------------------------------

    @property
    def broker_ok(self) -> bool:
        return self._broker_ok

    def unavailable_for(self) -> float:
        """Seconds to tell a creating caller to wait (0: the broker is reachable)."""
        return 0.0 if self._broker_ok else float(BROKER_RETRY_AFTER)

    def probe_broker(self) -> bool:
        """Open a connection to the broker; records and returns whether it worked."""
        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, interval_start=0, timeout=3)
            self._broker_ok = True
        except Exception as exc:
            if self._broker_ok:
                log.warning("broker unreachable: %s", exc)
            self._broker_ok = False
        self._last_probe = time.monotonic()
        return self._broker_ok

    # internals --------------------------------------------------------------------------------

    def _publish(self, job_id: str) -> None:
        self.app.send_task(TASK_NAME, args=[job_id], queue=self.queue, retry=False)

    def _run(self) -> None:
        last_recover = 0.0
        while not self._stop.is_set():
            released = 0
            try:
                was_down = not self._broker_ok
                due = was_down or time.monotonic() - self._last_probe > 5
                if due and not self.probe_broker():
                    self._wake.wait(1.0)
                    self._wake.clear()
                    continue
                if was_down:  # the broker may have come back empty
                    log.warning("broker reachable again")
                    self.releaser.release_again()
                released = self.releaser.release()
                if time.monotonic() - last_recover > self.recover_seconds:
                    last_recover = time.monotonic()
                    self.releaser.recover()
            except sa.exc.SQLAlchemyError:
                log.warning("releaser: database error; retrying", exc_info=True)
            except Exception as exc:  # the broker refused or dropped the connection
                log.warning("releaser: could not publish (%s); retrying", exc)
                self._broker_ok = False
            if released > 0:
                continue  # maybe more waiting
            if released == BUSY:
                wait = 0.1
            elif self.releaser.held_back:  # a slot frees when a running job ends: look soon
                wait = HELD_BACK_POLL_SECONDS
            else:
                wait = self.poll_seconds
            self._wake.wait(wait)
            self._wake.clear()


class Leadership:
    """Runs ``start_loops`` while this replica holds the leader lock, ``stop_loops`` when it
    loses it (its database connection broke); checks every ``interval`` seconds."""

    def __init__(
        self,
        db: Database,
        start_loops: Callable[[], None],
        stop_loops: Callable[[], None],
        *,
        interval: float = 1.0,
    ) -> None:
        self.lock = LeaderLock(db.engine)
        self._start_loops, self._stop_loops = start_loops, stop_loops
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.leading = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="lamina-leader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        if self.leading:
            self._stop_loops()
            self.leading = False
        self.lock.release()

    def _run(self) -> None:
        while not self._stop.is_set():
            held = self.lock.check()
            if held and not self.leading:
                log.info("this replica now leads the batch dispatcher and webhook delivery")
                self._start_loops()
                self.leading = True
            elif not held and self.leading:
                log.warning("leader lock lost; stopping the batch and webhook loops")
                self._stop_loops()
                self.leading = False
            self._stop.wait(self.interval)
