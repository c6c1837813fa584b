"""The in-process transports, imported only when a client runs without a base URL.

This is the one place the client reaches into the server package (``tests/test_layers.py``
allows it): importing the server pulls in FastAPI, SQLAlchemy and the engine, which
``import lamina`` must not.
"""

from __future__ import annotations

from pathlib import Path

import httpx


def embedded_transport(data_dir: Path | None) -> httpx.BaseTransport:
    """A transport that runs the Lamina server app in this process."""
    from lamina.server.embedded import EmbeddedTransport

    return EmbeddedTransport(data_dir=data_dir) if data_dir is not None else EmbeddedTransport()


def async_embedded_transport(data_dir: Path | None) -> httpx.AsyncBaseTransport:
    """The asyncio form of :func:`embedded_transport`."""
    from lamina.server.embedded import AsyncEmbeddedTransport

    if data_dir is not None:
        return AsyncEmbeddedTransport(data_dir=data_dir)
    return AsyncEmbeddedTransport()
