"""Workers that run parse and extract jobs, and the supervisor that keeps them alive.

Process model (``workers >= 1``)::

    server process                               worker process
                                                 (python -m lamina.services.runtime.worker)
    Supervisor ── Popen, config as JSON env ───▶ claim job by lease ─▶ engine ─▶ result files
        │  stdin: one byte = "wake up"; EOF = "exit"     │ a thread renews the lease
        ◀── stdout: JSON lines (ready/claimed/done) ─────┘
        monitor thread: restart dead workers, kill jobs over their time limit

Workers are started with ``subprocess.Popen([sys.executable, "-m", ...])``, not multiprocessing,
so the user's ``__main__`` is never re-imported. Everything crossing the boundary is JSON. The
database is the queue: a worker that dies loses its lease and the job is claimed again, up to
``max_attempts`` claims; then it fails with a message. ``workers == 0`` (inline mode) runs the
same loop in a thread of the server process: the embedded engine's default, since it starts in
no time; a job over its time limit is failed there, but its thread cannot be killed.

Runners tell listeners (``add_listener``) when a job is done, so an in-process caller
waiting for a job wakes at once instead of polling.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any, Protocol

from lamina.services.outbound import OutboundPolicy
from lamina.services.runtime.execution import ExecutionLimits, ModelEndpoint, job_timeout
from lamina.services.runtime.jobs import execute
from lamina.services.settings import ServerSettings
from lamina.services.store.backends import open_storage
from lamina.services.store.db import Database, Row
from lamina.services.store.storage import Storage, progress_text, set_durable_writes

log = logging.getLogger("lamina.worker")

CONFIG_ENV = "LAMINA_WORKER_CONFIG"
# Workers run below the API server's priority: on a busy machine a status poll is answered
# before another page is parsed (jobs lose little; p99 latency of the API gains a lot).
WORKER_NICENESS = 10
_HOST = socket.gethostname()


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker process needs, passed as JSON in ``LAMINA_WORKER_CONFIG``."""

    data_dir: str
    database_url: str
    lease_seconds: float
    max_attempts: int
    job_timeout_seconds: float
    poll_interval_seconds: float
    max_source_bytes: int
    fetch_timeout_seconds: float
    model_url: str | None = None
    model_name: str | None = None
    model_api_key: str | None = None
    model_timeout_seconds: float = 120.0
    max_pages_per_job: int | None = None
    max_image_pixels: int | None = None
    durable_writes: bool = True
    outbound_allow: tuple[str, ...] = ()
    outbound_allow_caller_proxy: bool = False
    max_running_per_project: int = 0
    storage_url: str | None = None
    storage_options: dict[str, str | int | None] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> WorkerConfig:
        return cls(
            data_dir=str(settings.data_dir),
            database_url=settings.resolved_database_url,
            lease_seconds=settings.lease_seconds,
            max_attempts=settings.max_attempts,
            job_timeout_seconds=settings.job_timeout_seconds,
            poll_interval_seconds=settings.poll_interval_seconds,
            max_source_bytes=settings.max_upload_bytes,
            fetch_timeout_seconds=settings.source_fetch_timeout_seconds,
            model_url=settings.model_url,
            model_name=settings.model_name,
            model_api_key=settings.model_api_key,
            model_timeout_seconds=settings.model_timeout_seconds,
            max_pages_per_job=settings.max_pages_per_job,
            max_image_pixels=settings.max_image_pixels,
            durable_writes=settings.durable_writes,
            outbound_allow=tuple(settings.outbound_allow),
            outbound_allow_caller_proxy=settings.outbound_allow_caller_proxy,
            max_running_per_project=settings.max_running_jobs_per_project,
            storage_url=settings.storage_url,
            storage_options=settings.storage_options,
        )

    def open_storage(self) -> Storage:
        """The deployment's storage (the data dir, or the object store)."""
        return open_storage(
            Path(self.data_dir),
            self.storage_url,
            durable=self.durable_writes,
            options=self.storage_options,
        )

    @property
    def limits(self) -> ExecutionLimits:
        return ExecutionLimits(
            self.max_source_bytes,
            self.fetch_timeout_seconds,
            model=ModelEndpoint.maybe(
                self.model_url, self.model_name, self.model_api_key, self.model_timeout_seconds
            ),
            max_pages=self.max_pages_per_job,
            max_image_pixels=self.max_image_pixels,
            outbound=OutboundPolicy(tuple(self.outbound_allow), self.outbound_allow_caller_proxy),
        )


