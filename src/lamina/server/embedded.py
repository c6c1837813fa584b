"""The in-process server the client uses when no base URL is set.

One :class:`EmbeddedServer` per data dir, process-wide, started on first use: it runs the same
ASGI app (with its lifespan, hence its workers) on an event loop in a background daemon thread.
:class:`EmbeddedTransport` (sync) and :class:`AsyncEmbeddedTransport` hand each request to that
loop, so sync and async clients in any thread or event loop share one running app. It shuts down
at interpreter exit.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import threading
from pathlib import Path
from typing import Any

import httpx

from lamina.services.settings import ServerSettings, default_data_dir

EMBEDDED_BASE_URL = "http://lamina.embedded"

_servers: dict[Path, EmbeddedServer] = {}
_servers_lock = threading.Lock()


class EmbeddedServer:
    """The Lamina app running on a private event loop in a daemon thread."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._transport: httpx.ASGITransport | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._ready.is_set()

    def start(self) -> None:
        """Start the app and its workers (idempotent, thread-safe); raises if startup fails."""
        with self._lock:
            if self.running:
                return
            self._ready.clear()
            self._error = None
            self._thread = threading.Thread(target=self._main, name="lamina-embedded", daemon=True)
            self._thread.start()
            self._ready.wait()
            if self._error is not None:
                raise RuntimeError("the embedded Lamina server failed to start") from self._error

    def stop(self, timeout: float = 30.0) -> None:
        """Run the app's shutdown (stops workers) and end the thread."""
        with self._lock:
            loop, stop, thread = self._loop, self._stop, self._thread
            if loop is None or stop is None or thread is None or not thread.is_alive():
                return
            loop.call_soon_threadsafe(stop.set)
            thread.join(timeout)

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start() if it happens during startup
            self._error = exc
        finally:
            self._ready.set()
            loop.close()

    async def _serve(self) -> None:
        from lamina.server.app import create_app

        app = create_app(self.settings)
        self._stop = asyncio.Event()
        self._transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with app.router.lifespan_context(app):
            self._ready.set()
            await self._stop.wait()

    async def _handle(self, request: httpx.Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        assert self._transport is not None
        response = await self._transport.handle_async_request(request)
        body = await response.aread()
        return response.status_code, response.headers.raw, body

    def submit(
        self, request: httpx.Request
    ) -> concurrent.futures.Future[tuple[int, list[tuple[bytes, bytes]], bytes]]:
        """Schedule ``request`` (its body already read) on the server's loop."""
        self.start()
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(self._handle(request), self._loop)


def get_embedded_server(data_dir: str | Path | None = None, **settings: Any) -> EmbeddedServer:
    """The process-wide embedded server for ``data_dir`` (``LAMINA_HOME`` or ``~/.cache/lamina``).

    Settings come from ``LAMINA_*`` variables and ``settings`` overrides; authentication is
    always off in-process. The caller is the operator here, so outbound requests may reach any
    address unless ``LAMINA_OUTBOUND_ALLOW`` says otherwise.
    """
    root = Path(data_dir).expanduser().resolve() if data_dir else default_data_dir().resolve()
    with _servers_lock:
        server = _servers.get(root)
        if server is None:
            trusted: dict[str, Any] = {}
            if not os.environ.get("LAMINA_OUTBOUND_ALLOW"):
                trusted["outbound_allow"] = ("*",)
            config = ServerSettings.from_env(
                **{**trusted, **settings, "data_dir": root, "api_keys": {}, "auth": False}
            )
            server = _servers[root] = EmbeddedServer(config)
        return server


def shutdown_all() -> None:
    """Stop every embedded server (registered with :mod:`atexit`)."""
    with _servers_lock:
        servers = list(_servers.values())
    for server in servers:
        server.stop()


atexit.register(shutdown_all)


def _buffered(request: httpx.Request, body: bytes) -> httpx.Request:
    return httpx.Request(
        request.method,
        request.url,
        headers=request.headers,
        content=body,
        extensions=request.extensions,
    )


def _response(
    request: httpx.Request, result: tuple[int, list[tuple[bytes, bytes]], bytes]
) -> httpx.Response:
    status, headers, body = result
    return httpx.Response(status, headers=headers, content=body, request=request)


class EmbeddedTransport(httpx.BaseTransport):
    """A sync httpx transport that serves requests from the embedded app."""

    def __init__(self, server: EmbeddedServer | None = None, *, data_dir: str | Path | None = None):
        self._server = server
        self._data_dir = data_dir

    @property
    def server(self) -> EmbeddedServer:
        if self._server is None:
            self._server = get_embedded_server(self._data_dir)
        return self._server

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        future = self.server.submit(_buffered(request, request.read()))
        return _response(request, future.result())


class AsyncEmbeddedTransport(httpx.AsyncBaseTransport):
    """An async httpx transport that serves requests from the embedded app (any event loop)."""

    def __init__(self, server: EmbeddedServer | None = None, *, data_dir: str | Path | None = None):
        self._server = server
        self._data_dir = data_dir

    @property
    def server(self) -> EmbeddedServer:
        if self._server is None:
            self._server = get_embedded_server(self._data_dir)
        return self._server

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        server = self.server
        if not server.running:  # first use starts the app; do not block this loop meanwhile
            await asyncio.get_running_loop().run_in_executor(None, server.start)
        future = server.submit(_buffered(request, body))
        return _response(request, await asyncio.wrap_future(future))
