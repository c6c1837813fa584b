"""``lamina serve``: run the API server (Parse v2 + Files) with uvicorn."""

from __future__ import annotations

import argparse
import contextlib
import os
from typing import Any

_EVERY_INTERFACE = ("0.0.0.0", "::", "")


def register(subparsers: Any) -> None:
    """Add the ``serve`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="serve the LlamaCloud-compatible REST API",
        description=(
            "Serve the Parse v2 and Files API. Settings not given here come from LAMINA_* "
            "environment variables (see docs/architecture.md)."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="Interface (default 127.0.0.1).")
    parser.add_argument("--port", type=int, default=8000, help="Port (default 8000).")
    parser.add_argument(
        "--data-dir", help="Where files, results and the database live (default LAMINA_HOME)."
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="Worker processes (default min(2, CPUs); 0 runs jobs in a server thread).",
    )
    parser.add_argument("--database-url", help="SQLAlchemy URL (default SQLite in the data dir).")
    parser.add_argument(
        "--broker-url",
        help=(
            "Run as an API replica: hand jobs to `lamina worker` processes through this Celery "
            "broker (amqp://... or redis://...; needs lamina[distributed] and a shared "
            "--database-url and --storage) instead of starting local workers."
        ),
    )
    parser.add_argument(
        "--storage",
        help=(
            "Storage shared by the replicas and workers: a directory (= --data-dir) or "
            "s3://bucket/prefix (needs lamina[s3]; LAMINA_S3_* settings, docs/deploy.md)."
        ),
    )
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY[:PROJECT]",
        help="Require this bearer key (repeatable; also LAMINA_API_KEYS=key[:project],...).",
    )
    parser.add_argument("--public-base-url", help="Base URL for presigned download links.")
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
    from lamina.services.logs import configure as configure_logging

    # First, so that even warnings raised while the server loads go out in the chosen format.
    log_format = configure_logging(args.log_level, args.log_format)
    say = _announcer(log_format)

    import uvicorn

    from lamina.server import ServerSettings, create_app
    from lamina.services.settings import parse_api_keys

    overrides: dict[str, Any] = {}
    if args.storage and args.storage.startswith("s3://"):
        overrides["storage_url"] = args.storage
    elif args.storage:
        overrides["data_dir"] = args.storage
    if args.data_dir and "data_dir" not in overrides:
        overrides["data_dir"] = args.data_dir
    if args.broker_url:
        overrides["broker_url"] = args.broker_url
    if args.workers is not None:
        overrides["workers"] = args.workers
    if args.database_url:
        overrides["database_url"] = args.database_url
    if args.public_base_url:
        overrides["public_base_url"] = args.public_base_url
    keys = parse_api_keys(os.environ.get("LAMINA_API_KEYS", ""))
    keys.update(parse_api_keys(args.api_key))
    overrides["api_keys"] = keys
    os.environ.setdefault("LAMINA_LOG_LEVEL", args.log_level)
    settings = ServerSettings.from_env(**overrides)
    if args.host not in _EVERY_INTERFACE and args.host not in settings.trusted_hosts:
        # The address the server was told to listen on is its own: links may point there.
        settings = settings.with_changes(trusted_hosts=(*settings.trusted_hosts, args.host))
    app = create_app(settings)
    auth_on = app.state.services.keys is not None and app.state.services.keys.any_keys()
    say(
        f"lamina: serving on http://{args.host}:{args.port} (data dir {settings.data_dir}, "
        f"{'storage ' + settings.storage_url + ', ' if settings.storage_url else ''}"
        f"{_executor(settings)}, auth {'on' if auth_on else 'off'})"
    )
    if args.host in _EVERY_INTERFACE and not settings.public_base_url:
        say(
            "lamina: presigned URLs need LAMINA_PUBLIC_BASE_URL (or LAMINA_TRUSTED_HOSTS) when "
            "serving on every interface; see docs/security.md"
        )
    _raise_file_limit(settings.max_connections)
    options = uvicorn_options(settings, args.host, args.port, args.log_level)
    if log_format == "json":
        options["log_config"] = None  # uvicorn's records go to the JSON handler too
    uvicorn.run(app, **options)
    return 0


def _announcer(log_format: str) -> Any:
    """Start-up lines: printed as text, or logged (one JSON line each) in JSON mode."""
    if log_format == "json":
        import logging

        return logging.getLogger("lamina.cli").info
    return lambda message: print(message, flush=True)


def _executor(settings: Any) -> str:
    if settings.broker_url:
        scheme = settings.broker_url.partition("://")[0]
        return f"jobs to {scheme} broker workers"
    return f"{settings.workers} worker(s)"


def uvicorn_options(settings: Any, host: str, port: int, log_level: str) -> dict[str, Any]:
    """uvicorn's settings for ``lamina serve``: a connection cap, a header deadline (slowloris),
    a short keep-alive, and a bound on the size of request headers."""
    from lamina.server.protocol import protocol_with_header_timeout

    return {
        "host": host,
        "port": port,
        "log_level": log_level,
        "http": protocol_with_header_timeout(settings.header_timeout_seconds),
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": settings.keep_alive_timeout_seconds,
        "h11_max_incomplete_event_size": 64 * 1024,
        "timeout_graceful_shutdown": 30,
    }


def _raise_file_limit(connections: int) -> None:
    """Room for ``connections`` sockets plus the database, storage and worker pipes."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 512
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