def make_owner(kind: str) -> str:
    """A lease owner id: ``host/pid/kind-random``; host and pid let a restart spot dead owners."""
    return f"{_HOST}/{os.getpid()}/{kind}-{secrets.token_hex(4)}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_orphans(db: Database) -> int:
    """Expire the leases of RUNNING jobs whose owner was a process on this host that is gone.

    Called when a server starts: jobs left behind by a killed server are claimable at once
    instead of after their lease runs out. Owners on other hosts wait for lease expiry.
    """
    count = 0
    for job_id, owner in db.running_leases():
        host, _, rest = owner.partition("/")
        pid_text = rest.partition("/")[0]
        if host == _HOST and pid_text.isdigit() and not _pid_alive(int(pid_text)):
            count += db.expire_lease(job_id, owner)
    if count:
        log.info("re-queued %d job(s) left running by a stopped server", count)
    return count


# --- the loop every worker runs ------------------------------------------------------------------


class LeaseKeeper:
    """Renews the lease of the job being run from one long-lived thread (started on first
    use, so a job costs no thread start); calls ``on_lost`` if the job stops being ours."""

    def __init__(
        self, db: Database, owner: str, lease_seconds: float, on_lost: Callable[[], None]
    ) -> None:
        self._db, self._owner, self._lease = db, owner, lease_seconds
        self._on_lost = on_lost
        self._cond = threading.Condition()
        self._job_id: str | None = None
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def holding(self, job_id: str) -> Iterator[None]:
        """Keep ``job_id``'s lease alive for the duration of the block."""
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lamina-lease", daemon=True)
                self._thread.start()
            self._job_id = job_id
            self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self._job_id = None
                self._cond.notify_all()

    def _moved_on(self, job_id: str) -> bool:
        return self._job_id != job_id

    def _run(self) -> None:
        interval = max(self._lease / 3, 0.05)
        while True:
            with self._cond:
                while self._job_id is None:
                    self._cond.wait()
                job_id = self._job_id
                # Sleep one interval, unless the job ends (or another starts) meanwhile.
                self._cond.wait_for(partial(self._moved_on, job_id), interval)
                if self._job_id != job_id:
                    continue
            try:
                ok = self._db.renew_lease(job_id, self._owner, self._lease)
            except Exception:  # a transient database error: try again next tick
                log.warning("could not renew the lease of %s", job_id, exc_info=True)
                continue
            if not ok:
                with self._cond:
                    still_running = self._job_id == job_id
                if still_running:
                    self._on_lost()


class ProgressWriter:
    """Writes a job's pages done to storage, at most every ``interval`` seconds (a short job
    writes nothing), so ``job_metadata`` can show a long job moving."""

    def __init__(self, storage: Storage, job_id: str, interval: float = 0.5) -> None:
        self._storage, self._job_id, self._interval = storage, job_id, interval
        self._last = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self._storage.write_progress(self._job_id, done, total)


