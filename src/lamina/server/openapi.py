"""What the OpenAPI document says each route answers: status codes and their body schemas.

Routes return plain dicts (built by the services, no second validation on the hot path), so the
200 schemas are declared here with ``responses`` and ``response_model=None``: the document
describes the wire models of :mod:`lamina.types`, and the conformance fuzzer
(``tests/compat/test_fuzz.py``) checks every response against it.
"""

from __future__ import annotations

from typing import Any

from lamina.types import ErrorBody

_DESCRIPTIONS = {
    400: "A body that cannot be read, or a request the resource's current state refuses",
    401: "Missing or invalid API key (only when the server has keys)",
    403: "Presigned URL missing, expired or tampered with",
    404: "No such resource in the caller's project",
    413: "Request body over the upload limit",
    422: "Invalid input: a detail list of {type, loc, msg, input}",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses`` entries for error ``codes``, each with the :class:`ErrorBody` schema."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}


def ok(model: Any, *codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses`` for a route answering ``model`` with 200, plus error ``codes``."""
    return {200: {"model": model, "description": "Successful Response"}, **errors(*codes)}
