"""``client.parsing``: create, follow, fetch, list, cancel and delete parse jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

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
        tier: str = "fast",
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
    ) -> ParseJob:
        """Poll until the job completes and return it.

        Polls start 0.1s apart and slow down to ``poll_interval``. Raises
        :class:`~lamina.JobFailedError`, :class:`~lamina.JobCancelledError`, or
        :class:`~lamina.JobTimeoutError` after ``timeout`` seconds (``None``: wait forever).
        """
        return wait_for(
            lambda: self.get(job_id).job,
            ops.job_done,
            job_id,
            timeout,
            poll_interval,
            self._client._changes,
        )

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
        tier: str = "fast",
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
    ) -> ParseJob:
        """Poll until the job completes and return it; see :meth:`Parsing.wait`."""

        async def fetch() -> ParseJob:
            return (await self.get(job_id)).job

        return await await_for(
            fetch, ops.job_done, job_id, timeout, poll_interval, self._client._changes
        )

    async def download(self, url: str | PresignedURL) -> bytes:
        """Fetch a presigned result URL (e.g. from ``*_content_metadata``) through this client."""
        return await self._client.download(url)
