"""uvicorn's HTTP protocol with a header deadline, for ``lamina serve``.

uvicorn closes idle keep-alive connections, but a connection that sends its request headers a
byte at a time (slowloris) is kept for ever, and enough of them exhaust the connection cap or
the process's file descriptors. This subclass gives every request ``header_timeout`` seconds
from the connection's start (or the end of the previous response) to complete its headers;
then the connection is closed. Body pauses are bounded separately
(:class:`lamina.server.limits.BodySizeLimit`).
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any


def _base_protocol() -> type[Any]:
    """httptools' protocol when installed (the ``server`` extra), else h11's, as uvicorn's
    ``auto`` would pick."""
    if importlib.util.find_spec("httptools") is not None:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return HttpToolsProtocol
    from uvicorn.protocols.http.h11_impl import H11Protocol

    return H11Protocol


def protocol_with_header_timeout(header_timeout: float) -> type[asyncio.Protocol]:
    """A uvicorn HTTP protocol class closing connections whose headers take too long."""
    base = _base_protocol()

    class HeaderDeadlineProtocol(base):  # type: ignore[misc, valid-type]
        _lamina_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            self._lamina_arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._lamina_headers_complete():
                self._lamina_disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._lamina_arm()  # the next request on this connection gets its own deadline

        def connection_lost(self, exc: Exception | None) -> None:
            self._lamina_disarm()
            super().connection_lost(exc)

        def _lamina_headers_complete(self) -> bool:
            cycle = getattr(self, "cycle", None)
            return cycle is not None and not cycle.response_complete

        def _lamina_arm(self) -> None:
            self._lamina_disarm()
            self._lamina_timer = self.loop.call_later(header_timeout, self._lamina_expired)

        def _lamina_disarm(self) -> None:
            if self._lamina_timer is not None:
                self._lamina_timer.cancel()
                self._lamina_timer = None

        def _lamina_expired(self) -> None:
            self._lamina_timer = None
            if not self._lamina_headers_complete() and not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadlineProtocol
