"""``client.directories`` and ``client.batches``: directories of files and batch jobs over them.

Calls are described once as :class:`~lamina.client._operations.Call` values here and sent by
the sync and async resources alike.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lamina._exceptions import JobTimeoutError
from lamina.client._inputs import FileInput, read_file_input
from lamina.client._operations import (
    Call,
    RequestSpec,
    _drop_none,
    _jsonable,
    _model,
    _nothing,
    _segment,
)
from lamina.types import (
    BATCH_TERMINAL_STATUSES,
    BatchCancelResponse,
    BatchItem,
    BatchItemList,
    BatchJob,
    BatchJobList,
    BatchJobStatusResponse,
    Directory,
    DirectoryFile,
    ItemProcessingResults,
    PaginatedList,
)

if TYPE_CHECKING:
    from lamina.client._client import AsyncClient, Client

DIRECTORIES = "/api/v1/beta/directories"
BATCH = "/api/v1/beta/batch-processing"

ProgressCallback = Callable[[BatchJobStatusResponse], None]


# --- calls ----------------------------------------------------------------------------------------


def _dir(directory_id: str) -> str:
    return f"{DIRECTORIES}/{_segment(directory_id, 'directory_id')}"


def directory_create(name: str, description: str | None, type: str | None) -> Call[Directory]:
    body = _drop_none({"name": name, "description": description, "type": type})
    return Call(RequestSpec("POST", DIRECTORIES, json=body), _model(Directory))


def directory_get(directory_id: str) -> Call[Directory]:
    return Call(RequestSpec("GET", _dir(directory_id)), _model(Directory))


def directory_list(
    page_size: int | None, page_token: str | None, name: str | None
) -> Call[PaginatedList[Directory]]:
    params = _drop_none({"page_size": page_size, "page_token": page_token, "name": name})
    spec = RequestSpec("GET", DIRECTORIES, params=params)
    return Call(spec, _model(PaginatedList[Directory]))


def directory_update(
    directory_id: str, name: str | None, description: str | None
) -> Call[Directory]:
    body = _drop_none({"name": name, "description": description})
    return Call(RequestSpec("PATCH", _dir(directory_id), json=body), _model(Directory))


def directory_delete(directory_id: str) -> Call[None]:
    return Call(RequestSpec("DELETE", _dir(directory_id)), _nothing)


def directory_add_file(
    directory_id: str,
    file_id: str,
    display_name: str | None,
    unique_id: str | None,
    metadata: Mapping[str, Any] | None,
) -> Call[DirectoryFile]:
    body = _drop_none(
        {
            "file_id": file_id,
            "display_name": display_name,
            "unique_id": unique_id,
            "metadata": dict(metadata) if metadata else None,
        }
    )
    spec = RequestSpec("POST", f"{_dir(directory_id)}/files", json=body)
    return Call(spec, _model(DirectoryFile))


def directory_upload_file(
    directory_id: str,
    file: FileInput,
    filename: str | None,
    display_name: str | None,
    unique_id: str | None,
    external_file_id: str | None,
) -> Call[DirectoryFile]:
    name, content, content_type = read_file_input(file, filename)
    form = _drop_none(
        {"display_name": display_name, "unique_id": unique_id, "external_file_id": external_file_id}
    )
    spec = RequestSpec(
        "POST",
        f"{_dir(directory_id)}/files/upload",
        data=form,
        files={"upload_file": (name, content, content_type)},
    )
    return Call(spec, _model(DirectoryFile))


def directory_list_files(
    directory_id: str, page_size: int | None, page_token: str | None
) -> Call[PaginatedList[DirectoryFile]]:
    params = _drop_none({"page_size": page_size, "page_token": page_token})
    spec = RequestSpec("GET", f"{_dir(directory_id)}/files", params=params)
    return Call(spec, _model(PaginatedList[DirectoryFile]))


def batch_body(
    *,
    directory_id: str | None,
    item_ids: Sequence[str] | None,
    tier: str | None,
    parameters: Mapping[str, Any] | None,
    classify_rules: Sequence[Mapping[str, str]] | None,
    mode: str | None,
    webhook_url: str | None,
    webhook_configurations: Sequence[Mapping[str, Any]] | None,
    max_concurrency: int | None,
    job_config: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The create body: a parse config from ``tier``/``parameters``, or a classify config from
    ``classify_rules``/``mode``; ``job_config`` given whole wins over both."""
    if (directory_id is None) == (item_ids is None):
        raise ValueError("Give exactly one of directory_id or item_ids")
    if job_config is not None:
        config: dict[str, Any] = _jsonable(dict(job_config))
    elif classify_rules:
        config = {"rules": [dict(rule) for rule in classify_rules], "mode": mode or "FAST"}
    else:
        params = dict(parameters or {})
        if tier is not None:
            params["tier"] = tier
        config = {"job_name": "parse_raw_file_job", "parameters": _jsonable(params)}
    if webhook_url is not None:
        config["webhook_url"] = webhook_url
    return _drop_none(
        {
            "job_config": config,
            "directory_id": directory_id,
            "item_ids": list(item_ids) if item_ids is not None else None,
            "webhook_configurations": _jsonable(list(webhook_configurations))
            if webhook_configurations
            else None,
            "max_concurrency": max_concurrency,
        }
    )


