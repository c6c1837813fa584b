"""``client.parsing``: create, follow, fetch, list, cancel and delete parse jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from lamina._exceptions import JobTimeoutError
from lamina.client import _operations as ops
from lamina.client._inputs import FileInput
from lamina.client._waiting import await_for, wait_for
from lamina.types import PaginatedList, ParseJob, ParseResponse, PresignedURL

if TYPE_CHECKING:
    from lamina.client._client import AsyncClient, Client

DEFAULT_WAIT_TIMEOUT = 600.0
DEFAULT_MAX_POLL_INTERVAL = 2.0


class Parsing:
    """Parse jobs. Reach it as ``client.parsing``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(
        self,
        file_id: str | None = None,
        *,
        upload_file: FileInput | None = None,
        filename: str | None = None,
        source_url: str | None = None,
        tier: str = ops.DEFAULT_TIER,
        version: str = "latest",
        **options: Any,
    ) -> ParseJob:
        """Start parsing an uploaded file (``file_id``), a file sent along (``upload_file``) or
        a URL (``source_url``). ``options`` are the create body's other fields
        (``page_ranges``, ``output_options``, ...), as dicts or :mod:`lamina.types` models."""
        call = ops.parse_create(
            file_id,
            upload_file=upload_file,
            filename=filename,
            source_url=source_url,
            tier=tier,
            version=version,
            options=options,
        )
        return self._client._call(call)

    def get(
        self,
        job_id: str,
        *,
        expand: Sequence[str] = (),
        image_filenames: str | Sequence[str] | None = None,
    ) -> ParseResponse:
        """The job, plus the results named in ``expand`` (see ``lamina.types.EXPAND_VALUES``)."""
        return self._client._call(
            ops.parse_get(job_id, expand=expand, image_filenames=image_filenames)
        )

    def list(
        self,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
        status: str | None = None,
    ) -> PaginatedList[ParseJob]:
        """One page of jobs, newest first, optionally only those with ``status``."""
        return self._client._call(ops.parse_list(page_size, page_token, status))

    def iter(
        self, *, page_size: int | None = None, status: str | None = None
    ) -> Iterator[ParseJob]:
        """Every job (optionally with ``status``), fetching pages as the iteration reaches them."""
        token: str | None = None
        while True:
            page = self.list(page_size=page_size, page_token=token, status=status)
            yield from page.items
            token = page.next_page_token
            if not token:
                return

    def cancel(self, job_id: str) -> ParseJob:
        """Ask the server to stop the job; returns its state after the request."""
        return self._client._call(ops.parse_cancel(job_id))

    def delete(self, job_id: str) -> None:
        """Delete the job and its results."""
        self._client._call(ops.parse_delete(job_id))

    def wait(
        self,
        job_id: str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        progress: PageProgress | None = None,
    ) -> ParseJob:
        """Poll until the job completes and return it.

        Polls start 0.1s apart and slow down to ``poll_interval``. Raises
        :class:`~lamina.JobFailedError`, :class:`~lamina.JobCancelledError`, or
        :class:`~lamina.JobTimeoutError` after ``timeout`` seconds (``None``: wait forever;
        the error says how many pages were done). ``progress(pages_done, pages_total)`` is
        called as the job reports pages done (``job_metadata``; servers that do not report
        them never call it).
        """
        tracker = _ProgressTracker(progress)

        def fetch() -> ParseJob:
            if progress is None:
                return self.get(job_id).job
            return tracker.seen(self.get(job_id, expand=("job_metadata",)))

        try:
            return wait_for(
                fetch, ops.job_done, job_id, timeout, poll_interval, self._client._changes
            )
        except JobTimeoutError as exc:
            raise tracker.timeout_error(exc) from None

    def download(self, url: str | PresignedURL) -> bytes:
        """Fetch a presigned result URL (e.g. from ``*_content_metadata``) through this client."""
        return self._client.download(url)


