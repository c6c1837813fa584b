"""Every exception → response mapping of the server, in one place.

Bodies are ``{"detail": "message"}``, or for validation errors (422) the seed's shape
``{"detail": [{"type", "loc", "msg", "input"}]}``, always JSON-serialisable.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lamina.services.errors import (
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    Origin,
    PayloadTooLargeError,
    ServiceError,
    TooManyRequestsError,
    ValidationFailed,
)

log = logging.getLogger("lamina.server")

_STATUS: dict[type[ServiceError], int] = {
    NotFoundError: 404,
    InvalidRequestError: 400,
    PayloadTooLargeError: 413,
    ForbiddenError: 403,
    ValidationFailed: 422,
    TooManyRequestsError: 429,
}


def _json_safe(value: Any) -> Any:
    try:
        encoded = jsonable_encoder(value)
        json.dumps(encoded)
        return encoded
    except (TypeError, ValueError):
        return str(value)


def clean_detail(errors: Any) -> list[dict[str, Any]]:
    """Validation errors reduced to ``type``, ``loc``, ``msg``, ``input``, each JSON-safe."""
    return [
        {
            "type": str(err.get("type", "value_error")),
            "loc": [p if isinstance(p, int) else str(p) for p in err.get("loc", ())],
            "msg": str(err.get("msg", "")),
            "input": _json_safe(err.get("input")),
        }
        for err in errors
    ]


_PLACES: dict[Origin, tuple[str, ...]] = {
    "request": ("body",),
    "parameter": ("query",),
    "option": (),
}


def located(exc: ValidationFailed) -> list[dict[str, Any]]:
    """A service's validation errors with HTTP locations: a path inside the request goes
    under ``body`` (JSON or form fields alike), a parameter's name under ``query``, and a
    parse option's name stays bare."""
    where = _PLACES[exc.origin]
    return [{**err, "loc": [*where, *err.get("loc", ())]} for err in exc.detail]


async def _request_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": clean_detail(exc.errors())}, status_code=422)


async def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    if isinstance(exc, ValidationFailed):
        return JSONResponse({"detail": clean_detail(located(exc))}, status_code=422)
    status = next((code for cls, code in _STATUS.items() if isinstance(exc, cls)), 400)
    headers = None
    if isinstance(exc, TooManyRequestsError):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    return JSONResponse({"detail": exc.message}, status_code=status, headers=headers)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(
        {"detail": _json_safe(exc.detail)}, status_code=exc.status_code, headers=exc.headers
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "Internal server error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
