"""Running parse jobs for sources with a bound on jobs in flight, sync and async; progress."""

from __future__ import annotations

import asyncio
import hashlib
import sys
import threading
import warnings
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from lamina import AsyncClient, Client, LaminaError
from lamina.ingest._sources import Source
from lamina.types import ParseResponse

DEFAULT_EXPAND: tuple[str, ...] = ("markdown", "items", "metadata")


@dataclass(frozen=True)
class JobOptions:
    """How each source is parsed: the tier, the create-body options and the waiting policy."""

    tier: str = "cost_effective"
    expand: tuple[str, ...] = DEFAULT_EXPAND
    parse_options: Mapping[str, Any] = field(default_factory=dict)
    timeout: float | None = 600.0
    poll_interval: float = 2.0

    @classmethod
    def for_granularity(
        cls,
        granularity: str,
        *,
        tier: str,
        parse_options: Mapping[str, Any],
        timeout: float | None,
    ) -> JobOptions:
        """Options that fetch what ``granularity`` needs: whole documents skip the items."""
        expand = ("markdown", "metadata") if granularity == "document" else DEFAULT_EXPAND
        return cls(tier=tier, expand=expand, parse_options=parse_options, timeout=timeout)


@dataclass
class Outcome:
    """The result of one source: a response, or the error that stopped it."""

    source: Source
    identity: str
    response: ParseResponse | None = None
    error: BaseException | None = None
    file_id: str | None = None
    name: str | None = None


RECOVERABLE = (LaminaError, OSError, ValueError)
"""Errors that are about the input (unreadable file, failed job, API error), so ``on_error``
decides their fate. Anything else is a bug and always propagates."""


def content_identity(data: bytes) -> str:
    """The identity of a content: its SHA-256."""
    return hashlib.sha256(data).hexdigest()


def reference_identity(source: Source) -> str:
    """The identity of a source whose content never reaches us (URL, job id)."""
    return f"{source.kind}:{source.ref or source.path or source.name}"


def parse_source(
    client: Client, source: Source, options: JobOptions, pages: PageCallback | None = None
) -> Outcome:
    """Run ``source``'s parse job to the end on a blocking client; errors become data.

    ``pages(source, pages_done, pages_total)`` follows a long job page by page."""
    outcome = Outcome(source=source, identity=reference_identity(source), name=source.name)
    try:
        if source.kind in ("path", "bytes"):
            data = source.read()
            outcome.identity = content_identity(data)
            job = client.parsing.create(
                upload_file=(source.name or "upload", data),
                tier=options.tier,
                **dict(options.parse_options),
            )
            job_id = job.id
        elif source.kind == "file":
            info = client.files.get(source.ref or "")
            outcome.identity, outcome.name, outcome.file_id = _file_identity(info, outcome)
            job_id = client.parsing.create(
                info.id, tier=options.tier, **dict(options.parse_options)
            ).id
        elif source.kind == "url":
            job_id = client.parsing.create(
                source_url=source.ref, tier=options.tier, **dict(options.parse_options)
            ).id
        else:
            job_id = source.ref or ""
        client.parsing.wait(
            job_id,
            timeout=options.timeout,
            poll_interval=options.poll_interval,
            progress=_page_reporter(pages, source),
        )
        outcome.response = client.parsing.get(job_id, expand=(*options.expand, "job_metadata"))
        outcome.name = outcome.name or outcome.response.job.name
        warn_textless_pages(outcome)
    except RECOVERABLE as exc:
        outcome.error = exc
    return outcome


