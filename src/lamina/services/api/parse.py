"""Parse v2 jobs: create (by file id, URL or upload), list, get with ``expand``, cancel, delete.

The GET response is built from the job's result files, one file per expand value, so a request
reads only what it asked for. Content (pages, full text, download URLs, images) is served only
once the job is ``COMPLETED``; before that the response carries the job alone, plus
``raw_parameters`` and ``job_metadata``, which exist from the start.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from lamina._version import ENGINE_VERSION
from lamina.services.api.links import DownloadRoutes
from lamina.services.errors import (
    InvalidRequestError,
    NotFoundError,
    ValidationFailed,
    validation_errors,
)
from lamina.services.outbound import OutboundPolicy, check_url_at_door
from lamina.services.request_limits import RequestLimits, check_json_size, check_queue
from lamina.services.store.db import Database, Row, aware, new_id, utcnow
from lamina.services.store.signing import Signer
from lamina.services.store.storage import (
    IMAGES_DIR,
    IMAGES_INDEX_FILE,
    JOB_METADATA_FILE,
    RESULT_FILES,
    Storage,
)
from lamina.types import (
    EXPAND_VALUES,
    TIERS,
    ImagesContentMetadata,
    ItemsResult,
    JobDeleted,
    MarkdownResult,
    MetadataResult,
    PaginatedList,
    ParseConfiguration,
    ParseCreateRequest,
    ParseJob,
    ParseResponse,
    ResultContentMetadata,
    TextResult,
    Usage,
)

if TYPE_CHECKING:
    from lamina.services.api.configurations import ConfigurationService
    from lamina.services.api.job_webhooks import WatchJob

JOB_ID_PREFIX = "pjb"
MODEL_TIERS = ("agentic", "agentic_plus")
PARSE_VERSION = ENGINE_VERSION
"""The one engine version this server runs; ``latest`` and every dated version map to it."""

# Expand values the official SDK also sends; accepted, and answered where we have the data.
SDK_EXTRA_EXPANDS = ("usage", "forms", "forms_content_metadata")
ALLOWED_EXPANDS = frozenset(EXPAND_VALUES) | frozenset(SDK_EXTRA_EXPANDS)
_CONTENT_SUFFIX = "_content_metadata"
_VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Fields of the create body that say what to parse, not how: kept out of the configuration.
_REQUEST_ONLY = frozenset(ParseCreateRequest.model_fields) - frozenset(
    ParseConfiguration.model_fields
)


def split_csv(values: Iterable[str] | None) -> list[str]:
    """Flatten repeated and comma-separated query values (``a,b`` and ``a&b`` alike)."""
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def parse_upload_configuration(text: str | None) -> tuple[ParseCreateRequest, dict[str, Any]]:
    """The upload route's ``configuration`` form field → (request, raw parameters)."""
    if not text:
        raise ValidationFailed.single(
            ["configuration"], "Field required", input=None, type="missing"
        )
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed.single(
            ["configuration"], f"Invalid JSON: {exc.msg}", input=text, type="json_invalid"
        ) from exc
    if not isinstance(raw, dict):
        raise ValidationFailed.single(
            ["configuration"], "Must be a JSON object", input=raw, type="dict_type"
        )
    try:
        request = ParseCreateRequest.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed(validation_errors(exc, ["configuration"])) from exc
    return request, raw