def batch_create(body: Mapping[str, Any]) -> Call[BatchJob]:
    return Call(RequestSpec("POST", BATCH, json=dict(body)), _model(BatchJob))


def batch_get(batch_id: str) -> Call[BatchJobStatusResponse]:
    path = f"{BATCH}/{_segment(batch_id, 'batch_id')}"
    return Call(RequestSpec("GET", path), _model(BatchJobStatusResponse))


def batch_list(
    directory_id: str | None,
    job_type: str | None,
    status: str | None,
    limit: int | None,
    offset: int | None,
) -> Call[BatchJobList]:
    params = _drop_none(
        {
            "directory_id": directory_id,
            "job_type": job_type,
            "status": status,
            "limit": limit,
            "offset": offset,
        }
    )
    return Call(RequestSpec("GET", BATCH, params=params), _model(BatchJobList))


def batch_cancel(batch_id: str, reason: str | None) -> Call[BatchCancelResponse]:
    path = f"{BATCH}/{_segment(batch_id, 'batch_id')}/cancel"
    body = _drop_none({"reason": reason})
    return Call(RequestSpec("POST", path, json=body), _model(BatchCancelResponse))


def batch_items(
    batch_id: str, status: str | None, limit: int | None, offset: int | None
) -> Call[BatchItemList]:
    path = f"{BATCH}/{_segment(batch_id, 'batch_id')}/items"
    params = _drop_none({"status": status, "limit": limit, "offset": offset})
    return Call(RequestSpec("GET", path, params=params), _model(BatchItemList))


def item_results(item_id: str, job_type: str | None) -> Call[ItemProcessingResults]:
    path = f"{BATCH}/items/{_segment(item_id, 'item_id')}/processing-results"
    params = _drop_none({"job_type": job_type})
    return Call(RequestSpec("GET", path, params=params), _model(ItemProcessingResults))


def _next_offset(page: BatchItemList) -> int | None:
    return int(page.next_page_token) if page.next_page_token else None


# --- sync resources -------------------------------------------------------------------------------


