"""Directories (``/api/v1/beta/directories``): named sets of uploaded files a batch processes.

A directory file is its own record (``id``) pointing at a stored upload (``file_id``) under a
``unique_id`` (default: the file's ``external_file_id``, else its name). Adding a file under a
``unique_id`` the directory already holds replaces that entry's file: the directory keeps one
current version per unique id. Deletes are soft (``deleted_at``), as the SDK shows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, BinaryIO

import sqlalchemy as sa

from lamina.services.api.files import FileService
from lamina.services.errors import InvalidRequestError, NotFoundError, ValidationFailed
from lamina.services.request_limits import RequestLimits, check_json_size, check_text
from lamina.services.store.db import Database, Row, aware, new_id, paginate, utcnow
from lamina.services.store.tables import directories_table, directory_files_table
from lamina.types import Directory, DirectoryFile, PaginatedList

DIRECTORY_ID_PREFIX = "dir"
DIRECTORY_FILE_ID_PREFIX = "dfl"
DIRECTORY_TYPES = ("ephemeral", "index", "user")


class DirectoryService:
    """Directories and their files, per project."""

    def __init__(
        self, db: Database, files: FileService, limits: RequestLimits | None = None
    ) -> None:
        self.db = db
        self.files = files
        self.limits = limits or RequestLimits()

    def _check_sizes(
        self,
        *,
        texts: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """422 for caller strings and metadata over the server's caps."""
        for name, value in (texts or {}).items():
            check_text(value, self.limits.max_text_chars, [name], name)
        for name, value in (metadata or {}).items():
            check_json_size(value, self.limits.max_metadata_bytes, [name], name)

    # directories ----------------------------------------------------------------------------

    def create(
        self,
        project_id: str,
        *,
        name: str,
        description: str | None = None,
        type: str | None = None,
        connector_subscription_id: str | None = None,
        system_metadata: Mapping[str, Any] | None = None,
    ) -> Directory:
        self._check_sizes(
            texts={
                "name": name,
                "description": description,
                "connector_subscription_id": connector_subscription_id,
            },
            metadata={"system_metadata": system_metadata},
        )
        kind = type or "user"
        if kind not in ("ephemeral", "user"):
            raise ValidationFailed.single(
                ["type"], "type must be 'ephemeral' or 'user'", input=type
            )
        if not name or not name.strip():
            raise ValidationFailed.single(["name"], "name must not be empty", input=name)
        now = utcnow()
        row: Row = {
            "id": new_id(DIRECTORY_ID_PREFIX),
            "project_id": project_id,
            "name": name,
            "description": description,
            "type": kind,
            "connector_subscription_id": connector_subscription_id,
            "system_metadata": dict(system_metadata) if system_metadata else None,
            "created_at": now,
            "updated_at": now,
            "deleted_at": None,
        }
        with self.db.begin() as conn:
            conn.execute(directories_table.insert().values(**row))
        return to_directory(row)

    def get(self, project_id: str, directory_id: str) -> Directory:
        return to_directory(self._row(project_id, directory_id))

    def _row(self, project_id: str, directory_id: str, *, include_deleted: bool = False) -> Row:
        c = directories_table.c
        query = sa.select(directories_table).where(c.id == directory_id, c.project_id == project_id)
        if not include_deleted:
            query = query.where(c.deleted_at.is_(None))
        with self.db.begin() as conn:
            found = conn.execute(query).first()
        if found is None:
            raise NotFoundError(f"Directory not found: {directory_id}")
        return dict(found._mapping)

    def list(
        self,
        project_id: str,
        *,
        name: str | None = None,
        types: list[str] | None = None,
        include_deleted: bool = False,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> PaginatedList[Directory]:
        c = directories_table.c
        where: list[sa.ColumnElement[bool]] = [c.project_id == project_id]
        if name is not None:
            where.append(c.name == name)
        if types:
            where.append(c.type.in_(types))
        if not include_deleted:
            where.append(c.deleted_at.is_(None))
        with self.db.begin() as conn:
            page = paginate(
                conn,
                directories_table,
                where,
                sort="created_at",
                descending=True,
                page_size=page_size or 50,
                page_token=page_token,
            )
        return page.typed(to_directory)

    def update(
        self,
        project_id: str,
        directory_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> Directory:
        self._check_sizes(texts={"name": name, "description": description})
        self._row(project_id, directory_id)
        values: dict[str, Any] = {"updated_at": utcnow()}
        if name is not None:
            if not name.strip():
                raise ValidationFailed.single(["name"], "name must not be empty", input=name)
            values["name"] = name
        if description is not None:
            values["description"] = description
        with self.db.begin() as conn:
            conn.execute(
                directories_table.update()
                .where(directories_table.c.id == directory_id)
                .values(**values)
            )
        return self.get(project_id, directory_id)

    def delete(self, project_id: str, directory_id: str) -> None:
        self._row(project_id, directory_id)
        self._soft_delete(directories_table, directory_id)

    def _soft_delete(self, table: sa.Table, row_id: str) -> None:
        """Mark a directory or a directory file deleted (rows are kept, lists skip them)."""
        now = utcnow()
        with self.db.begin() as conn:
            conn.execute(
                table.update().where(table.c.id == row_id).values(deleted_at=now, updated_at=now)
            )

    # files --------------------------------------------------------------------------------------

    def add_file(
        self,
        project_id: str,
        directory_id: str,
        *,
        file_id: str,
        display_name: str | None = None,
        unique_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> DirectoryFile:
        """Put an uploaded file in the directory (replacing the entry with its unique id)."""
        self._check_sizes(
            texts={"display_name": display_name, "unique_id": unique_id},
            metadata={"metadata": metadata},
        )
        self._row(project_id, directory_id)
        file_row = self.files.get(project_id, file_id)
        unique = unique_id or file_row["external_file_id"] or file_row["name"]
        now = utcnow()
        c = directory_files_table.c
        with self.db.begin() as conn:
            existing = conn.execute(
                sa.select(c.id).where(
                    c.directory_id == directory_id,
                    c.unique_id == unique,
                    c.deleted_at.is_(None),
                )
            ).first()
            values = {
                "file_id": file_id,
                "display_name": display_name or file_row["name"],
                "metadata": dict(metadata) if metadata else None,
                "updated_at": now,
            }
            if existing is not None:
                entry_id = existing[0]
                conn.execute(directory_files_table.update().where(c.id == entry_id).values(values))
            else:
                entry_id = new_id(DIRECTORY_FILE_ID_PREFIX)
                conn.execute(
                    directory_files_table.insert().values(
                        id=entry_id,
                        directory_id=directory_id,
                        project_id=project_id,
                        unique_id=unique,
                        created_at=now,
                        deleted_at=None,
                        **values,
                    )
                )
        return self.get_file(project_id, directory_id, entry_id)

    def upload_file(
        self,
        project_id: str,
        directory_id: str,
        *,
        name: str,
        data: bytes | BinaryIO,
        content_type: str | None = None,
        display_name: str | None = None,
        external_file_id: str | None = None,
        unique_id: str | None = None,
        metadata: str | None = None,
    ) -> DirectoryFile:
        """Store an upload (purpose ``user_data``) and add it to the directory."""
        self._check_sizes(
            texts={
                "display_name": display_name,
                "unique_id": unique_id,
                "external_file_id": external_file_id,
            }
        )
        self._row(project_id, directory_id)
        parsed_metadata: dict[str, Any] | None = None
        if metadata:
            try:
                parsed_metadata = json.loads(metadata)
            except json.JSONDecodeError as exc:
                raise ValidationFailed.single(
                    ["metadata"], f"Invalid JSON: {exc.msg}", input=metadata
                ) from exc
            if not isinstance(parsed_metadata, dict):
                raise ValidationFailed.single(["metadata"], "Must be a JSON object", input=metadata)
            self._check_sizes(metadata={"metadata": parsed_metadata})
        file_row = self.files.create(
            project_id,
            name=name,
            data=data,
            purpose="user_data",
            external_file_id=external_file_id,
            content_type=content_type,
        )
        return self.add_file(
            project_id,
            directory_id,
            file_id=file_row["id"],
            display_name=display_name,
            unique_id=unique_id,
            metadata=parsed_metadata,
        )

    def get_file(self, project_id: str, directory_id: str, entry_id: str) -> DirectoryFile:
        return to_directory_file(self._file_row(project_id, directory_id, entry_id))

    def _file_row(self, project_id: str, directory_id: str, entry_id: str) -> Row:
        c = directory_files_table.c
        with self.db.begin() as conn:
            found = conn.execute(
                sa.select(directory_files_table).where(
                    c.id == entry_id,
                    c.directory_id == directory_id,
                    c.project_id == project_id,
                    c.deleted_at.is_(None),
                )
            ).first()
        if found is None:
            raise NotFoundError(f"Directory file not found: {entry_id}")
        return dict(found._mapping)

    def update_file(
        self,
        project_id: str,
        directory_id: str,
        entry_id: str,
        *,
        display_name: str | None = None,
        unique_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        target_directory_id: str | None = None,
    ) -> DirectoryFile:
        """Rename, re-key, replace the metadata of, or move a directory file (PATCH).

        ``metadata`` replaces the entry's metadata; a ``unique_id`` another live entry of the
        (target) directory already holds → 400, so no entry is lost silently.
        """
        self._check_sizes(
            texts={"display_name": display_name, "unique_id": unique_id},
            metadata={"metadata": metadata},
        )
        current = self._file_row(project_id, directory_id, entry_id)
        target = target_directory_id or directory_id
        if target != directory_id:
            self._row(project_id, target)
        values: dict[str, Any] = {"updated_at": utcnow(), "directory_id": target}
        if display_name is not None:
            if not str(display_name).strip():
                raise ValidationFailed.single(
                    ["display_name"], "display_name must not be empty", input=display_name
                )
            values["display_name"] = str(display_name)
        if metadata is not None:
            if not isinstance(metadata, Mapping):
                raise ValidationFailed.single(
                    ["metadata"], "metadata must be an object", input=metadata
                )
            values["metadata"] = dict(metadata) or None
        unique = current["unique_id"] if unique_id is None else str(unique_id)
        if not unique.strip():
            raise ValidationFailed.single(
                ["unique_id"], "unique_id must not be empty", input=unique_id
            )
        values["unique_id"] = unique
        c = directory_files_table.c
        with self.db.begin() as conn:
            clash = conn.execute(
                sa.select(c.id).where(
                    c.directory_id == target,
                    c.unique_id == unique,
                    c.deleted_at.is_(None),
                    c.id != entry_id,
                )
            ).first()
            if clash is not None:
                raise InvalidRequestError(
                    f"Directory {target} already has a file with unique_id {unique!r} ({clash[0]})"
                )
            conn.execute(directory_files_table.update().where(c.id == entry_id).values(values))
        return self.get_file(project_id, target, entry_id)

    def delete_file(self, project_id: str, directory_id: str, entry_id: str) -> None:
        self._file_row(project_id, directory_id, entry_id)
        self._soft_delete(directory_files_table, entry_id)

    def list_files(
        self,
        project_id: str,
        directory_id: str,
        *,
        display_name: str | None = None,
        display_name_contains: str | None = None,
        file_id: str | None = None,
        unique_id: str | None = None,
        include_deleted: bool = False,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> PaginatedList[DirectoryFile]:
        self._row(project_id, directory_id)
        c = directory_files_table.c
        where: list[sa.ColumnElement[bool]] = [c.directory_id == directory_id]
        if display_name is not None:
            where.append(c.display_name == display_name)
        if display_name_contains:
            where.append(c.display_name.contains(display_name_contains, autoescape=True))
        if file_id is not None:
            where.append(c.file_id == file_id)
        if unique_id is not None:
            where.append(c.unique_id == unique_id)
        if not include_deleted:
            where.append(c.deleted_at.is_(None))
        with self.db.begin() as conn:
            page = paginate(
                conn,
                directory_files_table,
                where,
                sort="created_at",
                descending=False,
                page_size=page_size or 100,
                page_token=page_token,
            )
        return page.typed(to_directory_file)


def to_directory(row: Row) -> Directory:
    """A directory record as the API's Directory (every field set, as the wire has them)."""
    return Directory(
        id=row["id"],
        name=row["name"],
        project_id=row["project_id"],
        connector_subscription_id=row["connector_subscription_id"],
        created_at=aware(row["created_at"]),
        deleted_at=aware(row["deleted_at"]),
        description=row["description"],
        expires_at=None,
        system_metadata=row["system_metadata"],
        type=row["type"],
        updated_at=aware(row["updated_at"]),
    )


def to_directory_file(row: Row) -> DirectoryFile:
    """A directory file record as the API's DirectoryFile (no ``download_url``)."""
    return DirectoryFile(
        id=row["id"],
        directory_id=row["directory_id"],
        display_name=row["display_name"],
        project_id=row["project_id"],
        unique_id=row["unique_id"],
        created_at=aware(row["created_at"]),
        deleted_at=aware(row["deleted_at"]),
        file_id=row["file_id"],
        metadata=row["metadata"],
        updated_at=aware(row["updated_at"]),
    )
