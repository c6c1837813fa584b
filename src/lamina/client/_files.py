"""``client.files``: upload, fetch, list, delete and download files (``/api/v1/beta/files``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from lamina.client import _operations as ops
from lamina.client._inputs import FileInput
from lamina.types import File, PaginatedList, PresignedURL

if TYPE_CHECKING:
    from lamina.client._client import AsyncClient, Client


class Files:
    """Files on the server. Reach it as ``client.files``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(
        self,
        file: FileInput,
        *,
        purpose: str = "parse",
        external_file_id: str | None = None,
        filename: str | None = None,
    ) -> File:
        """Upload ``file`` (a path, bytes, ``(name, bytes)`` or a binary file object).

        ``filename`` names bytes that have no name of their own.
        """
        call = ops.file_create(
            file, purpose=purpose, external_file_id=external_file_id, filename=filename
        )
        return self._client._call(call)

    def get(self, file_id: str) -> File:
        """The file's metadata."""
        return self._client._call(ops.file_get(file_id))

    def list(
        self, *, page_size: int | None = None, page_token: str | None = None
    ) -> PaginatedList[File]:
        """One page of files; pass ``next_page_token`` back as ``page_token`` for the next."""
        return self._client._call(ops.file_list(page_size, page_token))

    def iter(self, *, page_size: int | None = None) -> Iterator[File]:
        """Every file, fetching pages as the iteration reaches them."""
        token: str | None = None
        while True:
            page = self.list(page_size=page_size, page_token=token)
            yield from page.items
            token = page.next_page_token
            if not token:
                return

    def delete(self, file_id: str) -> None:
        """Delete the file."""
        self._client._call(ops.file_delete(file_id))

    def content_url(self, file_id: str, *, expires_at_seconds: int | None = None) -> PresignedURL:
        """A presigned URL to download the file's content."""
        return self._client._call(ops.file_content_url(file_id, expires_at_seconds))

    def download(self, file_id: str) -> bytes:
        """The file's content, fetched through its presigned URL."""
        return self._client.download(self.content_url(file_id))


class AsyncFiles:
    """Files on the server, asyncio form. Reach it as ``client.files``."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(
        self,
        file: FileInput,
        *,
        purpose: str = "parse",
        external_file_id: str | None = None,
        filename: str | None = None,
    ) -> File:
        """Upload ``file`` (a path, bytes, ``(name, bytes)`` or a binary file object).

        ``filename`` names bytes that have no name of their own.
        """
        call = ops.file_create(
            file, purpose=purpose, external_file_id=external_file_id, filename=filename
        )
        return await self._client._call(call)

    async def get(self, file_id: str) -> File:
        """The file's metadata."""
        return await self._client._call(ops.file_get(file_id))

    async def list(
        self, *, page_size: int | None = None, page_token: str | None = None
    ) -> PaginatedList[File]:
        """One page of files; pass ``next_page_token`` back as ``page_token`` for the next."""
        return await self._client._call(ops.file_list(page_size, page_token))

    async def iter(self, *, page_size: int | None = None) -> AsyncIterator[File]:
        """Every file, fetching pages as the iteration reaches them."""
        token: str | None = None
        while True:
            page = await self.list(page_size=page_size, page_token=token)
            for item in page.items:
                yield item
            token = page.next_page_token
            if not token:
                return

    async def delete(self, file_id: str) -> None:
        """Delete the file."""
        await self._client._call(ops.file_delete(file_id))

    async def content_url(
        self, file_id: str, *, expires_at_seconds: int | None = None
    ) -> PresignedURL:
        """A presigned URL to download the file's content."""
        return await self._client._call(ops.file_content_url(file_id, expires_at_seconds))

    async def download(self, file_id: str) -> bytes:
        """The file's content, fetched through its presigned URL."""
        return await self._client.download(await self.content_url(file_id))