class AsyncParsing:
    """Parse jobs, asyncio form. Reach it as ``client.parsing``."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(
        self,
        file_id: str | None = None,
        *,
        upload_file: FileInput | None = None,
        filename: str | None = None,
        source_url: str | None = None,
        tier: str = ops.DEFAULT_TIER,
        version: str = "latest",
        **options: Any,
    ) -> ParseJob:
        """Start parsing an uploaded file (``file_id``), a file sent along (``upload_file``) or
        a URL (``source_url``). ``options`` are the create body's other fields
        (``page_ranges``, ``output_options``, ...), as dicts or :mod:`lamina.types` models."""
        call = ops.parse_create(
            file_id,
            upload_file=upload_file,
            filename=filename,
            source_url=source_url,
            tier=tier,
            version=version,
            options=options,
        )
        return await self._client._call(call)

    async def get(
        self,
        job_id: str,
        *,
        expand: Sequence[str] = (),
        image_filenames: str | Sequence[str] | None = None,
    ) -> ParseResponse:
        """The job, plus the results named in ``expand`` (see ``lamina.types.EXPAND_VALUES``)."""
        return await self._client._call(
            ops.parse_get(job_id, expand=expand, image_filenames=image_filenames)
        )

    async def list(
        self,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
        status: str | None = None,
    ) -> PaginatedList[ParseJob]:
        """One page of jobs, newest first, optionally only those with ``status``."""
        return await self._client._call(ops.parse_list(page_size, page_token, status))

    async def iter(
        self, *, page_size: int | None = None, status: str | None = None
    ) -> AsyncIterator[ParseJob]:
        """Every job (optionally with ``status``), fetching pages as the iteration reaches them."""
        token: str | None = None
        while True:
            page = await self.list(page_size=page_size, page_token=token, status=status)
            for item in page.items:
                yield item
            token = page.next_page_token
            if not token:
                return

    async def cancel(self, job_id: str) -> ParseJob:
        """Ask the server to stop the job; returns its state after the request."""
        return await self._client._call(ops.parse_cancel(job_id))

    async def delete(self, job_id: str) -> None:
        """Delete the job and its results."""
        await self._client._call(ops.parse_delete(job_id))

    async def wait(
        self,
        job_id: str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        progress: PageProgress | None = None,
    ) -> ParseJob:
        """Poll until the job completes and return it; see :meth:`Parsing.wait`."""
        tracker = _ProgressTracker(progress)

        async def fetch() -> ParseJob:
            if progress is None:
                return (await self.get(job_id)).job
            return tracker.seen(await self.get(job_id, expand=("job_metadata",)))

        try:
            return await await_for(
                fetch, ops.job_done, job_id, timeout, poll_interval, self._client._changes
            )
        except JobTimeoutError as exc:
            raise tracker.timeout_error(exc) from None

    async def download(self, url: str | PresignedURL) -> bytes:
        """Fetch a presigned result URL (e.g. from ``*_content_metadata``) through this client."""
        return await self._client.download(url)


PageProgress = Callable[[int, int], None]
"""``progress(pages_done, pages_total)``, called while a parse job runs."""


class _ProgressTracker:
    """Reads pages done from each poll's ``job_metadata`` and passes changes on."""

    def __init__(self, callback: PageProgress | None) -> None:
        self._callback = callback
        self.last: tuple[int, int] | None = None

    def seen(self, response: ParseResponse) -> ParseJob:
        meta = response.job_metadata or {}
        done, total = meta.get("pages_done"), meta.get("pages_total")
        if isinstance(done, int) and isinstance(total, int) and total > 0:
            if (done, total) != self.last and self._callback is not None:
                self._callback(done, total)
            self.last = (done, total)
        return response.job

    def timeout_error(self, exc: JobTimeoutError) -> JobTimeoutError:
        """``exc`` with the pages done so far, when the job reported them."""
        if self.last is None:
            return exc
        return JobTimeoutError(exc.job_id, exc.timeout, exc.job, pages=self.last)
