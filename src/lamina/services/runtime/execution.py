"""Running one claimed parse job: load its input, call the engine, write the result files.

Also what every kind of job shares: :class:`Outcome`, :class:`JobFailure`,
:class:`ExecutionLimits`, :func:`load_input` and :func:`items_pages` (extract and classify
jobs reuse them). Which function runs a job of which kind is decided in
:mod:`lamina.services.runtime.jobs`, so nothing here imports the API services.

Shared by worker processes and inline mode. Every failure becomes a FAILED status with a message
a user can act on; nothing here raises.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from lamina.extract.llm import ModelEndpoint
from lamina.services.api.page_output import (
    PageOutputOptions,
    allowed_failure_ratio,
    failure_message,
)
from lamina.services.outbound import (
    Deadline,
    OutboundClient,
    OutboundDenied,
    OutboundError,
    OutboundPolicy,
)
from lamina.services.store.cache import (
    CachePolicy,
    cache_policy,
    file_extension,
    result_cache_key,
)
from lamina.services.store.db import Row
from lamina.services.store.storage import (
    IMAGES_DIR,
    IMAGES_INDEX_FILE,
    JOB_METADATA_FILE,
    RESULT_FILES,
    Storage,
    dump_json,
    is_safe_name,
    write_atomic,
)
from lamina.types import (
    FailedPage,
    ItemsPage,
    ItemsResult,
    MarkdownPage,
    MarkdownResult,
    MetadataResult,
    PageMetadata,
    ParseConfiguration,
    TextPage,
    TextResult,
)

if TYPE_CHECKING:
    from lamina.engine.result import ParseResult

log = logging.getLogger("lamina.worker")


class JobFailure(Exception):
    """A job-level failure whose message goes to the job's ``error_message`` as is."""


@dataclass(frozen=True)
class Outcome:
    """How a job ended."""

    status: str
    error_message: str | None = None
    summary: dict[str, Any] | None = None
    cache_key: str | None = None
    """Set when the result may be reused by later jobs (COMPLETED, caching allowed)."""


class ResultCache(Protocol):
    """Where earlier results are found (:class:`~lamina.services.store.db.Database` is one)."""

    def cached_results(self, project_id: str, cache_key: str, *, limit: int = 3) -> list[str]: ...


@dataclass(frozen=True)
class ExecutionLimits:
    """What a worker may use: input size and fetch time, the model endpoint (if any), and the
    engine's per-document limits (pages parsed, image pixels)."""

    max_source_bytes: int
    fetch_timeout_seconds: float
    model: ModelEndpoint | None = None
    max_pages: int | None = None
    max_image_pixels: int | None = None
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)
    """Where ``source_url`` may be fetched from (public addresses only by default)."""


@dataclass(frozen=True, slots=True)
class ParseJobOptions:
    """A parse job's stored configuration resolved once, when the job runs: every step of the
    job (the engine, the result files, the failure check, the result cache) reads this, none
    the stored mapping again."""

    config: ParseConfiguration
    """The validated configuration: what the engine reads."""
    pages: PageOutputOptions
    """The page options of ``markdown_full``."""
    failure_ratio: tuple[float | None, str]
    """The share of pages allowed to fail, and the option that set it."""
    cache: CachePolicy
    stored: dict[str, Any]
    """The configuration as stored: what the result cache key is made of."""

    @classmethod
    def resolve(cls, stored: dict[str, Any]) -> ParseJobOptions:
        """Raises ``ValidationError`` for a configuration the model refuses and
        :class:`JobFailure` for page options the create route let through (older rows, other
        writers)."""
        config = ParseConfiguration.model_validate(stored)
        try:
            pages = PageOutputOptions.from_config(config)
            failure_ratio = allowed_failure_ratio(config)
        except ValueError as exc:
            raise JobFailure(f"Invalid option: {exc}") from exc
        return cls(config, pages, failure_ratio, cache_policy(stored), stored)


