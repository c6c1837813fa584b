"""The Lamina client: :class:`Client` and :class:`AsyncClient` over HTTP or in-process."""

from lamina.client._client import AsyncClient, Client
from lamina.client._config import ClientConfig
from lamina.client._extract import ExtractedField, ExtractResult
from lamina.client._inputs import FileInput

__all__ = [
    "AsyncClient",
    "Client",
    "ClientConfig",
    "ExtractResult",
    "ExtractedField",
    "FileInput",
]