class Directories:
    """Directories of files. Reach it as ``client.directories``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(
        self, name: str, *, description: str | None = None, type: str | None = None
    ) -> Directory:
        """A new directory (``type`` ``user`` or ``ephemeral``)."""
        return self._client._call(directory_create(name, description, type))

    def get(self, directory_id: str) -> Directory:
        return self._client._call(directory_get(directory_id))

    def list(
        self,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
        name: str | None = None,
    ) -> PaginatedList[Directory]:
        return self._client._call(directory_list(page_size, page_token, name))

    def update(
        self, directory_id: str, *, name: str | None = None, description: str | None = None
    ) -> Directory:
        return self._client._call(directory_update(directory_id, name, description))

    def delete(self, directory_id: str) -> None:
        self._client._call(directory_delete(directory_id))

    def add_file(
        self,
        directory_id: str,
        file_id: str,
        *,
        display_name: str | None = None,
        unique_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> DirectoryFile:
        """Put an uploaded file (``file_id``) in the directory."""
        call = directory_add_file(directory_id, file_id, display_name, unique_id, metadata)
        return self._client._call(call)

    def upload_file(
        self,
        directory_id: str,
        file: FileInput,
        *,
        filename: str | None = None,
        display_name: str | None = None,
        unique_id: str | None = None,
        external_file_id: str | None = None,
    ) -> DirectoryFile:
        """Upload ``file`` (a path, bytes, ``(name, bytes)`` or a file object) into it."""
        call = directory_upload_file(
            directory_id, file, filename, display_name, unique_id, external_file_id
        )
        return self._client._call(call)

    def list_files(
        self, directory_id: str, *, page_size: int | None = None, page_token: str | None = None
    ) -> PaginatedList[DirectoryFile]:
        return self._client._call(directory_list_files(directory_id, page_size, page_token))

    def iter_files(
        self, directory_id: str, *, page_size: int | None = None
    ) -> Iterator[DirectoryFile]:
        """Every file of the directory, a page at a time."""
        token: str | None = None
        while True:
            page = self.list_files(directory_id, page_size=page_size, page_token=token)
            yield from page.items
            token = page.next_page_token
            if not token:
                return


class Batches:
    """Batch processing jobs (``/api/v1/beta/batch-processing``). Reach it as
    ``client.batches``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(
        self,
        directory_id: str | None = None,
        *,
        item_ids: Sequence[str] | None = None,
        tier: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        classify_rules: Sequence[Mapping[str, str]] | None = None,
        mode: str | None = None,
        webhook_url: str | None = None,
        webhook_configurations: Sequence[Mapping[str, Any]] | None = None,
        max_concurrency: int | None = None,
        job_config: Mapping[str, Any] | None = None,
    ) -> BatchJob:
        """Start a batch over a directory (or ``item_ids``): parse with ``tier`` /
        ``parameters`` (the v1 parse parameters), or classify with ``classify_rules``
        (``[{"type": ..., "description": ...}]``) in ``mode`` FAST or MULTIMODAL."""
        body = batch_body(
            directory_id=directory_id,
            item_ids=item_ids,
            tier=tier,
            parameters=parameters,
            classify_rules=classify_rules,
            mode=mode,
            webhook_url=webhook_url,
            webhook_configurations=webhook_configurations,
            max_concurrency=max_concurrency,
            job_config=job_config,
        )
        return self._client._call(batch_create(body))

    def get(self, batch_id: str) -> BatchJobStatusResponse:
        """The job with its counts and ``progress_percentage``."""
        return self._client._call(batch_get(batch_id))

    def list(
        self,
        *,
        directory_id: str | None = None,
        job_type: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> BatchJobList:
        return self._client._call(batch_list(directory_id, job_type, status, limit, offset))

    def cancel(self, batch_id: str, *, reason: str | None = None) -> BatchCancelResponse:
        """Stop the batch: pending items are cancelled, running ones may finish."""
        return self._client._call(batch_cancel(batch_id, reason))

    def list_items(
        self,
        batch_id: str,
        *,
        status: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> BatchItemList:
        return self._client._call(batch_items(batch_id, status, limit, offset))

    def iter_items(
        self, batch_id: str, *, status: str | None = None, page_size: int = 200
    ) -> Iterator[BatchItem]:
        """Every item of the batch (in dispatch order), a page at a time."""
        offset: int | None = 0
        while offset is not None:
            page = self.list_items(batch_id, status=status, limit=page_size, offset=offset)
            yield from page.items
            offset = _next_offset(page)

    def processing_results(
        self, item_id: str, *, job_type: str | None = None
    ) -> ItemProcessingResults:
        """Every processing result of an item (its history)."""
        return self._client._call(item_results(item_id, job_type))

    def wait(
        self,
        batch_id: str,
        *,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
        poll_interval: float = 1.0,
    ) -> BatchJobStatusResponse:
        """Poll until the batch is completed, failed or cancelled; ``progress`` gets every
        status seen. Raises :class:`~lamina.JobTimeoutError` after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = self.get(batch_id)
            if progress is not None:
                progress(status)
            if status.job.status in BATCH_TERMINAL_STATUSES:
                return status
            if deadline is not None and time.monotonic() >= deadline:
                raise JobTimeoutError(batch_id, timeout or 0.0)
            time.sleep(poll_interval)


# --- async resources ------------------------------------------------------------------------------


class AsyncDirectories:
    """Directories of files, asyncio form. Reach it as ``client.directories``."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(
        self, name: str, *, description: str | None = None, type: str | None = None
    ) -> Directory:
        return await self._client._call(directory_create(name, description, type))

    async def get(self, directory_id: str) -> Directory:
        return await self._client._call(directory_get(directory_id))

    async def list(
        self,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
        name: str | None = None,
    ) -> PaginatedList[Directory]:
        return await self._client._call(directory_list(page_size, page_token, name))

    async def update(
        self, directory_id: str, *, name: str | None = None, description: str | None = None
    ) -> Directory:
        return await self._client._call(directory_update(directory_id, name, description))

    async def delete(self, directory_id: str) -> None:
        await self._client._call(directory_delete(directory_id))

    async def add_file(
        self,
        directory_id: str,
        file_id: str,
        *,
        display_name: str | None = None,
        unique_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> DirectoryFile:
        call = directory_add_file(directory_id, file_id, display_name, unique_id, metadata)
        return await self._client._call(call)

    async def upload_file(
        self,
        directory_id: str,
        file: FileInput,
        *,
        filename: str | None = None,
        display_name: str | None = None,
        unique_id: str | None = None,
        external_file_id: str | None = None,
    ) -> DirectoryFile:
        call = directory_upload_file(
            directory_id, file, filename, display_name, unique_id, external_file_id
        )
        return await self._client._call(call)

    async def list_files(
        self, directory_id: str, *, page_size: int | None = None, page_token: str | None = None
    ) -> PaginatedList[DirectoryFile]:
        return await self._client._call(directory_list_files(directory_id, page_size, page_token))

    async def iter_files(
        self, directory_id: str, *, page_size: int | None = None
    ) -> AsyncIterator[DirectoryFile]:
        token: str | None = None
        while True:
            page = await self.list_files(directory_id, page_size=page_size, page_token=token)
            for item in page.items:
                yield item
            token = page.next_page_token
            if not token:
                return


class AsyncBatches:
    """Batch processing jobs, asyncio form. Reach it as ``client.batches``."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(
        self,
        directory_id: str | None = None,
        *,
        item_ids: Sequence[str] | None = None,
        tier: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        classify_rules: Sequence[Mapping[str, str]] | None = None,
        mode: str | None = None,
        webhook_url: str | None = None,
        webhook_configurations: Sequence[Mapping[str, Any]] | None = None,
        max_concurrency: int | None = None,
        job_config: Mapping[str, Any] | None = None,
    ) -> BatchJob:
        """See :meth:`Batches.create`."""
        body = batch_body(
            directory_id=directory_id,
            item_ids=item_ids,
            tier=tier,
            parameters=parameters,
            classify_rules=classify_rules,
            mode=mode,
            webhook_url=webhook_url,
            webhook_configurations=webhook_configurations,
            max_concurrency=max_concurrency,
            job_config=job_config,
        )
        return await self._client._call(batch_create(body))

    async def get(self, batch_id: str) -> BatchJobStatusResponse:
        return await self._client._call(batch_get(batch_id))

    async def list(
        self,
        *,
        directory_id: str | None = None,
        job_type: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> BatchJobList:
        return await self._client._call(batch_list(directory_id, job_type, status, limit, offset))

    async def cancel(self, batch_id: str, *, reason: str | None = None) -> BatchCancelResponse:
        return await self._client._call(batch_cancel(batch_id, reason))

    async def list_items(
        self,
        batch_id: str,
        *,
        status: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> BatchItemList:
        return await self._client._call(batch_items(batch_id, status, limit, offset))

    async def iter_items(
        self, batch_id: str, *, status: str | None = None, page_size: int = 200
    ) -> AsyncIterator[BatchItem]:
        offset: int | None = 0
        while offset is not None:
            page = await self.list_items(batch_id, status=status, limit=page_size, offset=offset)
            for item in page.items:
                yield item
            offset = _next_offset(page)

    async def processing_results(
        self, item_id: str, *, job_type: str | None = None
    ) -> ItemProcessingResults:
        return await self._client._call(item_results(item_id, job_type))

    async def wait(
        self,
        batch_id: str,
        *,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
        poll_interval: float = 1.0,
    ) -> BatchJobStatusResponse:
        """See :meth:`Batches.wait`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = await self.get(batch_id)
            if progress is not None:
                progress(status)
            if status.job.status in BATCH_TERMINAL_STATUSES:
                return status
            if deadline is not None and time.monotonic() >= deadline:
                raise JobTimeoutError(batch_id, timeout or 0.0)
            await asyncio.sleep(poll_interval)