def job_timeout(row: Row, ceiling: float) -> float:
    """The job's time limit: ``processing_control.timeouts.base_in_seconds`` when it is lower
    than the operator's ``job_timeout_seconds`` (``ceiling``), else the ceiling. A caller may
    ask for less time, never for more."""
    try:
        timeouts = (row["configuration"].get("processing_control") or {}).get("timeouts") or {}
        base = float(timeouts.get("base_in_seconds") or 0)
    except (AttributeError, TypeError, ValueError):
        return ceiling
    if not base > 0 or base != base:  # missing, negative or NaN
        return ceiling
    return min(base, ceiling) if ceiling > 0 else base


def fetch_source(url: str, *, proxy: str | None, limits: ExecutionLimits) -> bytes:
    """Download ``source_url`` under the outbound policy (:mod:`lamina.services.outbound`):
    every redirect hop checked, at most ``max_source_bytes``, within ``fetch_timeout_seconds``
    in total. Failures say what a caller may know, never what the network looked like."""
    client = OutboundClient(limits.outbound, user_agent="lamina-fetch")
    deadline = Deadline(limits.fetch_timeout_seconds)
    chunks: list[bytes] = []
    try:
        with client.stream(
            "GET", url, deadline=deadline, proxy=proxy, follow_redirects=True
        ) as response:
            if response.status_code >= 400:
                raise JobFailure(f"Could not fetch source_url {url}: HTTP {response.status_code}")
            if response.status_code >= 300:
                raise JobFailure(
                    f"Could not fetch source_url {url}: HTTP {response.status_code} without "
                    "a usable Location"
                )
            for chunk in client.read_body(
                response, max_bytes=limits.max_source_bytes, deadline=deadline
            ):
                chunks.append(chunk)
    except (OutboundDenied, OutboundError) as exc:
        raise JobFailure(f"Could not fetch source_url {url}: {exc}") from None
    except ValueError as exc:  # an unusable URL stored by an older version
        raise JobFailure(f"Could not fetch source_url {url}: {exc}") from None
    return b"".join(chunks)


def load_input(row: Row, storage: Storage, limits: ExecutionLimits) -> bytes:
    if row["file_id"]:
        try:
            return storage.read_file(row["file_id"])
        except FileNotFoundError as exc:
            raise JobFailure(f"The input file {row['file_id']} was deleted") from exc
    if row["source_url"]:
        return fetch_source(row["source_url"], proxy=row["http_proxy"], limits=limits)
    raise JobFailure("The job has neither a file nor a source_url")


def run_parse_job(
    row: Row, storage: Storage, limits: ExecutionLimits, cache: ResultCache | None = None
) -> Outcome:
    """Run one claimed parse job to an :class:`Outcome` (never raises); results are published
    before COMPLETED is returned. With ``cache``, a job whose key matches an earlier completed
    job of its project reuses that job's result files (:mod:`lamina.services.store.cache`).
    The engine limits are applied by the caller (:func:`lamina.services.runtime.jobs.execute`).
    """
    started = time.monotonic()
    try:
        from lamina.engine import EngineError, parse_document
    except ImportError as exc:  # pragma: no cover - engine missing from the install
        return Outcome("FAILED", f"The parse engine is not available: {exc}")
    try:
        options = ParseJobOptions.resolve(row["configuration"])
        data = load_input(row, storage, limits)
        policy = options.cache
        key = None
        if cache is not None and policy.enabled:
            key = result_cache_key(
                hashlib.sha256(data).hexdigest(),
                options.stored,
                extension=file_extension(row["name"]),
            )
            if policy.read:
                reused = _reuse_cached(row, key, cache, storage, started, limits.max_pages)
                if reused is not None:
                    return replace(reused, cache_key=key if policy.write else None)
        result = parse_document(data, filename=row["name"], config=options.config)
        with storage.staged_results(row["id"]) as staging:
            summary = write_results(
                staging,
                result,
                time.monotonic() - started,
                page_options=options.pages,
                cache_hit=False,
            )
        outcome = _check_failure_ratio(options.failure_ratio, summary, result)
        if outcome.status == "COMPLETED" and policy.write:
            outcome = replace(outcome, cache_key=key)
        return outcome
    except JobFailure as exc:
        return Outcome("FAILED", str(exc))
    except EngineError as exc:
        return Outcome("FAILED", str(exc) or type(exc).__name__)
    except ValidationError as exc:
        return Outcome("FAILED", f"Invalid stored configuration: {exc}")
    except Exception as exc:
        log.exception("job %s failed with an unexpected error", row["id"])
        return Outcome("FAILED", f"Internal error while parsing: {type(exc).__name__}: {exc}")


