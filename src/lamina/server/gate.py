"""The request gate: every request is authenticated, then rate-limited, before anything reads
its body, so a caller without a valid key cannot make the server receive 200 MB first, and one
key's flood is refused cheaply.

Public paths (health, the OpenAPI document and docs, presigned downloads: the signature is
their credential) pass through. A refused request gets its answer at once with
``Connection: close``; the unread body is never received.

Rate limits (:class:`~lamina.services.ratelimit.RateLimiter`) are per API key (per client
address when the server has no keys): all requests, and separately the requests that create
work (jobs and batches). Over a limit → 429 with ``Retry-After``. The embedded server
(``auth`` off) has no limits: its caller is the operator.
"""

from __future__ import annotations

import json
import math
import re

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from lamina.server.deps import authenticate
from lamina.services.container import Services
from lamina.services.logs import set_project as set_log_project
from lamina.services.ratelimit import RateLimiter

PUBLIC_PATHS = re.compile(
    r"^/(health|ready|metrics|openapi\.json|docs(/.*)?|redoc)$"
    r"|^/api/v1/beta/files/[^/]+/download$"
    r"|^/api/v2/parse/[^/]+/results/"
)
CREATE_PATHS = re.compile(
    r"^/api/v2/(parse|parse/upload|extract|batches)/?$|^/api/v1/beta/batch-processing/?$"
)
"""Requests that queue work (jobs, batches); plain uploads are bounded by their size."""


class RequestGate:
    """ASGI middleware: authenticate and rate-limit before the app sees the request."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services
        settings = services.settings
        self.limited = settings.auth
        self.requests = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
        self.creates = RateLimiter(
            settings.create_rate_limit_per_second, settings.create_rate_limit_burst
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or PUBLIC_PATHS.match(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            project, key = await authenticate(self.services, headers)
        except HTTPException as exc:
            await _answer(send, exc.status_code, str(exc.detail), dict(exc.headers or {}))
            return
        scope.setdefault("state", {})["lamina_project"] = project
        set_log_project(project)  # this request's log records name its project
        if self.limited:
            wait = self._wait(scope, key)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                await _answer(
                    send,
                    429,
                    f"Too many requests for this API key; retry after {seconds} s",
                    {"Retry-After": str(seconds)},
                )
                return
        if scope.get("method") == "POST" and CREATE_PATHS.match(scope["path"]):
            # An API replica whose broker is unreachable: work it could not hand on is refused
            # (503, retry later) rather than accepted into a queue nobody drains.
            unavailable = getattr(self.services.runner, "unavailable_for", None)
            retry = unavailable() if unavailable is not None else 0.0
            if retry > 0:
                seconds = max(1, math.ceil(retry))
                await _answer(
                    send,
                    503,
                    f"The job queue is unavailable; retry after {seconds} s",
                    {"Retry-After": str(seconds)},
                )
                return
        await self.app(scope, receive, send)

    def _wait(self, scope: Scope, key: str | None) -> float:
        client = scope.get("client")
        identity = key or f"addr:{client[0] if client else 'unknown'}"
        wait = self.requests.take(identity)
        if wait == 0 and scope.get("method") == "POST" and CREATE_PATHS.match(scope["path"]):
            wait = self.creates.take(identity)
        return wait


async def _answer(send: Send, status: int, detail: str, headers: dict[str, str]) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *((name.lower().encode(), value.encode()) for name, value in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
