"""``lamina worker``: a Celery worker that runs Lamina's jobs (the ``distributed`` extra)."""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``worker`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "worker",
        help="run jobs from a broker (Celery; needs lamina[distributed])",
        description=(
            "Run a Celery worker that takes job ids from the broker, claims each job by lease "
            "in the shared database and writes its results to the shared storage. Start any "
            "number, on any hosts, beside `lamina serve --broker-url ...` replicas. "
            "Settings not given here come from LAMINA_* variables (docs/deploy.md)."
        ),
    )
    parser.add_argument("--broker-url", help="Broker URL: amqp://... or redis://...")
    parser.add_argument(
        "--database-url", help="SQLAlchemy URL of the shared (PostgreSQL) database."
    )
    parser.add_argument(
        "--storage",
        help="The shared storage: the API's data dir, or s3://bucket/prefix (lamina[s3]).",
    )
    parser.add_argument(
        "--data-dir", help="Local staging dir with s3:// storage (default LAMINA_HOME)."
    )
    parser.add_argument(
        "--concurrency", type=int, default=1, help="Job processes in this worker (default 1)."
    )
    parser.add_argument(
        "--health-port", type=int, help="Serve /health and /ready on this loopback port."
    )
    parser.add_argument("--health-host", default="127.0.0.1", help="Interface of the health port.")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="Log level (default info).",
    )
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        help="text, or json: one JSON object per line with job and project ids "
        "(default LAMINA_LOG_FORMAT, else text).",
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from lamina.services.logs import configure as configure_logging

    log_format = configure_logging(
        args.log_level,
        args.log_format,
        text_format="%(asctime)s %(levelname)s [%(processName)s %(process)d] %(name)s: %(message)s",
    )

    try:
        import celery  # noqa: F401
    except ImportError:
        print(
            "lamina worker needs the distributed extra: pip install 'lamina[distributed]'",
            file=sys.stderr,
        )
        return 2
    from lamina.cli.serve import _announcer
    from lamina.services.runtime.distributed.celery_app import make_celery
    from lamina.services.runtime.distributed.heartbeat import Heartbeat, forget, serve_health
    from lamina.services.runtime.worker import CONFIG_ENV, WorkerConfig
    from lamina.services.settings import ServerSettings
    from lamina.services.store.db import Database

    overrides: dict[str, Any] = {}
    if args.storage and args.storage.startswith("s3://"):
        overrides["storage_url"] = args.storage
    elif args.storage:
        overrides["data_dir"] = args.storage
    if args.data_dir and "data_dir" not in overrides:
        overrides["data_dir"] = args.data_dir
    if args.database_url:
        overrides["database_url"] = args.database_url
    if args.broker_url:
        overrides["broker_url"] = args.broker_url
    settings = ServerSettings.from_env(**overrides)
    if not settings.broker_url:
        print("lamina worker: --broker-url (or LAMINA_BROKER_URL) is required", file=sys.stderr)
        return 2
    db = Database(settings.resolved_database_url)
    db.create_schema()  # idempotent; a worker may start before any API replica
    os.environ[CONFIG_ENV] = json.dumps(asdict(WorkerConfig.from_settings(settings)))
    os.environ.setdefault("LAMINA_LOG_LEVEL", args.log_level)
    app = make_celery(
        settings.broker_url,
        queue=settings.broker_queue,
        visibility_timeout=max(2 * settings.job_timeout_seconds, 600),
    )
    from lamina.engine import preload

    # Before any thread starts: the job processes are forked from this one, and a fork landing
    # while a thread here imports a module would leave that module locked in the child.
    preload()
    host = socket.gethostname()
    worker_id = f"{host}/{os.getpid()}"
    heartbeat = Heartbeat(db, worker_id, host, os.getpid(), args.concurrency)
    heartbeat.start()
    if args.health_port:
        storage = (
            WorkerConfig.from_settings(settings).open_storage() if settings.storage_url else None
        )

        def ready() -> dict[str, bool]:
            checks = {"database": True, "broker": True}
            try:
                with db.begin() as conn:
                    conn.exec_driver_sql("SELECT 1")
            except Exception:
                checks["database"] = False
            try:
                with app.connection_for_write() as conn:
                    conn.ensure_connection(max_retries=1, interval_start=0, timeout=3)
            except Exception:
                checks["broker"] = False
            if storage is not None:  # the object store
                try:
                    storage.check()
                    checks["storage"] = True
                except Exception:
                    checks["storage"] = False
            return checks

        ready()  # once here first: what it imports on first use is then imported (see preload)
        serve_health(args.health_port, ready, args.health_host)
    # The children are forked from this process: they must not reuse its database sockets.
    from celery.signals import worker_process_init

    worker_process_init.connect(lambda **_kw: db.engine.dispose(close=False), weak=False)
    _announcer(log_format)(
        f"lamina: worker {worker_id} on {_redact(settings.broker_url)} "
        f"(storage {settings.storage_url or settings.data_dir}, {args.concurrency} process(es))"
    )
    try:
        app.worker_main(
            [
                *(["--quiet"] if log_format == "json" else []),  # no banner: JSON lines only
                "worker",
                "--queues",
                settings.broker_queue,
                "--pool",
                "prefork",
                "--concurrency",
                str(args.concurrency),
                "--loglevel",
                args.log_level.upper(),
                "--hostname",
                f"lamina-{os.getpid()}@{host}",
                "--without-gossip",
                "--without-mingle",
            ]
        )
    finally:
        heartbeat.stop()
        with contextlib.suppress(Exception):
            forget(db, worker_id)
    return 0


def _redact(url: str) -> str:
    """A URL without its password, for logs."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        creds, _, hostpart = rest.rpartition("@")
        user = creds.partition(":")[0]
        return f"{scheme}{sep}{user}:***@{hostpart}"
    return url
