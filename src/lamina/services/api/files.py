"""The Files API: upload, get, list, delete and presigned download of uploaded content."""

from __future__ import annotations

import io
import mimetypes
import posixpath
from collections.abc import Sequence
from typing import BinaryIO

from lamina.services.api.links import DownloadRoutes
from lamina.services.errors import NotFoundError, PayloadTooLargeError, ValidationFailed
from lamina.services.store.db import Database, Row, aware, new_id, utcnow
from lamina.services.store.signing import Signer
from lamina.services.store.storage import Storage, TooLargeError
from lamina.types import FILE_PURPOSES, File, PaginatedList, PresignedURL

FILE_ID_PREFIX = "dfl"
FILE_ORDERINGS = ("created_at", "name", "id")


def file_type_of(name: str) -> str | None:
    """The lower-case extension of a file name, without the dot (``report.PDF`` → ``pdf``)."""
    ext = posixpath.splitext(name)[1]
    return ext[1:].lower() or None if ext else None


def safe_file_name(name: str) -> str:
    """A file name fit to store and show: the last path segment (``/`` and ``\\`` both count),
    control characters (NUL included) dropped, at most 255 characters (extension kept).

    Names are only ever data: content is stored under the file id, never under its name.
    """
    name = "".join(ch for ch in name if ch >= " " and ch != "\x7f")
    name = posixpath.basename(name.replace("\\", "/")).strip()
    if name in ("", ".", ".."):
        return "upload"
    if len(name) > 255:
        stem, ext = posixpath.splitext(name)
        ext = ext if len(ext) <= 16 else ""
        name = stem[: 255 - len(ext)] + ext
    return name


class FileService:
    """Uploaded files of each project; content in :class:`Storage`, records in the database."""

    def __init__(
        self,
        db: Database,
        storage: Storage,
        signer: Signer,
        *,
        max_bytes: int,
        ttl: int,
        downloads: DownloadRoutes,
    ) -> None:
        """``downloads``: the path of the route that serves a file's content (signed here)."""
        self.db = db
        self.storage = storage
        self.signer = signer
        self.downloads = downloads
        self.max_bytes = max_bytes
        self.ttl = ttl

    def create(
        self,
        project_id: str,
        *,
        name: str,
        data: bytes | BinaryIO,
        purpose: str | None,
        external_file_id: str | None = None,
        content_type: str | None = None,
    ) -> Row:
        """Store an upload and return its record. ``data`` is the content or a binary file to
        copy it from (streamed to disk in chunks, so an upload is never held in memory)."""
        if purpose is not None and purpose not in FILE_PURPOSES:
            raise ValidationFailed.single(
                ["purpose"],
                f"Invalid purpose: {purpose}. Must be one of: {', '.join(FILE_PURPOSES)}",
                input=purpose,
            )
        file_id = new_id(FILE_ID_PREFIX)
        source = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
        try:
            size, sha256 = self.storage.write_file_from(file_id, source, max_bytes=self.max_bytes)
        except TooLargeError as exc:
            raise PayloadTooLargeError(
                f"File is larger than the limit of {self.max_bytes} bytes"
            ) from exc
        name = safe_file_name(name)
        now = utcnow()
        row: Row = {
            "id": file_id,
            "project_id": project_id,
            "name": name,
            "file_type": file_type_of(name),
            "purpose": purpose,
            "external_file_id": external_file_id,
            "content_type": content_type or mimetypes.guess_type(name)[0],
            "size_bytes": size,
            "sha256": sha256,
            "created_at": now,
            "updated_at": now,
            "expires_at": None,
        }
        try:
            self.db.insert_file(row)
        except BaseException:
            self.storage.delete_file(file_id)
            raise
        return row

    def get(self, project_id: str, file_id: str) -> Row:
        row = self.db.get_file(file_id, project_id)
        if row is None:
            raise NotFoundError(f"File not found: {file_id}")
        return row

    def list(
        self,
        project_id: str,
        *,
        file_name: str | None = None,
        external_file_id: str | None = None,
        file_ids: Sequence[str] | None = None,
        order_by: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
        base_url: str | None = None,
    ) -> PaginatedList[File]:
        """One page of files; each with a ``download_url`` when a base URL is given."""
        ordering = order_by or "created_at"
        if ordering not in FILE_ORDERINGS:
            raise ValidationFailed.single(
                ["order_by"],
                f"Unsupported order_by: {ordering}. Must be one of: {', '.join(FILE_ORDERINGS)}",
                origin="parameter",
                input=order_by,
            )
        page = self.db.list_files(
            project_id,
            file_name=file_name,
            external_file_id=external_file_id,
            file_ids=file_ids,
            order_by=ordering,
            page_size=50 if page_size is None else page_size,
            page_token=page_token,
        )
        return page.typed(lambda row: self.to_file(row, base_url=base_url))

    def delete(self, project_id: str, file_id: str) -> None:
        if not self.db.delete_file(file_id, project_id):
            raise NotFoundError(f"File not found: {file_id}")
        self.storage.delete_file(file_id)

    def presigned_url(self, row: Row, base_url: str) -> PresignedURL:
        """A signed, expiring URL (``{url, expires_at}``) for the file's content."""
        path = self.downloads.file(row["id"])
        query, expires_at = self.signer.sign(path, project=row["project_id"], ttl_seconds=self.ttl)
        return PresignedURL(
            url=f"{base_url.rstrip('/')}{path}?{query.encode()}", expires_at=expires_at
        )

    def to_file(self, row: Row, *, base_url: str | None = None) -> File:
        """A file record as the API's File (every field set); ``download_url`` only when a base
        URL is given."""
        file = File(
            id=row["id"],
            name=row["name"],
            project_id=row["project_id"],
            file_type=row["file_type"],
            purpose=row["purpose"],
            external_file_id=row["external_file_id"],
            expires_at=None,
            last_modified_at=aware(row["updated_at"]),
            size_bytes=row["size_bytes"],
            sha256=row["sha256"],
        )
        if base_url is not None:
            file.download_url = self.presigned_url(row, base_url)
        return file

    def open_signed(
        self, file_id: str, *, expires: str | None, project: str | None, signature: str | None
    ) -> tuple[Row, bytes]:
        """Verify a presigned download and return the record and content."""
        project_id = self.signer.verify(
            self.downloads.file(file_id), expires=expires, project=project, signature=signature
        )
        row = self.get(project_id, file_id)
        try:
            return row, self.storage.read_file(file_id)
        except FileNotFoundError as exc:
            raise NotFoundError(f"File content not found: {file_id}") from exc
