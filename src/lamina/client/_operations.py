"""Every API call the client makes, described once as data: what to send, how to read the answer.

The sync and async resources both build a :class:`Call` here and hand it to their client, so
paths, parameters and body shapes cannot drift apart between the two.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from lamina._exceptions import (
    APIResponseValidationError,
    JobCancelledError,
    JobFailedError,
)
from lamina.client._inputs import FileInput, read_file_input
from lamina.types import (
    ExtractV2Job,
    File,
    PaginatedList,
    ParseJob,
    ParseResponse,
    PresignedURL,
    SchemaValidationResponse,
)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

FILES = "/api/v1/beta/files"
PARSE = "/api/v2/parse"
EXTRACT = "/api/v2/extract"

DEFAULT_TIER = "cost_effective"
"""The tier of every helper unless told otherwise: tables and OCR of scanned pages, loaded
only when a page needs them (``fast`` skips both: one argument away)."""

DEFAULT_EXPAND: tuple[str, ...] = ("markdown", "items", "metadata")
"""What :meth:`lamina.Client.parse` fetches unless told otherwise."""


@dataclass(frozen=True)
class RequestSpec:
    """One HTTP request, independent of the client that sends it.

    ``path`` is relative to the base URL unless ``absolute`` (a presigned URL). ``api`` calls
    carry the project/organization query parameters; downloads do not.
    """

    method: str
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    data: Mapping[str, str] | None = None
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    absolute: bool = False
    api: bool = True


@dataclass(frozen=True)
class Call(Generic[T]):
    """A request and the function that turns its successful response into a value."""

    spec: RequestSpec
    parse: Callable[[httpx.Response], T]


# --- response readers ---------------------------------------------------------------------------


def _model(cls: type[M]) -> Callable[[httpx.Response], M]:
    def parse(response: httpx.Response) -> M:
        try:
            body = response.json()
        except ValueError as exc:
            raise APIResponseValidationError(
                f"Expected a JSON {cls.__name__}, got: {response.text[:200]!r}",
                response=response,
                body=response.text,
            ) from exc
        try:
            return cls.model_validate(body)
        except PydanticValidationError as exc:
            raise APIResponseValidationError(
                f"Response is not a valid {cls.__name__}: {exc}", response=response, body=body
            ) from exc

    return parse


def _nothing(response: httpx.Response) -> None:
    return None


def _content(response: httpx.Response) -> bytes:
    return response.content


def _segment(value: str, what: str) -> str:
    if not value:
        raise ValueError(f"Expected a non-empty {what}, got {value!r}")
    return quote(value, safe="")


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


# --- files --------------------------------------------------------------------------------------


def file_create(
    file: FileInput,
    *,
    purpose: str,
    external_file_id: str | None,
    filename: str | None,
) -> Call[File]:
    """``POST /api/v1/beta/files`` (multipart: ``file``, ``purpose``, ``external_file_id``)."""
    name, content, content_type = read_file_input(file, filename)
    form = _drop_none({"purpose": purpose, "external_file_id": external_file_id})
    spec = RequestSpec("POST", FILES, data=form, files={"file": (name, content, content_type)})
    return Call(spec, _model(File))


def file_get(file_id: str) -> Call[File]:
    """``GET /api/v1/beta/files/{file_id}``."""
    return Call(RequestSpec("GET", f"{FILES}/{_segment(file_id, 'file_id')}"), _model(File))


def file_list(page_size: int | None, page_token: str | None) -> Call[PaginatedList[File]]:
    """``GET /api/v1/beta/files``, one page."""
    params = _drop_none({"page_size": page_size, "page_token": page_token})
    return Call(RequestSpec("GET", FILES, params=params), _model(PaginatedList[File]))


def file_delete(file_id: str) -> Call[None]:
    """``DELETE /api/v1/beta/files/{file_id}``."""
    return Call(RequestSpec("DELETE", f"{FILES}/{_segment(file_id, 'file_id')}"), _nothing)


def file_content_url(file_id: str, expires_at_seconds: int | None) -> Call[PresignedURL]:
    """``GET /api/v1/beta/files/{file_id}/content``: a presigned download URL."""
    path = f"{FILES}/{_segment(file_id, 'file_id')}/content"
    params = _drop_none({"expires_at_seconds": expires_at_seconds})
    return Call(RequestSpec("GET", path, params=params), _model(PresignedURL))


def download(url: str | PresignedURL) -> Call[bytes]:
    """``GET`` a presigned URL (absolute, or relative to the base URL) and return its bytes."""
    target = url.url if isinstance(url, PresignedURL) else url
    absolute = target.startswith(("http://", "https://"))
    return Call(RequestSpec("GET", target, absolute=absolute, api=False), _content)


# --- parse jobs ---------------------------------------------------------------------------------


def parse_body(
    *,
    tier: str,
    version: str,
    file_id: str | None = None,
    source_url: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body of a parse create call; option values may be dicts or wire models."""
    body: dict[str, Any] = {"tier": tier, "version": version}
    body.update(_drop_none({"file_id": file_id, "source_url": source_url}))
    for key, value in (options or {}).items():
        if value is not None:
            body[key] = _jsonable(value)
    return body


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True, by_alias=True)
    if isinstance(value, Mapping):
        return {key: _jsonable(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def parse_create(
    file_id: str | None,
    *,
    upload_file: FileInput | None,
    filename: str | None,
    source_url: str | None,
    tier: str,
    version: str,
    options: Mapping[str, Any],
) -> Call[ParseJob]:
    """``POST /api/v2/parse`` (JSON), or ``/api/v2/parse/upload`` (multipart with a
    ``configuration`` JSON form field) when a file is uploaded in the same call."""
    sources = [file_id is not None, upload_file is not None, source_url is not None]
    if sum(sources) != 1:
        raise ValueError("Give exactly one of file_id, upload_file or source_url")
    if upload_file is not None:
        name, content, content_type = read_file_input(upload_file, filename)
        config = parse_body(tier=tier, version=version, source_url=source_url, options=options)
        spec = RequestSpec(
            "POST",
            f"{PARSE}/upload",
            data={"configuration": json.dumps(config)},
            files={"file": (name, content, content_type)},
        )
    else:
        body = parse_body(
            tier=tier, version=version, file_id=file_id, source_url=source_url, options=options
        )
        spec = RequestSpec("POST", PARSE, json=body)
    return Call(spec, _model(ParseJob))


def parse_get(
    job_id: str, *, expand: Sequence[str], image_filenames: str | Sequence[str] | None
) -> Call[ParseResponse]:
    """``GET /api/v2/parse/{job_id}?expand=a&expand=b`` (repeated, as the official SDK sends)."""
    if isinstance(expand, str):
        expand = [part for part in expand.split(",") if part]
    if image_filenames is not None and not isinstance(image_filenames, str):
        image_filenames = ",".join(image_filenames)
    params = _drop_none({"expand": list(expand) or None, "image_filenames": image_filenames})
    path = f"{PARSE}/{_segment(job_id, 'job_id')}"
    return Call(RequestSpec("GET", path, params=params), _model(ParseResponse))


def parse_list(
    page_size: int | None, page_token: str | None, status: str | None
) -> Call[PaginatedList[ParseJob]]:
    """``GET /api/v2/parse``, one page, optionally filtered by status."""
    params = _drop_none({"page_size": page_size, "page_token": page_token, "status": status})
    return Call(RequestSpec("GET", PARSE, params=params), _model(PaginatedList[ParseJob]))


def parse_cancel(job_id: str) -> Call[ParseJob]:
    """``POST /api/v2/parse/{job_id}/cancel``."""
    path = f"{PARSE}/{_segment(job_id, 'job_id')}/cancel"
    return Call(RequestSpec("POST", path), _model(ParseJob))


def parse_delete(job_id: str) -> Call[None]:
    """``DELETE /api/v2/parse/{job_id}``."""
    return Call(RequestSpec("DELETE", f"{PARSE}/{_segment(job_id, 'job_id')}"), _nothing)


# --- extract jobs -------------------------------------------------------------------------------


def extract_create(
    file_input: str,
    *,
    configuration: Mapping[str, Any] | None,
    configuration_id: str | None,
    webhook_configurations: Sequence[Mapping[str, Any]] | None = None,
) -> Call[ExtractV2Job]:
    """``POST /api/v2/extract`` with an inline ``configuration`` (or a saved one's id)."""
    body = _drop_none(
        {
            "file_input": file_input,
            "configuration": _jsonable(configuration) if configuration is not None else None,
            "configuration_id": configuration_id,
            "webhook_configurations": _jsonable(list(webhook_configurations))
            if webhook_configurations
            else None,
        }
    )
    return Call(RequestSpec("POST", EXTRACT, json=body), _model(ExtractV2Job))


def _expand_list(expand: str | Sequence[str]) -> list[str] | None:
    if isinstance(expand, str):
        expand = [part for part in expand.split(",") if part]
    return list(expand) or None


def extract_get(job_id: str, *, expand: str | Sequence[str]) -> Call[ExtractV2Job]:
    """``GET /api/v2/extract/{job_id}?expand=a&expand=b``."""
    params = _drop_none({"expand": _expand_list(expand)})
    path = f"{EXTRACT}/{_segment(job_id, 'job_id')}"
    return Call(RequestSpec("GET", path, params=params), _model(ExtractV2Job))


def extract_list(
    *,
    page_size: int | None,
    page_token: str | None,
    status: str | None,
    file_input: str | None,
    expand: str | Sequence[str],
) -> Call[PaginatedList[ExtractV2Job]]:
    """``GET /api/v2/extract``, one page (newest first)."""
    params = _drop_none(
        {
            "page_size": page_size,
            "page_token": page_token,
            "status": status,
            "file_input": file_input,
            "expand": _expand_list(expand),
        }
    )
    return Call(RequestSpec("GET", EXTRACT, params=params), _model(PaginatedList[ExtractV2Job]))


def extract_cancel(job_id: str) -> Call[ExtractV2Job]:
    """``POST /api/v2/extract/{job_id}/cancel``."""
    path = f"{EXTRACT}/{_segment(job_id, 'job_id')}/cancel"
    return Call(RequestSpec("POST", path), _model(ExtractV2Job))


def extract_delete(job_id: str, *, force: bool = False) -> Call[None]:
    """``DELETE /api/v2/extract/{job_id}`` (``force`` deletes a job that is not finished)."""
    params = {"force": "true"} if force else {}
    path = f"{EXTRACT}/{_segment(job_id, 'job_id')}"
    return Call(RequestSpec("DELETE", path, params=params), _nothing)


def extract_validate_schema(schema: Mapping[str, Any]) -> Call[SchemaValidationResponse]:
    """``POST /api/v2/extract/schema/validation``; a bad schema raises the 422 error."""
    spec = RequestSpec("POST", f"{EXTRACT}/schema/validation", json={"data_schema": schema})
    return Call(spec, _model(SchemaValidationResponse))


# --- waiting ------------------------------------------------------------------------------------


def job_done(job: ParseJob | ExtractV2Job) -> bool:
    """True once ``job`` completed; raises if it failed or was cancelled; False while running."""
    if job.status == "FAILED":
        raise JobFailedError(job)
    if job.status == "CANCELLED":
        raise JobCancelledError(job)
    return job.status == "COMPLETED"