_SUMMARY_KEYS = (
    "engine_version",
    "file_type",
    "page_count",
    "pages_parsed",
    "failed_pages",
    "image_count",
)


def _reuse_cached(
    row: Row,
    key: str,
    cache: ResultCache,
    storage: Storage,
    started: float,
    max_pages: int | None = None,
) -> Outcome | None:
    """Publish an earlier job's results as this job's; None when no usable entry exists.

    An entry with more pages than ``max_pages`` (the page limit may have been lowered since)
    is not reused: the engine runs and refuses the document as it would uncached."""
    for source_id in cache.cached_results(row["project_id"], key):
        if source_id == row["id"]:
            continue
        stored = storage.read_result_json(source_id, JOB_METADATA_FILE)
        if not isinstance(stored, dict):
            continue  # deleted meanwhile: try the next one
        selected = int(stored.get("pages_parsed") or 0) + len(stored.get("failed_pages") or [])
        if max_pages is not None and selected > max_pages:
            return None
        try:
            with storage.staged_results(row["id"]) as staging:
                storage.copy_results(source_id, staging, skip=frozenset({JOB_METADATA_FILE}))
                metadata = {
                    **stored,
                    "duration_seconds": round(time.monotonic() - started, 3),
                    "cache_hit": True,
                    "cached_from": source_id,
                }
                write_atomic(staging / JOB_METADATA_FILE, dump_json(metadata))
        except OSError:
            log.warning("job %s: could not reuse the results of %s", row["id"], source_id)
            continue
        log.info("job %s: cache hit (results of %s)", row["id"], source_id)
        summary = {k: stored[k] for k in _SUMMARY_KEYS if k in stored}
        return Outcome("COMPLETED", None, summary)
    return None


def _check_failure_ratio(
    failure_ratio: tuple[float | None, str], summary: dict[str, Any], result: ParseResult
) -> Outcome:
    """FAILED when more pages failed than the job allows, else COMPLETED."""
    allowed, option = failure_ratio
    parsed = summary["pages_parsed"] + len(summary["failed_pages"])
    if allowed is not None and parsed:
        failed = {p.page_number: p.error or "" for p in result.pages if p.error is not None}
        ratio = len(failed) / parsed
        if ratio > allowed:
            message = failure_message(failed, parsed, ratio, allowed, option)
            return Outcome("FAILED", message, summary)
    return Outcome("COMPLETED", None, summary)


# --- result files ------------------------------------------------------------------------------


def _safe_image_name(name: str, index: int) -> str:
    if is_safe_name(name):
        return name
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip("._") or "image"
    return f"{index}_{cleaned}"[:200]


def items_pages(result: ParseResult) -> list[ItemsPage | FailedPage]:
    """The items of every page of ``result`` in their wire shape (as ``items.json`` holds)."""
    pages: list[ItemsPage | FailedPage] = []
    for page in result.pages:
        if page.error is not None:
            pages.append(FailedPage(page_number=page.page_number, error=page.error))
        else:
            pages.append(
                ItemsPage(
                    page_number=page.page_number,
                    page_width=page.page_width,
                    page_height=page.page_height,
                    items=page.items,
                )
            )
    return pages


