"""Service errors. The server maps each class to one HTTP status in ``server/errors.py``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pydantic import ValidationError

Origin = Literal["request", "parameter", "option"]
"""What a validation error's location is a path in (:class:`ValidationFailed`)."""


class ServiceError(Exception):
    """Base class: ``message`` is safe to show to the API caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(ServiceError):
    """An id that does not exist in the caller's project (404)."""


class InvalidRequestError(ServiceError):
    """A request that is well formed but cannot be done in the resource's state (400)."""


class PayloadTooLargeError(ServiceError):
    """An upload over the configured size limit (413)."""


class TooManyRequestsError(ServiceError):
    """A rate or queue limit reached (429); ``retry_after`` seconds is a fair wait."""

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ForbiddenError(ServiceError):
    """A presigned URL that is expired or does not verify (403)."""


class ValidationFailed(ServiceError):
    """Invalid input (422), carrying the API's ``detail`` list.

    Each entry's ``loc`` is a path that ``origin`` says the root of: ``"request"``, the request
    the service was given (``["configuration", "tier"]``; ``[]`` for the whole request);
    ``"parameter"``, a parameter of a read or a listing (``["page_size"]``); ``"option"``, a
    parse option reported by name alone (``["tier"]``, as the API always has). The server says
    where each travels in HTTP (``body``, ``query``: ``server/errors.py``).
    """

    def __init__(self, detail: list[dict[str, Any]], *, origin: Origin = "request") -> None:
        super().__init__("; ".join(str(d.get("msg", "")) for d in detail))
        self.detail = detail
        self.origin: Origin = origin

    @classmethod
    def single(
        cls,
        loc: list[str | int],
        msg: str,
        *,
        origin: Origin = "request",
        input: Any = None,
        type: str = "value_error",
    ) -> ValidationFailed:
        """One error entry, in the ``{"type", "loc", "msg", "input"}`` shape."""
        return cls([{"type": type, "loc": loc, "msg": msg, "input": input}], origin=origin)


def validation_errors(exc: ValidationError, prefix: Sequence[str | int]) -> list[dict[str, Any]]:
    """A pydantic error as the API's ``detail`` list, JSON-safe, locations under ``prefix``
    (a path inside the request, as :class:`ValidationFailed` takes)."""
    detail = []
    for err in exc.errors(include_url=False, include_context=False):
        value = err.get("input")
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            value = str(value)
        detail.append(
            {
                "type": err["type"],
                "loc": [*prefix, *err["loc"]],
                "msg": err["msg"],
                "input": value,
            }
        )
    return detail
