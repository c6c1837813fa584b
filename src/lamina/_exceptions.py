"""Every error Lamina raises, in one tree.

::

    LaminaError
    ├── APIError                      a call to the API went wrong (message, request, body,
    │   │                             status_code, request_id)
    │   ├── APIStatusError            the server answered 4xx/5xx (response, detail)
    │   │   ├── BadRequestError           400
    │   │   ├── AuthenticationError       401
    │   │   ├── PermissionDeniedError     403
    │   │   ├── NotFoundError             404
    │   │   ├── ConflictError             409
    │   │   ├── UnprocessableEntityError  422  (alias: ValidationError)
    │   │   ├── RateLimitError            429
    │   │   └── InternalServerError       >= 500
    │   ├── APIConnectionError        no answer: DNS, refused, reset...
    │   │   └── APITimeoutError       no answer in time
    │   └── APIResponseValidationError  an answer that is not the documented shape
    ├── JobError                      a parse or extract job ended badly (job_id, job)
    │   ├── JobFailedError            status FAILED (error_message)
    │   ├── JobCancelledError         status CANCELLED
    │   └── JobTimeoutError           still running when the caller stopped waiting
    └── ExtractionValidationError     extracted data does not validate as the caller's model
                                      (errors, raw data and the full result kept)

:func:`make_status_error` is the one place a response becomes an exception.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx

from lamina.types import ErrorDetail

if TYPE_CHECKING:
    from lamina.types import ExtractV2Job, ParseJob

    AnyJob = ParseJob | ExtractV2Job

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
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
    "make_status_error",
]

REQUEST_ID_HEADERS = ("x-request-id", "x-correlation-id", "request-id")


class LaminaError(Exception):
    """Base of every error Lamina raises on purpose.

    Every subclass pickles (``multiprocessing`` sends a worker's exception to its parent that
    way) although their constructors differ: it is rebuilt from its args and attributes
    without calling ``__init__`` again.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (type(self), self.args, self.__dict__))


def _rebuild_error(
    cls: type[LaminaError], args: tuple[Any, ...], state: dict[str, Any]
) -> LaminaError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


# --- API errors ---------------------------------------------------------------------------------


class APIError(LaminaError):
    """A call to the API went wrong.

    ``status_code`` and ``request_id`` are ``None`` when no response arrived.
    """

    message: str
    request: httpx.Request | None
    body: object | None
    status_code: int | None
    request_id: str | None

    def __init__(
        self,
        message: str,
        request: httpx.Request | None = None,
        *,
        body: object | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body
        self.status_code = status_code
        self.request_id = request_id


class APIStatusError(APIError):
    """The server answered with a 4xx or 5xx status.

    ``detail`` holds the entries of a ``{"detail": [...]}`` body (empty when the body has none).
    """

    response: httpx.Response
    status_code: int
    detail: list[ErrorDetail]

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: object | None,
        detail: list[ErrorDetail] | None = None,
    ) -> None:
        super().__init__(
            message,
            response.request,
            body=body,
            status_code=response.status_code,
            request_id=_request_id(response),
        )
        self.response = response
        self.detail = detail or []


class BadRequestError(APIStatusError):
    """400: the request is malformed."""


class AuthenticationError(APIStatusError):
    """401: no API key, or an unknown one."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this."""


class NotFoundError(APIStatusError):
    """404: no such file, job or route."""


class ConflictError(APIStatusError):
    """409: the resource is in a state that forbids this (retried by default)."""


class UnprocessableEntityError(APIStatusError):
    """422: the request is well-formed but invalid; ``detail`` says where and why."""


ValidationError = UnprocessableEntityError
"""Alias of :class:`UnprocessableEntityError`: the API's validation error (not pydantic's)."""


class RateLimitError(APIStatusError):
    """429: too many requests (retried by default, honouring ``Retry-After``)."""


class InternalServerError(APIStatusError):
    """5xx: the server failed (retried by default)."""


class APIConnectionError(APIError):
    """No response: the server could not be reached or the connection broke."""

    def __init__(self, message: str = "Connection error.", request: httpx.Request | None = None):
        super().__init__(message, request)


class APITimeoutError(APIConnectionError):
    """No response within the client's timeout."""

    def __init__(self, request: httpx.Request | None = None) -> None:
        super().__init__("Request timed out.", request)


