"""An ASGI guard that refuses request bodies over the upload limit while they stream in, and
bodies that stop arriving (a pause longer than ``body_timeout`` → 408).

Starlette reads a multipart body as it arrives (file parts spill to disk above 1 MB), so the
route's own size check only runs once the whole body has been received. This middleware
counts the bytes as the app pulls them: a declared ``Content-Length`` over the limit gets 413
before anything is read, and a body (chunked or lying about its length) that crosses the limit
stops the app at that chunk and answers 413, so no more than the limit is ever buffered.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPART_SLACK = 1024 * 1024
"""Room for multipart boundaries and form fields on top of the file limit."""


class _BodyTooLarge(Exception):
    """Raised from ``receive`` when the body crosses the limit (caught by the middleware)."""


class BodySizeLimit:
    """Answer 413 to requests whose body exceeds the limit (declared or streamed):
    ``max_bytes`` for multipart uploads, ``max_other_bytes`` (default the same) for any other
    body (JSON)."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        max_other_bytes: int | None = None,
        body_timeout: float | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_other_bytes = max_other_bytes if max_other_bytes is not None else max_bytes
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes if _is_multipart(scope) else self.max_other_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(send, limit)
            return
        state: dict[str, Any] = {
            "received": 0,
            "exceeded": False,
            "started": False,
            "body_done": False,
            "timed_out": False,
        }

        async def limited_receive() -> Message:
            if state["exceeded"] or state["timed_out"]:
                raise _BodyTooLarge
            if self.body_timeout and not state["body_done"]:
                try:
                    message = await asyncio.wait_for(receive(), self.body_timeout)
                except TimeoutError:
                    state["timed_out"] = True
                    raise _BodyTooLarge from None
            else:
                message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if not message.get("more_body", False):
                    state["body_done"] = True
                if state["received"] > limit:
                    state["exceeded"] = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if state["exceeded"] or state["timed_out"]:
                return  # whatever the app answers to the interrupted body is replaced
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not (state["exceeded"] or state["timed_out"]):
                raise
        if state["started"]:
            return
        if state["exceeded"]:
            await self._refuse(send, limit)
        elif state["timed_out"]:
            message = f"The request body stopped arriving for {self.body_timeout:g} s"
            await self._refuse(send, limit, status=408, message=message)

    async def _refuse(
        self, send: Send, limit: int, *, status: int = 413, message: str | None = None
    ) -> None:
        body = json.dumps(
            {"detail": message or f"Request body is larger than the limit of {limit} bytes"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _is_multipart(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return value.lower().startswith(b"multipart/")
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