class WorkerLoop:
    """Claim a job, run it, record the outcome; sleep until woken or the poll interval ends."""

    def __init__(
        self,
        config: WorkerConfig,
        owner: str,
        *,
        on_event: Callable[[dict[str, Any]], None] = lambda _e: None,
        on_lease_lost: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self.owner = owner
        self.db = Database(config.database_url)
        self.storage = config.open_storage()
        self.wake = threading.Event()
        self.stop = threading.Event()
        self._on_event = on_event
        self._lease = LeaseKeeper(self.db, owner, config.lease_seconds, on_lease_lost)

    def run(self) -> None:
        set_durable_writes(self.config.durable_writes)  # for this thread's result files
        while not self.stop.is_set():
            try:
                worked = self.run_once()
            except Exception:
                log.exception("worker %s: unexpected error; retrying", self.owner)
                worked = False
            if not worked:
                self.wake.wait(self.config.poll_interval_seconds)
                self.wake.clear()

    def run_once(self) -> bool:
        """Run at most one job; True if one was run."""
        cfg = self.config
        row = self.db.claim_next(
            self.owner,
            cfg.lease_seconds,
            cfg.max_attempts,
            max_running_per_project=cfg.max_running_per_project or None,
        )
        if row is None:
            return False
        timeout = job_timeout(row, cfg.job_timeout_seconds)
        self._on_event(
            {"event": "claimed", "job_id": row["id"], "timeout": timeout, "kind": row["kind"]}
        )
        self._run_claimed(row)
        self._on_event({"event": "done", "job_id": row["id"]})
        return True

    def _run_claimed(self, row: Row) -> None:
        from lamina.services.logs import log_context

        with log_context(job_id=row["id"], project_id=row["project_id"]):
            self._run_in_context(row)

    def _run_in_context(self, row: Row) -> None:
        job_id = row["id"]
        log.info("job %s: started (attempt %d)", job_id, row["attempts"])
        from lamina.engine.progress import reporting

        with self._lease.holding(job_id), reporting(ProgressWriter(self.storage, job_id)):
            outcome = execute(row, self.storage, self.config.limits, cache=self.db)
        self.storage.clear_progress(job_id)
        recorded = self.db.finish_job(
            job_id,
            self.owner,
            status=outcome.status,
            error_message=outcome.error_message,
            result_summary=outcome.summary,
            cache_key=outcome.cache_key,
        )
        if not recorded:  # cancelled or deleted meanwhile: drop what we wrote
            log.info("job %s: no longer ours (cancelled or deleted); discarding", job_id)
            current = self.db.get_job(job_id)
            if current is None or current["status"] in ("CANCELLED", "FAILED"):
                self.storage.delete_results(job_id)
        else:
            log.info("job %s: %s", job_id, outcome.status)


# --- runners the server starts -----------------------------------------------------------------


class JobRunner(Protocol):
    """What the server starts in its lifespan and pokes when a job is created."""

    def start(self) -> None: ...
    def wake(self) -> None: ...
    def stop(self) -> None: ...
    def add_listener(self, listener: Callable[[dict[str, Any]], None]) -> None: ...


class _Listeners:
    """Callbacks told about ``done`` events; a failing one is logged, not fatal."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[dict[str, Any]], None]] = []

    def add_listener(self, listener: Callable[[dict[str, Any]], None]) -> None:
        self._listeners.append(listener)

    def _tell(self, event: dict[str, Any]) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("job event listener failed")


class InlineRunner(_Listeners):
    """``workers=0``: one worker loop in a daemon thread of this process.

    The same claim, limits and error capture as a worker process. A job over its time limit
    is marked FAILED when the limit passes (its result, if it ever comes, is discarded); the
    thread itself cannot be stopped, so it stays busy until the engine returns.
    """

    def __init__(self, settings: ServerSettings, db: Database) -> None:
        super().__init__()
        self._db = db
        self._loop = WorkerLoop(
            WorkerConfig.from_settings(settings), make_owner("inline"), on_event=self._on_event
        )
        self._thread: threading.Thread | None = None
        self._watch = threading.Condition()
        self._running: tuple[str, str, float, float] | None = None  # job, what, limit, deadline
        self._watchdog: threading.Thread | None = None

    def start(self) -> None:
        recover_orphans(self._db)
        self._thread = threading.Thread(target=self._loop.run, name="lamina-inline", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._loop.wake.set()

    def stop(self) -> None:
        """Stop taking jobs. A job still running is put back in the queue (it runs again on
        the next start) rather than waited for: an interrupted script exits at once."""
        self._loop.stop.set()
        self._loop.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._db.release_owner(self._loop.owner)
        self._loop.db.dispose()

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "claimed":
            timeout = float(event.get("timeout") or 0)
            what = "Extract" if event.get("kind") == "extract" else "Parse"
            with self._watch:
                if timeout > 0:
                    deadline = time.monotonic() + timeout
                    self._running = (str(event["job_id"]), what, timeout, deadline)
                    if self._watchdog is None:
                        self._watchdog = threading.Thread(
                            target=self._watch_deadlines, name="lamina-deadline", daemon=True
                        )
                        self._watchdog.start()
                self._watch.notify_all()
        elif kind == "done":
            with self._watch:
                self._running = None
                self._watch.notify_all()
            self._tell(event)  # waiters care about the end of a job, not its start

    def _watch_deadlines(self) -> None:
        while True:
            with self._watch:
                while self._running is None:
                    self._watch.wait()
                running = self._running
                left = running[3] - time.monotonic()
                if left > 0:
                    self._watch.wait(left)
                    continue
                self._running = None
            self._time_out(*running[:3])

    def _time_out(self, job_id: str, what: str, limit: float) -> None:
        log.warning("job %s exceeded its time limit of %s s; failing it", job_id, limit)
        message = f"{what} job timed out after {limit:g} s"
        progress = self._loop.storage.read_progress(job_id)
        if progress is not None:
            message += f" ({progress_text(progress)})"
        if self._db.finish_job(job_id, self._loop.owner, status="FAILED", error_message=message):
            self._tell({"event": "done", "job_id": job_id})


@dataclass
class _Handle:
    slot: int
    proc: subprocess.Popen[bytes]
    started: float
    owner: str | None = None
    job_id: str | None = None
    job_started: float = 0.0
    job_timeout: float = 0.0
    job_kind: str = "parse"
    reader: threading.Thread | None = None


class Supervisor(_Listeners):
    """Starts ``settings.workers`` worker processes and keeps them healthy."""

    def __init__(self, settings: ServerSettings, db: Database) -> None:
        super().__init__()
        self.settings = settings
        self.db = db
        self._config = WorkerConfig.from_settings(settings)
        self._handles: dict[int, _Handle] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None
        self._opened_storage: Storage | None = None

    def _storage(self) -> Storage:
        if self._opened_storage is None:
            self._opened_storage = self._config.open_storage()
        return self._opened_storage

    # lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        recover_orphans(self.db)
        for slot in range(self.settings.workers):
            self._spawn(slot)
        self._monitor = threading.Thread(target=self._watch, name="lamina-supervisor", daemon=True)
        self._monitor.start()

    def stop(self) -> None:
        """Ask every worker to exit (stdin EOF), kill stragglers, re-queue their jobs."""
        self._stopping.set()
        if self._monitor is not None:
            self._monitor.join(timeout=5)
        with self._lock:
            handles = list(self._handles.values())
        for handle in handles:
            with contextlib.suppress(OSError, ValueError):
                if handle.proc.stdin:
                    handle.proc.stdin.close()
        deadline = time.monotonic() + 5
        for handle in handles:
            try:
                handle.proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                handle.proc.kill()
                handle.proc.wait()
            if handle.owner:
                self.db.release_owner(handle.owner)
            if handle.reader is not None:
                handle.reader.join(timeout=2)

    def wake(self) -> None:
        """Tell idle workers there is work (a byte on their stdin)."""
        with self._lock:
            handles = list(self._handles.values())
        for handle in handles:
            if handle.job_id is None and handle.proc.stdin is not None:
                with contextlib.suppress(OSError, ValueError):
                    handle.proc.stdin.write(b"\n")
                    handle.proc.stdin.flush()

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [h.proc.pid for h in self._handles.values()]

    def running_jobs(self) -> dict[str, int]:
        """Job id → pid of the worker process running it, as the workers last reported."""
        with self._lock:
            return {h.job_id: h.proc.pid for h in self._handles.values() if h.job_id}

    # internals --------------------------------------------------------------------------------

    def _spawn(self, slot: int) -> None:
        env = dict(os.environ)
        env[CONFIG_ENV] = json.dumps(asdict(self._config))
        if self.settings.model_url:
            env["LAMINA_MODEL_URL"] = self.settings.model_url
        proc = subprocess.Popen(
            [sys.executable, "-m", "lamina.services.runtime.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        handle = _Handle(slot=slot, proc=proc, started=time.monotonic())
        handle.reader = threading.Thread(
            target=self._read_events, args=(handle,), name=f"lamina-worker-{slot}", daemon=True
        )
        handle.reader.start()
        with self._lock:
            self._handles[slot] = handle

    def _read_events(self, handle: _Handle) -> None:
        assert handle.proc.stdout is not None
        for raw in handle.proc.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                log.info("worker %d: %s", handle.slot, raw.decode(errors="replace").rstrip())
                continue
            kind = event.get("event")
            with self._lock:
                if kind == "ready":
                    handle.owner = event["owner"]
                elif kind == "claimed":
                    handle.job_id = event["job_id"]
                    handle.job_started = time.monotonic()
                    handle.job_timeout = float(event.get("timeout") or 0)
                    handle.job_kind = str(event.get("kind") or "parse")
                elif kind == "done":
                    handle.job_id = None
            if kind == "done":
                self._tell(event)

    def _watch(self) -> None:
        while not self._stopping.wait(0.2):
            with self._lock:
                handles = list(self._handles.values())
            for handle in handles:
                try:
                    self._check(handle)
                except Exception:
                    log.exception("supervisor: error while checking worker %d", handle.slot)

    def _check(self, handle: _Handle) -> None:
        code = handle.proc.poll()
        if code is None and handle.job_id and handle.job_timeout > 0:
            elapsed = time.monotonic() - handle.job_started
            if elapsed > handle.job_timeout:
                self._time_out(handle)
                code = handle.proc.poll()
        if code is None or self._stopping.is_set():
            return
        job_id, owner = handle.job_id, handle.owner
        if job_id and owner:
            log.warning(
                "worker %d died (exit code %s) while running %s; it will be retried",
                handle.slot,
                code,
                job_id,
            )
            self.db.expire_lease(job_id, owner)
        if handle.reader is not None:
            handle.reader.join(timeout=1)
        if time.monotonic() - handle.started < 1.0:  # crash loop: do not spin
            time.sleep(1.0)
        if not self._stopping.is_set():
            self._spawn(handle.slot)
            self.wake()

    def _time_out(self, handle: _Handle) -> None:
        job_id, owner, limit = handle.job_id, handle.owner, handle.job_timeout
        what = "Extract" if handle.job_kind == "extract" else "Parse"
        log.warning("job %s exceeded its time limit of %s s; killing its worker", job_id, limit)
        handle.proc.kill()
        handle.proc.wait()
        if job_id and owner:
            message = f"{what} job timed out after {limit:g} s"
            progress = self._storage().read_progress(job_id)
            if progress is not None:
                message += f" ({progress_text(progress)})"
            self.db.finish_job(job_id, owner, status="FAILED", error_message=message)
        with self._lock:
            handle.job_id = None
        if job_id:
            self._tell({"event": "done", "job_id": job_id})


def make_runner(settings: ServerSettings, db: Database) -> JobRunner:
    """The local executor: inline runner for ``workers == 0``, else a process supervisor (the
    container picks the Celery executor instead when a ``broker_url`` is set)."""
    if settings.workers == 0:
        return InlineRunner(settings, db)
    return Supervisor(settings, db)


# --- worker process entry point ------------------------------------------------------------------


def _watch_stdin(loop: WorkerLoop) -> None:
    """Wake on any byte; exit the process on EOF (the server closed the pipe or died)."""
    stdin = sys.stdin.buffer
    while True:
        data = stdin.read1(1024) if hasattr(stdin, "read1") else stdin.read(1)
        if not data:
            os._exit(0)
        loop.wake.set()


def main() -> int:
    """``python -m lamina.services.runtime.worker``: run jobs until stdin closes."""
    # Ctrl-C in the terminal or notebook that started the server reaches its whole process
    # group; a worker's life is tied to its stdin instead, so it ignores SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(AttributeError, OSError):  # no os.nice on Windows
        os.nice(WORKER_NICENESS)
    # Quiet by default (embedded use in a notebook or the CLI); `lamina serve --log-level`
    # sets LAMINA_LOG_LEVEL for its workers.
    from lamina.services.logs import configure as configure_logging

    configure_logging(
        os.environ.get("LAMINA_LOG_LEVEL", "WARNING"),
        text_format="%(asctime)s %(levelname)s [worker %(process)d] %(message)s",
    )
    config = WorkerConfig(**json.loads(os.environ[CONFIG_ENV]))
    # Keep the protocol channel for us; anything else printed to stdout goes to stderr.
    protocol: IO[str] = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    send_lock = threading.Lock()

    def send(event: dict[str, Any]) -> None:
        with send_lock:
            protocol.write(json.dumps(event) + "\n")

    def lease_lost() -> None:  # cancelled or deleted: stop now, the supervisor restarts us
        send({"event": "done", "job_id": None})
        os._exit(0)

    owner = make_owner("worker")
    loop = WorkerLoop(config, owner, on_event=send, on_lease_lost=lease_lost)
    send({"event": "ready", "owner": owner})
    threading.Thread(target=_watch_stdin, args=(loop,), name="stdin", daemon=True).start()
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
