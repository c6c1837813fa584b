"""Lamina: documents to RAG-ready markdown, text and structured items.

``import lamina`` loads only the client, the exceptions and the wire models; the engine and
the server load when a client first runs without a base URL.

>>> import lamina
>>> with lamina.Client() as client:  # doctest: +SKIP
...     result = client.parse("report.pdf")
"""

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
from lamina._version import __version__
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
