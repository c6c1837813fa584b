"""Records of a project-scoped table (an ``id`` primary key and a ``project_id``): insert, get,
update, delete and list a page, each one short transaction. The services' saved objects
(configurations, webhook configurations, ...) go through one of these instead of writing SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from lamina.services.store.db import Database, Page, Row, paginate


class ProjectRecords:
    """The rows of ``table`` in each project; every call names the project, so a record of
    another project is never read, changed or deleted."""

    def __init__(self, db: Database, table: sa.Table) -> None:
        self.db = db
        self.table = table

    def insert(self, row: Row) -> None:
        with self.db.begin() as conn:
            conn.execute(self.table.insert().values(**row))

    def _match(self, project_id: str, record_id: str) -> tuple[sa.ColumnElement[bool], ...]:
        c = self.table.c
        return (c.id == record_id, c.project_id == project_id)

    def get(self, project_id: str, record_id: str) -> Row | None:
        with self.db.begin() as conn:
            found = conn.execute(
                sa.select(self.table).where(*self._match(project_id, record_id))
            ).first()
        return None if found is None else dict(found._mapping)

    def find(self, project_id: str, **equal: Any) -> Row | None:
        """The first of the project's records whose columns equal ``equal`` (None: none)."""
        c = self.table.c
        where = [c.project_id == project_id, *(c[name] == value for name, value in equal.items())]
        with self.db.begin() as conn:
            found = conn.execute(sa.select(self.table).where(*where).limit(1)).first()
        return None if found is None else dict(found._mapping)

    def all(self, project_id: str, *, order_by: str = "created_at") -> list[Row]:
        """Every record of the project, oldest first (small tables only: no pagination)."""
        c = self.table.c
        query = sa.select(self.table).where(c.project_id == project_id).order_by(c[order_by])
        with self.db.begin() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def update(self, project_id: str, record_id: str, values: Mapping[str, Any]) -> bool:
        """Set ``values`` on the record; False when there is no such record."""
        with self.db.begin() as conn:
            changed = conn.execute(
                self.table.update().where(*self._match(project_id, record_id)).values(**values)
            ).rowcount
        return changed == 1

    def delete(self, project_id: str, record_id: str) -> bool:
        """False when there is no such record."""
        with self.db.begin() as conn:
            gone = conn.execute(
                self.table.delete().where(*self._match(project_id, record_id))
            ).rowcount
        return gone == 1

    def page(
        self,
        project_id: str,
        where: Sequence[sa.ColumnElement[bool]] = (),
        *,
        sort: str = "created_at",
        descending: bool = True,
        page_size: int,
        page_token: str | None,
    ) -> Page:
        """One page of the project's records matching ``where`` (keyset pagination)."""
        with self.db.begin() as conn:
            return paginate(
                conn,
                self.table,
                [self.table.c.project_id == project_id, *where],
                sort=sort,
                descending=descending,
                page_size=page_size,
                page_token=page_token,
            )
