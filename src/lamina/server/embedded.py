"""The in-process server the client uses when no base URL is set.

One :class:`EmbeddedServer` per data dir, process-wide. Nothing starts until a request needs
it, and then only what that request needs:

- the **services** (database, storage, a job runner) open on the first request. Jobs run in
  one background thread of this process by default (``workers=0``: the same claim, limits and
  error capture as a worker process, no process to boot); ``LAMINA_WORKERS=N`` asks for N
  worker processes instead, started with the services and kept for the life of the process.
- the **hot calls** of a parse (upload a file, create a job, poll it, read its results) are
  answered straight from those services by :class:`FastLane`, which calls the same service
  methods the HTTP routes call and encodes their answer as the app would.
- the **FastAPI app** (every other route: lists, extract, batches, downloads, error answers)
  is built on first use and served on an event loop in a daemon thread.

:class:`EmbeddedTransport` (sync) and :class:`AsyncEmbeddedTransport` serve requests from it,
so sync and async clients in any thread or event loop share one server. A job that finishes
bumps :attr:`EmbeddedServer.changes`, so a client waiting for a job wakes at once instead of
polling. Everything stops at interpreter exit.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import json
import logging
import os
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx

from lamina.server import operations
from lamina.services.settings import DEFAULT_PROJECT_ID, ServerSettings, default_data_dir

if TYPE_CHECKING:
    from fastapi import FastAPI
    from pydantic import BaseModel

    from lamina.services.container import Services

EMBEDDED_BASE_URL = "http://lamina.embedded"

_servers: dict[Path, EmbeddedServer] = {}
_servers_lock = threading.Lock()
_all_servers: weakref.WeakSet[EmbeddedServer] = weakref.WeakSet()

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


class Changes:
    """A counter bumped whenever a job finishes; waiters sleep until it moves.

    ``mark()`` before reading a job's state, then ``wait(mark, timeout)``: a change between
    the two is never missed.
    """

    def __init__(self) -> None:
        self._count = 0
        self._cond = threading.Condition()
        self._futures: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()

    def mark(self) -> int:
        return self._count

    def bump(self, _event: object = None) -> None:
        with self._cond:
            self._count += 1
            self._cond.notify_all()
            futures, self._futures = self._futures, set()
        for loop, future in futures:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, future)

    def wait(self, mark: int, timeout: float) -> None:
        """Block until the counter moves past ``mark`` or ``timeout`` seconds pass."""
        with self._cond:
            self._cond.wait_for(lambda: self._count != mark, timeout)

    async def await_change(self, mark: int, timeout: float) -> None:
        """The asyncio form of :meth:`wait` (never blocks the event loop)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (loop, future)
        with self._cond:
            if self._count != mark:
                return
            self._futures.add(entry)
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            pass
        finally:
            with self._cond:
                self._futures.discard(entry)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class EmbeddedServer:
    """The Lamina services of one data dir, and the app over them once a request needs it."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self._reset()
        _all_servers.add(self)

    def _reset(self) -> None:
        """Forget every service, thread and lock: the state of a new server. A forked child
        calls this on the servers it inherited: their threads did not survive the fork, their
        locks may be held for ever, and their database connections and pipes belong to the
        parent, so the child must neither use nor close them."""
        self.changes = Changes()
        self._lock = threading.RLock()
        self._services: Services | None = None
        self._fast: FastLane | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._transport: httpx.ASGITransport | None = None
        self._app_error: BaseException | None = None

    @property
    def running(self) -> bool:
        """True once the services (database, job runner) are open."""
        return self._services is not None

    @property
    def app_running(self) -> bool:
        """True once the FastAPI app was needed and built."""
        return self._transport is not None and self._thread is not None

    def start(self) -> Services:
        """Open the services and start the job runner (idempotent, thread-safe)."""
        services = self._services
        if services is not None:
            return services
        with self._lock:
            if self._services is None:
                from lamina.engine import preload
                from lamina.server.links import DOWNLOADS
                from lamina.services.container import Services

                preload()  # before the job thread starts: see preload() on forks

                opened = Services.open(self.settings, downloads=DOWNLOADS, batch=False)
                opened.runner.add_listener(self.changes.bump)
                opened.runner.start()
                self._fast = FastLane(opened)
                self._services = opened
            return self._services

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the app's loop, the batch threads and the job runner; close the database."""
        with self._lock:
            loop, thread, services = self._loop, self._thread, self._services
            self._loop = self._thread = self._transport = None
            self._services = self._fast = None
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
        if services is not None:
            services.stop()

    # --- serving ---------------------------------------------------------------------------

    def answer_fast(self, request: httpx.Request, body: bytes) -> Answer | None:
        """The answer to a hot-path request straight from the services, or None when the app
        must answer it (another route, or anything but the plain success case)."""
        if not FastLane.handles(request.method, request.url.path):
            return None
        self.start()
        fast = self._fast
        return fast.answer(request, body) if fast is not None else None

    def submit(self, request: httpx.Request) -> concurrent.futures.Future[Answer]:
        """Schedule ``request`` (its body already read) on the app's loop."""
        self._ensure_app()
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(self._handle(request), self._loop)

    def _ensure_app(self) -> None:
        if self.app_running:
            return
        services = self.start()
        with self._lock:
            if self.app_running:
                return
            from lamina.server.app import create_app

            services.start_batch()  # batches and webhooks arrive through the app's routes
            app = create_app(services=services)
            ready = threading.Event()
            self._app_error = None
            thread = threading.Thread(
                target=self._main, args=(app, ready), name="lamina-embedded", daemon=True
            )
            thread.start()
            ready.wait()
            if self._app_error is not None:
                raise RuntimeError("the embedded Lamina app failed to start") from self._app_error
            self._thread = thread

    def _main(self, app: FastAPI, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            self._transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            self._loop = loop
        except BaseException as exc:  # reported to _ensure_app
            self._app_error = exc
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _handle(self, request: httpx.Request) -> Answer:
        assert self._transport is not None
        response = await self._transport.handle_async_request(request)
        body = await response.aread()
        return response.status_code, response.headers.raw, body


def get_embedded_server(data_dir: str | Path | None = None, **settings: Any) -> EmbeddedServer:
    """The process-wide embedded server for ``data_dir`` (``LAMINA_HOME`` or ``~/.cache/lamina``).

    Settings come from ``LAMINA_*`` variables and ``settings`` overrides; authentication is
    always off in-process. Jobs run in a thread of this process unless ``LAMINA_WORKERS`` (or
    ``workers=``) asks for worker processes. The caller is the operator here, so outbound
    requests may reach any address unless ``LAMINA_OUTBOUND_ALLOW`` says otherwise.
    """
    root = Path(data_dir).expanduser().resolve() if data_dir else default_data_dir().resolve()
    with _servers_lock:
        server = _servers.get(root)
        if server is None:
            overrides: dict[str, Any] = {"durable_writes": False}
            if not os.environ.get("LAMINA_WORKERS", "").strip():
                overrides["workers"] = 0
            if not os.environ.get("LAMINA_OUTBOUND_ALLOW"):
                overrides["outbound_allow"] = ("*",)
            forced = {"data_dir": root, "api_keys": {}, "auth": False}
            config = ServerSettings.from_env(**{**overrides, **settings, **forced})
            level = os.environ.get("LAMINA_LOG_LEVEL", "").strip().upper()
            if level:  # jobs run in this process: their log lines go to the "lamina" logger
                logging.getLogger("lamina").setLevel(level)
            server = _servers[root] = EmbeddedServer(config)
        return server


def shutdown_all() -> None:
    """Stop every embedded server (registered with :mod:`atexit`)."""
    with _servers_lock:
        servers = list(_servers.values())
    for server in servers:
        server.stop()


atexit.register(shutdown_all)


def _after_fork_in_child() -> None:
    """A forked child (``multiprocessing`` with fork, a forking server) starts its own
    services on its first request instead of waiting on the parent's job runner, which does not
    run here, and never stops the parent's (which raised ``BrokenPipeError`` at exit)."""
    global _servers_lock
    _servers_lock = threading.Lock()
    for server in list(_all_servers):
        server._reset()


os.register_at_fork(after_in_child=_after_fork_in_child)


# --- the fast lane -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Upload:
    filename: str | None
    content_type: str | None
    data: bytes


class _NotPlain(Exception):
    """The request is not the plain case the fast lane answers; the app answers it."""


class FastLane:
    """Upload, create, poll and read a parse job by calling the services the routes call.

    It answers only the success path; an error of any kind (bad body, unknown id, a limit)
    returns None and the app answers the same request, so every error body comes from the
    one place that makes them (:mod:`lamina.server.errors`). None of these calls changes
    anything before it can fail, so answering twice is safe.
    """

    _FILES = "/api/v1/beta/files"
    _PARSE = "/api/v2/parse"

    def __init__(self, services: Services) -> None:
        self.services = services

    @classmethod
    def handles(cls, method: str, path: str) -> bool:
        if method == "POST":
            return path in (cls._FILES, cls._PARSE)
        if method == "GET" and path.startswith(cls._PARSE + "/"):
            rest = path[len(cls._PARSE) + 1 :]
            return bool(rest) and "/" not in rest and rest != "versions"
        return False

    def answer(self, request: httpx.Request, body: bytes) -> Answer | None:
        from lamina.services.errors import ServiceError

        try:
            payload = self._dispatch(request, body)
        except (ServiceError, _NotPlain, ValueError):
            return None
        return _json_answer(payload)

    def _dispatch(self, request: httpx.Request, body: bytes) -> BaseModel:
        path = request.url.path
        if request.method == "POST" and path == self._FILES:
            return self._create_file(request, body)
        if request.method == "POST":
            return self._create_parse(body)
        return self._get_parse(request, path[len(self._PARSE) + 1 :])

    @property
    def _base_url(self) -> str:
        return (self.services.settings.public_base_url or EMBEDDED_BASE_URL).rstrip("/")

    def _create_file(self, request: httpx.Request, body: bytes) -> BaseModel:
        fields, upload = _multipart(request.headers.get("content-type", ""), body)
        if upload is None or set(fields) - {"purpose", "external_file_id"}:
            raise _NotPlain
        if len(upload.data) > self.services.settings.max_upload_bytes:
            raise _NotPlain
        return operations.upload_file(
            self.services,
            DEFAULT_PROJECT_ID,
            filename=upload.filename,
            data=upload.data,
            purpose=fields.get("purpose"),
            external_file_id=fields.get("external_file_id"),
            content_type=upload.content_type,
            base_url=self._base_url,
        )

    def _create_parse(self, body: bytes) -> BaseModel:
        from pydantic import ValidationError

        from lamina.types import ParseCreateRequest

        try:
            request = ParseCreateRequest.model_validate(json.loads(body))
        except (ValidationError, ValueError) as exc:
            raise _NotPlain from exc
        if self.services.job_webhooks is None and (
            request.webhook_configurations
            or request.webhook_configuration_ids
            or request.configuration_id  # a saved configuration may carry webhooks
        ):
            raise _NotPlain  # webhook delivery opens with the app
        return operations.create_parse_job(self.services, DEFAULT_PROJECT_ID, request)

    def _get_parse(self, request: httpx.Request, job_id: str) -> BaseModel:
        query = parse_qs(urlsplit(str(request.url)).query, keep_blank_values=True)
        if set(query) - {"expand", "image_filenames", "project_id", "organization_id"}:
            raise _NotPlain
        return operations.get_parse_job(
            self.services,
            DEFAULT_PROJECT_ID,
            job_id,
            expand=query.get("expand"),
            image_filenames=query.get("image_filenames"),
            base_url=self._base_url,
        )


def _json_answer(model: BaseModel) -> Answer:
    """Encoded as the app's JSON responses are: the fields the service set (the routes'
    ``response_model_exclude_unset``), compact, UTF-8."""
    payload = model.model_dump(mode="json", exclude_unset=True)
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    data = text.encode("utf-8")
    headers = [(b"content-length", str(len(data)).encode()), (b"content-type", b"application/json")]
    return 200, headers, data


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, str], _Upload | None]:
    """Form fields and the one ``file`` part of a ``multipart/form-data`` body."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise _NotPlain
    parts: list[tuple[dict[bytes, bytes], bytearray]] = []
    header: list[bytes] = [b"", b""]

    def on_part_begin() -> None:
        parts.append(({}, bytearray()))

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header[0] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header[1] += data[start:end]

    def on_header_end() -> None:
        parts[-1][0][header[0].lower()] = header[1]
        header[0] = header[1] = b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1][1].extend(data[start:end])

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
        },
    )
    parser.write(body)
    parser.finalize()
    fields: dict[str, str] = {}
    upload: _Upload | None = None
    for headers, data in parts:
        _, options = parse_options_header(headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8")
        if b"filename*" in options or name in fields or (name == "file" and upload is not None):
            raise _NotPlain
        if name == "file" and b"filename" in options:
            ctype = headers.get(b"content-type")
            upload = _Upload(
                filename=options[b"filename"].decode("utf-8"),
                content_type=ctype.decode("latin-1") if ctype else None,
                data=bytes(data),
            )
        else:
            fields[name] = bytes(data).decode("utf-8")
    return fields, upload


# --- transports ----------------------------------------------------------------------------------


def _buffered(request: httpx.Request, body: bytes) -> httpx.Request:
    return httpx.Request(
        request.method,
        request.url,
        headers=request.headers,
        content=body,
        extensions=request.extensions,
    )


def _response(request: httpx.Request, result: Answer) -> httpx.Response:
    status, headers, body = result
    return httpx.Response(status, headers=headers, content=body, request=request)


class EmbeddedTransport(httpx.BaseTransport):
    """A sync httpx transport that serves requests from the embedded server."""

    def __init__(self, server: EmbeddedServer | None = None, *, data_dir: str | Path | None = None):
        self._server = server
        self._data_dir = data_dir

    @property
    def server(self) -> EmbeddedServer:
        if self._server is None:
            self._server = get_embedded_server(self._data_dir)
        return self._server

    @property
    def changes(self) -> Changes:
        """Bumped when a job finishes (the client's wait sleeps on it)."""
        return self.server.changes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        server = self.server
        answer = server.answer_fast(request, body)
        if answer is None:
            answer = server.submit(_buffered(request, body)).result()
        return _response(request, answer)


class AsyncEmbeddedTransport(httpx.AsyncBaseTransport):
    """An async httpx transport that serves requests from the embedded server (any loop)."""

    def __init__(self, server: EmbeddedServer | None = None, *, data_dir: str | Path | None = None):
        self._server = server
        self._data_dir = data_dir

    @property
    def server(self) -> EmbeddedServer:
        if self._server is None:
            self._server = get_embedded_server(self._data_dir)
        return self._server

    @property
    def changes(self) -> Changes:
        return self.server.changes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        server = self.server
        loop = asyncio.get_running_loop()
        # Services and app start on first use: never block this loop meanwhile.
        answer = await loop.run_in_executor(None, server.answer_fast, request, body)
        if answer is None:
            if not server.app_running:
                await loop.run_in_executor(None, server._ensure_app)
            answer = await asyncio.wrap_future(server.submit(_buffered(request, body)))
        return _response(request, answer)
