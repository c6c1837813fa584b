"""Worker heartbeats in the database (worker count, readiness) and a worker's health port."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import sqlalchemy as sa

from lamina.services.store.db import Database, utcnow
from lamina.services.store.tables import workers_table

log = logging.getLogger("lamina.distributed")

HEARTBEAT_SECONDS = 5.0
"""How often a ``lamina worker`` records that it is alive; three missed beats = gone."""


def beat(db: Database, worker_id: str, host: str, pid: int, concurrency: int) -> None:
    """Record (insert or refresh) one worker's heartbeat."""
    now = utcnow()
    c = workers_table.c
    with db.begin() as conn:
        updated = conn.execute(
            workers_table.update().where(c.id == worker_id).values(last_seen=now)
        ).rowcount
        if not updated:
            conn.execute(
                workers_table.insert().values(
                    id=worker_id,
                    host=host,
                    pid=pid,
                    concurrency=concurrency,
                    started_at=now,
                    last_seen=now,
                )
            )


def forget(db: Database, worker_id: str) -> None:
    with db.begin() as conn:
        conn.execute(workers_table.delete().where(workers_table.c.id == worker_id))


def live_workers(db: Database) -> list[dict[str, Any]]:
    """Workers seen within three heartbeats."""
    since = utcnow() - timedelta(seconds=3 * HEARTBEAT_SECONDS)
    with db.begin() as conn:
        rows = conn.execute(sa.select(workers_table).where(workers_table.c.last_seen >= since))
        return [dict(r._mapping) for r in rows]


class Heartbeat:
    """A thread that beats every :data:`HEARTBEAT_SECONDS` until stopped."""

    def __init__(self, db: Database, worker_id: str, host: str, pid: int, concurrency: int):
        self._args = (db, worker_id, host, pid, concurrency)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lamina-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            try:
                beat(*self._args)
            except Exception:
                log.warning("heartbeat failed", exc_info=True)
            if self._stop.wait(HEARTBEAT_SECONDS):
                return


def serve_health(port: int, ready: Callable[[], dict[str, bool]], host: str = "127.0.0.1") -> Any:
    """A tiny HTTP server in a thread: ``/health`` (alive) and ``/ready`` (each check true)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body: dict[str, Any]
            if self.path == "/health":
                status, body = 200, {"status": "ok"}
            elif self.path == "/ready":
                checks = ready()
                status = 200 if all(checks.values()) else 503
                body = {"status": "ready" if status == 200 else "not ready", "checks": checks}
            else:
                status, body = 404, {"detail": "Not Found"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="lamina-health", daemon=True).start()
    return server