async def aparse_source(
    client: AsyncClient, source: Source, options: JobOptions, pages: PageCallback | None = None
) -> Outcome:
    """Run ``source``'s parse job to the end on an asyncio client; errors become data."""
    outcome = Outcome(source=source, identity=reference_identity(source), name=source.name)
    try:
        if source.kind in ("path", "bytes"):
            data = await asyncio.to_thread(source.read)
            outcome.identity = content_identity(data)
            job = await client.parsing.create(
                upload_file=(source.name or "upload", data),
                tier=options.tier,
                **dict(options.parse_options),
            )
            job_id = job.id
        elif source.kind == "file":
            info = await client.files.get(source.ref or "")
            outcome.identity, outcome.name, outcome.file_id = _file_identity(info, outcome)
            job_id = (
                await client.parsing.create(
                    info.id, tier=options.tier, **dict(options.parse_options)
                )
            ).id
        elif source.kind == "url":
            job_id = (
                await client.parsing.create(
                    source_url=source.ref, tier=options.tier, **dict(options.parse_options)
                )
            ).id
        else:
            job_id = source.ref or ""
        await client.parsing.wait(
            job_id,
            timeout=options.timeout,
            poll_interval=options.poll_interval,
            progress=_page_reporter(pages, source),
        )
        outcome.response = await client.parsing.get(
            job_id, expand=(*options.expand, "job_metadata")
        )
        outcome.name = outcome.name or outcome.response.job.name
        warn_textless_pages(outcome)
    except RECOVERABLE as exc:
        outcome.error = exc
    return outcome


class TextlessPagesWarning(UserWarning):
    """Pages show images but gave no text because OCR did not run (tier ``fast``)."""


def warn_textless_pages(outcome: Outcome) -> None:
    """Warn when pages that show images came out empty because OCR was off: an empty page
    must never pass for a success unnoticed. (Without the ``ocr`` extra such pages fail
    instead, with the install command.)"""
    response = outcome.response
    meta = response.job_metadata if response is not None else None
    stats = meta.get("stats") if isinstance(meta, dict) else None
    if not isinstance(stats, dict) or "ocr_pages" in stats:
        return
    pages = [n for n in stats.get("pages_without_text") or [] if isinstance(n, int)]
    if pages:
        name = outcome.name or outcome.source.label
        listed = ", ".join(str(n) for n in pages[:10]) + (" ..." if len(pages) > 10 else "")
        warnings.warn(
            f"{name}: page(s) {listed} show images but have no text layer, and this tier "
            "does not read images: use tier='cost_effective' to OCR them",
            TextlessPagesWarning,
            stacklevel=2,
        )


PageCallback = Callable[[Source, int, int], None]
"""``pages(source, pages_done, pages_total)`` while the source's job runs."""


def _page_reporter(pages: PageCallback | None, source: Source) -> Callable[[int, int], None] | None:
    if pages is None:
        return None
    return lambda done, total: pages(source, done, total)


def _file_identity(info: Any, outcome: Outcome) -> tuple[str, str | None, str]:
    """An uploaded file is known by its content hash when the server reports one."""
    identity = info.sha256 or outcome.identity
    return identity, outcome.name or info.name, info.id


def run_sync(
    sources: Sequence[Source],
    client: Client,
    options: JobOptions,
    *,
    num_workers: int = 4,
    progress: Callable[[Outcome], None] | None = None,
) -> Iterator[Outcome]:
    """Parse ``sources`` with at most ``num_workers`` jobs in flight; yield in source order.

    A generator: nothing starts before the first ``next()``, and closing it early cancels the
    jobs not yet started. A ``progress`` with a ``pages(source, done, total)`` method (such as
    :class:`Progress`) also hears the pages done of each running job.
    """
    pages: PageCallback | None = getattr(progress, "pages", None)
    if num_workers <= 1:
        for source in sources:
            outcome = parse_source(client, source, options, pages)
            if progress:
                progress(outcome)
            yield outcome
        return
    pending = iter(sources)
    window: deque[Future[Outcome]] = deque()
    with ThreadPoolExecutor(max_workers=num_workers, thread_name_prefix="lamina") as pool:
        try:
            for source in pending:
                window.append(pool.submit(parse_source, client, source, options, pages))
                if len(window) >= num_workers:
                    break
            while window:
                outcome = window.popleft().result()
                next_source = next(pending, None)
                if next_source is not None:
                    window.append(pool.submit(parse_source, client, next_source, options, pages))
                if progress:
                    progress(outcome)
                yield outcome
        finally:
            for future in window:
                future.cancel()