class APIResponseValidationError(APIError):
    """The server answered 2xx with a body that does not match the documented shape."""

    def __init__(self, message: str, *, response: httpx.Response, body: object | None) -> None:
        super().__init__(
            message,
            response.request,
            body=body,
            status_code=response.status_code,
            request_id=_request_id(response),
        )
        self.response = response


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def make_status_error(response: httpx.Response) -> APIStatusError:
    """The exception for an error response: class by status code, message and detail from body.

    The response body must have been read.
    """
    body = _decode_body(response)
    detail, summary = _parse_detail(body)
    status = response.status_code
    reason = response.reason_phrase or ""
    head = f"Error code: {status}" + (f" {reason}" if reason else "")
    message = f"{head} - {summary}" if summary else head
    cls = _STATUS_CLASSES.get(status)
    if cls is None:
        cls = InternalServerError if status >= 500 else APIStatusError
    return cls(message, response=response, body=body, detail=detail)


def _decode_body(response: httpx.Response) -> object | None:
    text = response.text.strip()
    if not text:
        return None
    try:
        decoded: object = json.loads(text)
    except ValueError:
        return text
    return decoded


def _parse_detail(body: object | None) -> tuple[list[ErrorDetail], str]:
    """Entries of a ``detail`` list, and a one-line summary for the message."""
    if isinstance(body, dict):
        raw: Any = body.get("detail", body.get("message", body.get("error")))
        if isinstance(raw, str):
            return [], raw
        if isinstance(raw, list):
            details = [_to_detail(entry) for entry in raw]
            summary = "; ".join(_describe(d) for d in details)
            return details, summary
        return [], json.dumps(body)[:500]
    if isinstance(body, str):
        return [], body[:500]
    return [], ""


def _to_detail(entry: object) -> ErrorDetail:
    if isinstance(entry, dict):
        try:
            return ErrorDetail.model_validate(entry)
        except ValueError:
            pass
    return ErrorDetail(type="unknown", loc=[], msg=str(entry))


def _describe(detail: ErrorDetail) -> str:
    loc = ".".join(str(part) for part in detail.loc if part != "body")
    return f"{loc}: {detail.msg}" if loc else detail.msg


def _request_id(response: httpx.Response) -> str | None:
    for name in REQUEST_ID_HEADERS:
        value = response.headers.get(name)
        if value:
            return value
    return None


# --- job errors ---------------------------------------------------------------------------------


class JobError(LaminaError):
    """A parse or extract job did not complete. ``job`` is its last seen state, when known."""

    def __init__(self, message: str, *, job_id: str, job: AnyJob | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.job_id = job_id
        self.job = job


class JobFailedError(JobError):
    """The job ended with status ``FAILED``; ``error_message`` is the server's reason."""

    def __init__(self, job: AnyJob) -> None:
        self.error_message = job.error_message or "no error message"
        super().__init__(f"Job {job.id} failed: {self.error_message}", job_id=job.id, job=job)


class JobCancelledError(JobError):
    """The job ended with status ``CANCELLED``."""

    def __init__(self, job: AnyJob) -> None:
        super().__init__(f"Job {job.id} was cancelled", job_id=job.id, job=job)


class JobTimeoutError(JobError):
    """The job was still running after ``timeout`` seconds of waiting; it may still finish."""

    def __init__(
        self,
        job_id: str,
        timeout: float,
        job: AnyJob | None = None,
        *,
        pages: tuple[int, int] | None = None,
    ) -> None:
        notes = [f"last status {job.status}"] if job is not None else []
        if pages is not None:
            notes.append(f"{pages[0]} of {pages[1]} pages done")
        detail = f" ({', '.join(notes)})" if notes else ""
        super().__init__(
            f"Job {job_id} did not finish within {timeout:g}s{detail}", job_id=job_id, job=job
        )
        self.timeout = timeout
        self.pages_done: int | None = pages[0] if pages is not None else None
        self.pages_total: int | None = pages[1] if pages is not None else None


# --- extraction ---------------------------------------------------------------------------------


class ExtractionValidationError(LaminaError):
    """Extraction finished, but its data does not validate as the pydantic model asked for
    (typically a required field the document does not contain: it was extracted as null).

    ``errors`` are pydantic's error dicts; ``data`` is the raw extracted JSON; ``result`` is the
    whole :class:`lamina.ExtractResult` with plain-dict data, metadata and citations.
    """

    def __init__(self, message: str, *, errors: list[Any], data: Any, result: Any) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.data = data
        self.result = result
