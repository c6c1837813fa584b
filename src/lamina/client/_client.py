"""``Client`` and ``AsyncClient``: the same calls over a blocking or an asyncio transport."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr

from lamina._exceptions import make_status_error
from lamina.client import _operations as ops
from lamina.client._base import BaseClient
from lamina.client._batches import AsyncBatches, AsyncDirectories, Batches, Directories
from lamina.client._config import resolve_config
from lamina.client._extract import AsyncExtract, Extract
from lamina.client._files import AsyncFiles, Files
from lamina.client._inputs import FileInput
from lamina.client._parsing import (
    DEFAULT_MAX_POLL_INTERVAL,
    DEFAULT_WAIT_TIMEOUT,
    AsyncParsing,
    PageProgress,
    Parsing,
)
from lamina.client._transport import async_embedded_transport, embedded_transport
from lamina.types import ParseResponse, PresignedURL

T = TypeVar("T")


class Client(BaseClient):
    """A client of the Lamina (or LlamaCloud) Parse v2, Extract v2 and Files APIs.

    Settings come from the arguments, else ``LAMINA_*`` then ``LLAMA_CLOUD_*`` environment
    variables (``BASE_URL``, ``API_KEY``, ``PROJECT_ID``, ``ORGANIZATION_ID``). With no base URL
    at all the server runs inside this process (data under ``data_dir``, default ``LAMINA_HOME``
    or ``~/.cache/lamina``), reached through the same HTTP calls.

    ``transport`` or ``http_client`` replace the network layer (e.g. for proxies or tests).
    Use as a context manager, or call :meth:`close`.
    """

    files: Files
    parsing: Parsing
    extract: Extract
    """Extract v2 jobs; callable: ``client.extract(path, Invoice)`` → :class:`ExtractResult`."""
    directories: Directories
    batches: Batches

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | SecretStr | None = None,
        project_id: str | None = None,
        organization_id: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        config = resolve_config(
            base_url=base_url,
            api_key=api_key,
            project_id=project_id,
            organization_id=organization_id,
            timeout=timeout,
            max_retries=max_retries,
            data_dir=data_dir,
        )
        super().__init__(config)
        if http_client is not None and transport is not None:
            raise ValueError("Pass either transport or http_client, not both")
        self._owns_http = http_client is None
        if http_client is None:
            if transport is None and config.embedded:
                transport = embedded_transport(config.data_dir)
            http_client = httpx.Client(
                transport=transport, timeout=config.timeout, follow_redirects=True
            )
        self._http = http_client
        self._transport = transport
        self.files = Files(self)
        self.parsing = Parsing(self)
        self.extract = Extract(self)
        self.directories = Directories(self)
        self.batches = Batches(self)

    def _call(self, call: ops.Call[T]) -> T:
        """Send ``call``, retrying as the policy allows, and read its answer."""
        retries_taken = 0
        while True:
            request = self._http.build_request(**self._request_kwargs(call.spec))
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                delay = self._delay_after_exception(retries_taken)
                if delay is None:
                    raise self._connection_error(exc, request) from exc
            else:
                if response.is_success:
                    return call.parse(response)
                delay = self._delay_after_response(retries_taken, response)
                if delay is None:
                    raise make_status_error(response)
                response.close()
            time.sleep(delay)
            retries_taken += 1

    def download(self, url: str | PresignedURL) -> bytes:
        """The bytes behind a presigned URL, fetched through this client's transport (so
        ``http://lamina.embedded/...`` URLs work in embedded mode)."""
        return self._call(ops.download(url))

    def parse(
        self,
        file: FileInput,
        *,
        filename: str | None = None,
        tier: str = ops.DEFAULT_TIER,
        expand: Sequence[str] = ops.DEFAULT_EXPAND,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        progress: PageProgress | None = None,
        **options: Any,
    ) -> ParseResponse:
        """Upload ``file``, parse it, wait, and return the results named in ``expand``.

        ``tier`` defaults to ``cost_effective`` (tables, OCR of scanned pages); ``fast``
        reads the text layer only. ``timeout`` is how long to wait for the job (``None``: no
        limit), not the HTTP timeout. ``progress(pages_done, pages_total)`` is called as
        pages finish. ``options`` go to :meth:`Parsing.create`
        (``page_ranges={"max_pages": 3}``, ...). Raises :class:`~lamina.JobFailedError` and
        friends like :meth:`Parsing.wait`.
        """
        if not expand:
            raise ValueError("expand must name at least one result, e.g. ('markdown',)")
        uploaded = self.files.create(file, filename=filename)
        job = self.parsing.create(uploaded.id, tier=tier, **options)
        self.parsing.wait(job.id, timeout=timeout, poll_interval=poll_interval, progress=progress)
        return self.parsing.get(job.id, expand=expand)

    def close(self) -> None:
        """Release connections (and stop the in-process server, in embedded mode)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(BaseClient):
    """The asyncio form of :class:`Client`: the same settings, calls and results, awaited."""

    files: AsyncFiles
    parsing: AsyncParsing
    extract: AsyncExtract
    """Extract v2 jobs; ``await client.extract(path, Invoice)`` → :class:`ExtractResult`."""
    directories: AsyncDirectories
    batches: AsyncBatches

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | SecretStr | None = None,
        project_id: str | None = None,
        organization_id: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        config = resolve_config(
            base_url=base_url,
            api_key=api_key,
            project_id=project_id,
            organization_id=organization_id,
            timeout=timeout,
            max_retries=max_retries,
            data_dir=data_dir,
        )
        super().__init__(config)
        if http_client is not None and transport is not None:
            raise ValueError("Pass either transport or http_client, not both")
        self._owns_http = http_client is None
        if http_client is None:
            if transport is None and config.embedded:
                transport = async_embedded_transport(config.data_dir)
            http_client = httpx.AsyncClient(
                transport=transport, timeout=config.timeout, follow_redirects=True
            )
        self._http = http_client
        self._transport = transport
        self.files = AsyncFiles(self)
        self.parsing = AsyncParsing(self)
        self.extract = AsyncExtract(self)
        self.directories = AsyncDirectories(self)
        self.batches = AsyncBatches(self)

    async def _call(self, call: ops.Call[T]) -> T:
        """Send ``call``, retrying as the policy allows, and read its answer."""
        retries_taken = 0
        while True:
            request = self._http.build_request(**self._request_kwargs(call.spec))
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                delay = self._delay_after_exception(retries_taken)
                if delay is None:
                    raise self._connection_error(exc, request) from exc
            else:
                if response.is_success:
                    return call.parse(response)
                delay = self._delay_after_response(retries_taken, response)
                if delay is None:
                    raise make_status_error(response)
                await response.aclose()
            await asyncio.sleep(delay)
            retries_taken += 1

    async def download(self, url: str | PresignedURL) -> bytes:
        """The bytes behind a presigned URL, fetched through this client's transport."""
        return await self._call(ops.download(url))

    async def parse(
        self,
        file: FileInput,
        *,
        filename: str | None = None,
        tier: str = ops.DEFAULT_TIER,
        expand: Sequence[str] = ops.DEFAULT_EXPAND,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        progress: PageProgress | None = None,
        **options: Any,
    ) -> ParseResponse:
        """Upload ``file``, parse it, wait, and return the results named in ``expand``.

        See :meth:`Client.parse`.
        """
        if not expand:
            raise ValueError("expand must name at least one result, e.g. ('markdown',)")
        uploaded = await self.files.create(file, filename=filename)
        job = await self.parsing.create(uploaded.id, tier=tier, **options)
        await self.parsing.wait(
            job.id, timeout=timeout, poll_interval=poll_interval, progress=progress
        )
        return await self.parsing.get(job.id, expand=expand)

    async def close(self) -> None:
        """Release connections (and stop the in-process server, in embedded mode)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