class ParseService:
    """Parse jobs of each project."""

    def __init__(
        self,
        db: Database,
        storage: Storage,
        signer: Signer,
        *,
        ttl: int,
        downloads: DownloadRoutes,
        model_url: str | None,
        outbound: OutboundPolicy,
        limits: RequestLimits,
        configurations: ConfigurationService,
        notify: Callable[[], None],
        watch: WatchJob,
    ) -> None:
        """``downloads``: the path of the route that serves a result file (signed here);
        ``configurations``: saved configurations and webhooks; ``notify``: called after a
        job is created (wakes the job runner); ``watch``: registers a new job's webhooks."""
        self.db = db
        self.storage = storage
        self.signer = signer
        self.ttl = ttl
        self.downloads = downloads
        self.model_url = model_url
        self.outbound = outbound
        self.limits = limits
        self.configurations = configurations
        self.notify = notify
        self.watch = watch

    # create -----------------------------------------------------------------------------------

    def validate_options(
        self, request: ParseCreateRequest, raw: dict[str, Any] | None = None
    ) -> None:
        """Checks beyond the model: sizes, tier, version, model endpoint for the agentic tiers."""
        check_json_size(
            request.user_metadata,
            self.limits.max_metadata_bytes,
            ["user_metadata"],
            "user_metadata",
        )
        if raw is not None:
            check_json_size(raw, self.limits.max_configuration_bytes, [], "The job's configuration")
        if request.tier not in TIERS:
            raise ValidationFailed.single(
                ["tier"],
                f"Unsupported tier: {request.tier}. Must be one of: {', '.join(TIERS)}",
                origin="option",
                input={},
            )
        if request.tier in MODEL_TIERS and not self.model_url:
            raise ValidationFailed.single(
                ["tier"],
                f"Tier {request.tier} needs a vision/LLM model endpoint and none is configured. "
                "Start the server with LAMINA_MODEL_URL set to an OpenAI-compatible base URL, "
                "or use tier fast or cost_effective.",
                origin="option",
                input=request.tier,
            )
        ranges = request.page_ranges
        if ranges is not None and ranges.target_pages is not None:
            from lamina.engine.errors import InvalidOptionError
            from lamina.engine.pages import parse_target_pages

            try:
                parse_target_pages(ranges.target_pages, upto=0)  # syntax only, no expansion
            except InvalidOptionError as exc:
                raise ValidationFailed.single(
                    ["page_ranges", "target_pages"], str(exc), input=ranges.target_pages
                ) from exc
        self._validate_extras(request)
        if request.version != "latest" and not _VERSION_RE.match(request.version):
            raise ValidationFailed.single(
                ["version"],
                f"Unsupported version: {request.version}. Use latest or a dated version "
                "(YYYY-MM-DD).",
                origin="option",
                input=request.version,
            )

    @staticmethod
    def _validate_extras(request: ParseCreateRequest) -> None:
        """The v1-style extra options Lamina honours: page options and cache flags."""
        from lamina.services.api.page_output import PageOutputOptions, allowed_failure_ratio

        try:
            PageOutputOptions.from_config(request)
            allowed_failure_ratio(request)
        except ValueError as exc:
            option = str(exc).split(" ", 1)[0]
            raise ValidationFailed.single([option], str(exc), input=None) from exc
        extras = request.model_extra or {}
        for flag in ("invalidate_cache", "do_not_cache"):
            if extras.get(flag) is not None and not isinstance(extras[flag], bool):
                raise ValidationFailed.single(
                    [flag], f"{flag} must be a boolean", input=extras[flag]
                )

    def create(
        self,
        project_id: str,
        request: ParseCreateRequest,
        raw_parameters: dict[str, Any],
        *,
        uploaded_file: Row | None = None,
    ) -> Row:
        """Validate and store a PENDING job, then wake the workers.

        ``configuration_id`` names a saved parse_v2 configuration: its parameters are the base
        and the fields of the request win. Webhooks (inline and ``webhook_configuration_ids``)
        are registered with the job webhook watcher.
        """
        if request.configuration_id:
            from lamina.services.api.configurations import merged

            saved = self.configurations.parameters_for(
                project_id, request.configuration_id, "parse_v2", ["configuration_id"]
            )
            try:
                request = ParseCreateRequest.model_validate(merged(saved, raw_parameters))
            except ValidationError as exc:
                raise ValidationFailed(validation_errors(exc, [])) from exc
        self.validate_options(request, raw_parameters)
        check_queue(self.db.pending_count(project_id), self.limits.max_queued_jobs_per_project)
        webhooks = self._webhooks(project_id, request)
        file_row, source_url = self._resolve_input(project_id, request, uploaded_file)
        now = utcnow()
        configuration = request.model_dump(
            mode="json", exclude_none=True, exclude=set(_REQUEST_ONLY)
        )
        name = file_row["name"] if file_row else _url_name(source_url or "")
        row: Row = {
            "id": new_id(JOB_ID_PREFIX),
            "project_id": project_id,
            "file_id": file_row["id"] if file_row else None,
            "source_url": source_url,
            "http_proxy": request.http_proxy,
            "status": "PENDING",
            "tier": request.tier,
            "name": name,
            "configuration": configuration,
            "raw_parameters": raw_parameters,
            "user_metadata": request.user_metadata,
            "error_message": None,
            "created_at": now,
            "updated_at": now,
            "attempts": 0,
        }
        self.db.insert_job(row)
        created = self.db.get_job(row["id"]) or row  # as stored, before a worker can claim it
        if request.configuration_id:
            from lamina.services.api.configurations import link_configuration

            link_configuration(self.db, {**row, "kind": "parse"}, request.configuration_id)
        if webhooks:
            self.watch({**row, "kind": "parse"}, webhooks)
        self.notify()
        return created

    def _webhooks(self, project_id: str, request: ParseCreateRequest) -> list[dict[str, Any]]:
        inline = [w.model_dump(exclude_none=True) for w in request.webhook_configurations or ()]
        return list(
            self.configurations.job_webhooks(
                project_id, inline, request.webhook_configuration_ids, []
            )
        )

    def _resolve_input(
        self, project_id: str, request: ParseCreateRequest, uploaded: Row | None
    ) -> tuple[Row | None, str | None]:
        if uploaded is not None:
            return uploaded, None
        if request.file_id and request.source_url:
            raise ValidationFailed.single(
                [], "Give either file_id or source_url, not both", input=None
            )
        if request.file_id:
            file_row = self.db.get_file(request.file_id, project_id)
            if file_row is None:
                raise NotFoundError(f"File not found: {request.file_id}")
            return file_row, None
        if request.source_url:
            self._check_outbound(request)
            return None, request.source_url
        raise ValidationFailed.single(
            [], "One of file_id or source_url is required", input=None, type="missing"
        )

    def _check_outbound(self, request: ParseCreateRequest) -> None:
        """``source_url`` and ``http_proxy`` against the outbound policy (literal addresses
        now; names when the worker fetches)."""
        assert request.source_url is not None
        try:
            check_url_at_door(request.source_url, self.outbound, what="source_url")
        except ValueError as exc:
            raise ValidationFailed.single(
                ["source_url"], str(exc), input=request.source_url
            ) from exc
        if request.http_proxy:
            if not self.outbound.allow_caller_proxy:
                raise ValidationFailed.single(
                    ["http_proxy"],
                    "http_proxy is not allowed on this server (the operator can allow it with "
                    "LAMINA_OUTBOUND_ALLOW_CALLER_PROXY=true)",
                    input=request.http_proxy,
                )
            try:
                check_url_at_door(request.http_proxy, self.outbound, what="http_proxy")
            except ValueError as exc:
                raise ValidationFailed.single(
                    ["http_proxy"], str(exc), input=request.http_proxy
                ) from exc

    # read -------------------------------------------------------------------------------------

    def get_row(self, project_id: str, job_id: str, *, summary: bool = False) -> Row:
        row = self.db.get_job(job_id, project_id, kind="parse", summary=summary)
        if row is None:
            raise NotFoundError(f"Parse job not found: {job_id}")
        return row

    def list(
        self,
        project_id: str,
        *,
        status: str | None = None,
        job_ids: Sequence[str] | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> PaginatedList[ParseJob]:
        page = self.db.list_jobs(
            project_id,
            status=status,
            job_ids=job_ids,
            created_after=created_after,
            created_before=created_before,
            page_size=50 if page_size is None else page_size,
            page_token=page_token,
            summary=True,
        )
        return page.typed(to_parse_job)

    def get_response(
        self,
        project_id: str,
        job_id: str,
        *,
        expand: Sequence[str],
        image_filenames: Sequence[str] | None,
        base_url: str,
    ) -> ParseResponse:
        """The ParseResponse of ``GET /api/v2/parse/{job_id}``: the job, and what ``expand``
        asked for that exists (fields left unset otherwise)."""
        unknown = [e for e in expand if e not in ALLOWED_EXPANDS]
        if unknown:
            raise ValidationFailed.single(
                ["expand"],
                f"Unsupported expand value(s): {', '.join(unknown)}. "
                f"Must be among: {', '.join(EXPAND_VALUES)}",
                origin="parameter",
                input=unknown,
            )
        wanted = set(expand)
        row = self.get_row(project_id, job_id, summary="raw_parameters" not in wanted)
        job = to_parse_job(row)
        if "usage" in wanted:  # nothing is billed; the credits are recorded as 0
            job.usage = Usage(credits=0.0)
        response = ParseResponse(job=job)
        if "raw_parameters" in wanted:
            response.raw_parameters = row["raw_parameters"] or {}
        if "job_metadata" in wanted:
            response.job_metadata = self._job_metadata(row)
        if row["status"] != "COMPLETED":
            return response
        for name, model in _RESULT_MODELS.items():
            if name in wanted:
                stored = self.storage.read_result_json(job_id, RESULT_FILES[name][0])
                if stored is not None:
                    setattr(response, name, model.model_validate(stored))
        for name in ("text_full", "markdown_full"):
            if name in wanted:
                text = self.storage.read_result_text(job_id, RESULT_FILES[name][0])
                if text is not None:
                    setattr(response, name, text)
        contents = {}
        for stem, (filename, key) in RESULT_FILES.items():  # one key order, whatever was asked
            if stem + _CONTENT_SUFFIX in wanted:
                contents[key] = self._content_metadata(row, filename, base_url)
        if contents:
            response.result_content_metadata = contents
        if "images_content_metadata" in wanted:
            response.images_content_metadata = self._images(row, image_filenames, base_url)
        return response

    def _job_metadata(self, row: Row) -> dict[str, Any]:
        stored = self.storage.read_result_json(row["id"], JOB_METADATA_FILE) or {}
        if row["status"] == "RUNNING":  # pages done so far, while a long job runs
            stored = {**stored, **(self.storage.read_progress(row["id"]) or {})}
        elif "pages_parsed" in stored:
            done = int(stored["pages_parsed"]) + len(stored.get("failed_pages") or [])
            stored = {**stored, "pages_done": done, "pages_total": done}
        bookkeeping = {
            "attempts": row["attempts"],
            "started_at": _iso(row["started_at"]),
            "finished_at": _iso(row["finished_at"]),
        }
        return {**stored, **{k: v for k, v in bookkeeping.items() if v is not None}}

    def _presign(self, row: Row, name: str, base_url: str) -> str:
        path = self.downloads.result(row["id"], name)
        query, _ = self.signer.sign(path, project=row["project_id"], ttl_seconds=self.ttl)
        return f"{base_url.rstrip('/')}{path}?{query.encode()}"

    def _content_metadata(self, row: Row, filename: str, base_url: str) -> ResultContentMetadata:
        size = self.storage.result_size(row["id"], filename)
        if size is None:
            return ResultContentMetadata(size_bytes=0, exists=False)
        return ResultContentMetadata(
            size_bytes=size, exists=True, presigned_url=self._presign(row, filename, base_url)
        )

    def _images(
        self, row: Row, filenames: Sequence[str] | None, base_url: str
    ) -> ImagesContentMetadata:
        index: list[dict[str, Any]] = (
            self.storage.read_result_json(row["id"], IMAGES_INDEX_FILE) or []
        )
        if filenames:
            keep = set(filenames)
            index = [img for img in index if img["filename"] in keep]
        images = [
            {
                **img,
                "presigned_url": self._presign(row, f"{IMAGES_DIR}/{img['filename']}", base_url),
            }
            for img in index
        ]
        return ImagesContentMetadata.model_validate({"total_count": len(images), "images": images})

    # change -----------------------------------------------------------------------------------

    def cancel(self, project_id: str, job_id: str) -> ParseJob:
        if self.db.cancel_job(job_id, project_id):
            self.notify()
            return to_parse_job(self.get_row(project_id, job_id))
        row = self.get_row(project_id, job_id)
        if row["status"] == "CANCELLED":
            return to_parse_job(row)
        raise InvalidRequestError(
            f"Parse job {job_id} is already {row['status']}; only PENDING or RUNNING jobs can "
            "be cancelled"
        )

    def delete(self, project_id: str, job_id: str) -> JobDeleted:
        if not self.db.delete_job(job_id, project_id):
            raise NotFoundError(f"Parse job not found: {job_id}")
        self.storage.delete_results(job_id)
        return JobDeleted(id=job_id, project_id=project_id)

    def open_signed_result(
        self,
        job_id: str,
        name: str,
        *,
        expires: str | None,
        project: str | None,
        signature: str | None,
    ) -> tuple[str, str]:
        """Verify a presigned result download; returns (file path, download file name)."""
        project_id = self.signer.verify(
            self.downloads.result(job_id, name),
            expires=expires,
            project=project,
            signature=signature,
        )
        self.get_row(project_id, job_id)
        path = self.storage.result_path(job_id, name)
        if path is None or not path.is_file():
            raise NotFoundError(f"Result not found: {name}")
        return str(path), posixpath.basename(name)


def versions() -> dict[str, Any]:
    """``GET /api/v2/parse/versions``: the dated versions each tier accepts (the ones the SDK
    knows, :mod:`lamina.services.api.versions`) and what latest means; all run
    ``ENGINE_VERSION``."""
    from lamina.services.api.versions import KNOWN_VERSIONS, LATEST

    body: dict[str, Any] = {tier: list(KNOWN_VERSIONS.get(tier, ())) for tier in TIERS}
    body["latest"] = {tier: LATEST.get(tier, PARSE_VERSION) for tier in TIERS}
    return body


def to_parse_job(row: Row) -> ParseJob:
    """A job row as a ParseJob: the fields the row has set (``error_message`` always, as the
    seed shows), the others unset, so they are not written."""
    fields: dict[str, Any] = {
        "id": row["id"],
        "project_id": row["project_id"],
        "status": row["status"],
        "created_at": aware(row["created_at"]),
        "updated_at": aware(row["updated_at"]),
        "error_message": row["error_message"],
        "name": row["name"],
        "tier": row["tier"],
        "user_metadata": row["user_metadata"],
    }
    return ParseJob(**{k: v for k, v in fields.items() if v is not None or k == "error_message"})


_RESULT_MODELS: dict[str, type[TextResult | MarkdownResult | ItemsResult | MetadataResult]] = {
    "text": TextResult,
    "markdown": MarkdownResult,
    "items": ItemsResult,
    "metadata": MetadataResult,
}
"""The result files a GET reads by expand value, and their models."""


def _iso(value: datetime | None) -> str | None:
    stamp = aware(value)
    return stamp.isoformat() if stamp else None


def _url_name(url: str) -> str:
    path = urlsplit(url).path
    return posixpath.basename(path.rstrip("/")) or urlsplit(url).netloc or "document"