def write_results(
    folder: Path,
    result: ParseResult,
    elapsed: float,
    *,
    config: ParseConfiguration | None = None,
    page_options: PageOutputOptions | None = None,
    cache_hit: bool | None = None,
) -> dict[str, Any]:
    """Write every result file of ``result`` into ``folder``; returns the job's summary.

    ``page_options`` (resolved, :class:`ParseJobOptions`), or else ``config``, supplies the
    page options of ``markdown_full`` (:mod:`.page_output`); ``cache_hit`` is recorded in
    ``job_metadata`` when given.
    """
    if page_options is None:
        page_options = PageOutputOptions.from_config(config)
    markdown_pages: list[MarkdownPage | FailedPage] = []
    items_pages: list[ItemsPage | FailedPage] = []
    text_pages, meta_pages, failed = [], [], []
    for page in result.pages:
        n = page.page_number
        text_pages.append(TextPage(page_number=n, text=page.text))
        meta = page.metadata or PageMetadata(page_number=n)
        meta_pages.append(meta.model_copy(update={"page_number": n}))
        if page.error is not None:
            failed.append(n)
            markdown_pages.append(FailedPage(page_number=n, error=page.error))
            items_pages.append(FailedPage(page_number=n, error=page.error))
            continue
        markdown_pages.append(
            MarkdownPage(
                page_number=n, markdown=page.markdown, header=page.header, footer=page.footer
            )
        )
        items_pages.append(
            ItemsPage(
                page_number=n,
                page_width=page.page_width,
                page_height=page.page_height,
                items=page.items,
            )
        )
    ok_pages = [p for p in result.pages if p.error is None]
    confidences = [m.confidence for m in meta_pages if m.confidence is not None]
    document = {"confidence": sum(confidences) / len(confidences)} if confidences else None
    outputs: dict[str, bytes] = {
        "markdown": dump_json(MarkdownResult(pages=markdown_pages).to_json_dict()),
        "text": dump_json(TextResult(pages=text_pages).to_json_dict()),
        "items": dump_json(ItemsResult(pages=items_pages).to_json_dict()),
        "metadata": dump_json(
            MetadataResult.model_validate(
                {"pages": meta_pages, "document": document}
            ).to_json_dict()
        ),
        "markdown_full": page_options.join_markdown(result.pages).encode("utf-8"),
        "text_full": "\n\n".join(p.text for p in ok_pages).encode("utf-8"),
    }
    for key, data in outputs.items():
        write_atomic(folder / RESULT_FILES[key][0], data)

    images = []
    for index, image in enumerate(result.images):
        filename = _safe_image_name(image.filename, index)
        write_atomic(folder / IMAGES_DIR / filename, image.data)
        entry: dict[str, Any] = {
            "index": index,
            "filename": filename,
            "content_type": image.content_type,
            "size_bytes": len(image.data),
            "category": image.category
            if image.category in ("screenshot", "embedded", "layout")
            else None,
            "page_number": image.page_number,
        }
        if image.bbox is not None:
            x, y, w, h = image.bbox
            entry["bbox"] = {"x": x, "y": y, "w": w, "h": h}
        images.append({k: v for k, v in entry.items() if v is not None})
    write_atomic(folder / IMAGES_INDEX_FILE, dump_json(images))

    summary: dict[str, Any] = {
        "engine_version": result.engine_version,
        "file_type": result.file_type,
        "page_count": result.page_count,
        "pages_parsed": len(ok_pages),
        "failed_pages": failed,
        "image_count": len(images),
    }
    job_metadata = {**summary, "duration_seconds": round(elapsed, 3), "stats": result.stats}
    if cache_hit is not None:
        job_metadata["cache_hit"] = cache_hit
    write_atomic(folder / JOB_METADATA_FILE, dump_json(job_metadata))
    return summary
