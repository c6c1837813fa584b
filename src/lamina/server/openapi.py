"""What the OpenAPI document says each route answers: status codes and their body schemas.

The typed routes return the wire models of :mod:`lamina.types` and declare them (their return
annotation is the ``response_model``; ``ok`` names the same model for the 200 entry); routes
that still build dicts (the classic APIs) declare theirs with ``ok`` alone. The conformance
fuzzer (``tests/compat/test_fuzz.py``) checks every response against the document.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI

from lamina.types import ErrorBody

_DESCRIPTIONS = {
    400: "A body that cannot be read, or a request the resource's current state refuses",
    401: "Missing or invalid API key (only when the server has keys)",
    403: "Presigned URL missing, expired or tampered with",
    404: "No such resource in the caller's project",
    408: "The request body stopped arriving",
    413: "Request body over the size limit",
    422: "Invalid input: a detail list of {type, loc, msg, input}",
    429: "Rate or queue limit reached: retry after the Retry-After header's seconds",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses`` entries for error ``codes``, each with the :class:`ErrorBody` schema."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}


def ok(model: Any, *codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses`` for a route answering ``model`` with 200, plus error ``codes``."""
    return {200: {"model": model, "description": "Successful Response"}, **errors(*codes)}


def document_gate(app: FastAPI, public: re.Pattern[str]) -> None:
    """Add the answers of the request gate and the body guard to every operation of ``app``'s
    OpenAPI document: 429 (rate and queue limits) on every non-public path, 408 and 413 on
    every operation with a request body. Routers added later are covered too."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        ref = {"$ref": "#/components/schemas/ErrorBody"}
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                codes = [] if public.match(path) else [429]
                if "requestBody" in operation:
                    codes += [408, 413]
                for code in codes:
                    operation["responses"].setdefault(
                        str(code),
                        {
                            "description": _DESCRIPTIONS[code],
                            "content": {"application/json": {"schema": ref}},
                        },
                    )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
