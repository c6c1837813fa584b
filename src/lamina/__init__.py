"""Lamina: documents to RAG-ready markdown, text and structured items.

``import lamina`` loads nothing but the version: the client, the exceptions and the wire
models load on first use of a name (``lamina.Client``), the engine and the server when a
client first runs without a base URL.

>>> import lamina
>>> with lamina.Client() as client:  # doctest: +SKIP
...     result = client.parse("report.pdf")
"""

from typing import TYPE_CHECKING, Any

from lamina._version import __version__

if TYPE_CHECKING:
    from lamina import types
    from lamina._exceptions import (
        APIConnectionError,
        APIError,
        APIResponseValidationError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ConflictError,
        ExtractionValidationError,
        InternalServerError,
        JobCancelledError,
        JobError,
        JobFailedError,
        JobTimeoutError,
        LaminaError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        UnprocessableEntityError,
        ValidationError,
    )
    from lamina.client import AsyncClient, Client, ExtractedField, ExtractResult

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConflictError",
    "ExtractResult",
    "ExtractedField",
    "ExtractionValidationError",
    "InternalServerError",
    "JobCancelledError",
    "JobError",
    "JobFailedError",
    "JobTimeoutError",
    "LaminaError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "ValidationError",
    "__version__",
    "types",
]

_CLIENT_NAMES = frozenset({"AsyncClient", "Client", "ExtractResult", "ExtractedField"})


def __getattr__(name: str) -> Any:
    """Load the public names on first use, so ``import lamina`` costs next to nothing."""
    if name == "types":
        import importlib

        return importlib.import_module("lamina.types")
    if name in _CLIENT_NAMES:
        from lamina import client

        value = getattr(client, name)
    elif name in __all__:
        from lamina import _exceptions

        value = getattr(_exceptions, name)
    else:
        raise AttributeError(f"module 'lamina' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