async def run_async(
    sources: Sequence[Source],
    client: AsyncClient,
    options: JobOptions,
    *,
    num_workers: int = 4,
    progress: Callable[[Outcome], None] | None = None,
) -> AsyncIterator[Outcome]:
    """The asyncio form of :func:`run_sync`: tasks on the running loop, no threads for I/O."""
    pages: PageCallback | None = getattr(progress, "pages", None)
    pending = iter(sources)
    window: deque[asyncio.Task[Outcome]] = deque()
    limit = max(1, num_workers)
    try:
        for source in pending:
            window.append(asyncio.ensure_future(aparse_source(client, source, options, pages)))
            if len(window) >= limit:
                break
        while window:
            outcome = await window.popleft()
            next_source = next(pending, None)
            if next_source is not None:
                window.append(
                    asyncio.ensure_future(aparse_source(client, next_source, options, pages))
                )
            if progress:
                progress(outcome)
            yield outcome
    finally:
        for task in window:
            task.cancel()


# --- clients ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientSettings:
    """What a loader needs to open its own client when none was injected."""

    base_url: str | None = None
    api_key: Any = None
    data_dir: str | None = None


@contextmanager
def open_client(client: Client | None, settings: ClientSettings) -> Iterator[Client]:
    """The injected client (left open), else a new one closed on exit."""
    if client is not None:
        yield client
        return
    with Client(
        base_url=settings.base_url, api_key=settings.api_key, data_dir=settings.data_dir
    ) as own:
        yield own


@asynccontextmanager
async def open_async_client(
    async_client: AsyncClient | None, client: Client | None, settings: ClientSettings
) -> AsyncIterator[AsyncClient]:
    """The injected async client (left open); else a new one, configured like the injected
    sync client when there is one, closed on exit."""
    if async_client is not None:
        yield async_client
        return
    if client is not None:
        config = client.config
        own = AsyncClient(
            base_url=config.base_url,
            api_key=config.api_key,
            project_id=config.project_id,
            organization_id=config.organization_id,
            timeout=config.timeout,
            max_retries=config.max_retries,
            data_dir=config.data_dir,
        )
    else:
        own = AsyncClient(
            base_url=settings.base_url, api_key=settings.api_key, data_dir=settings.data_dir
        )
    async with own:
        yield own


# --- progress -----------------------------------------------------------------------------------


def progress_enabled(show_progress: bool | None) -> bool:
    """``show_progress`` if set, else on in a terminal or a notebook."""
    if show_progress is not None:
        return show_progress
    return "ipykernel" in sys.modules or sys.stderr.isatty()


class Progress:
    """A tqdm bar (a no-op when disabled); use as a context manager.

    It counts files, and shows the pages done of the latest running job beside them; for a
    single file it counts that file's pages, so a long scan shows movement.
    """

    def __init__(self, total: int, enabled: bool, desc: str = "Parsing") -> None:
        self._bar: Any = None
        self._single = total == 1
        self._lock = threading.Lock()
        if enabled:
            if "ipykernel" in sys.modules:
                from tqdm.auto import tqdm
            else:
                from tqdm import tqdm
            self._bar = tqdm(total=total, desc=desc, unit="file")

    def pages(self, source: Source, done: int, total: int) -> None:
        """A job reported ``done`` of ``total`` pages (from any thread)."""
        bar = self._bar
        if bar is None:
            return
        with self._lock:
            if self._single:
                bar.unit, bar.total, bar.n = "page", total, done
                bar.refresh()
            else:
                bar.set_postfix_str(f"{source.label}: page {done}/{total}")

    def __call__(self, outcome: Outcome) -> None:
        bar = self._bar
        if bar is None:
            return
        with self._lock:
            bar.set_postfix_str(outcome.name or outcome.source.label, refresh=False)
            if bar.unit == "page":
                bar.n = bar.total
                bar.refresh()
            else:
                bar.update(1)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()
