"""Rows of the ``api_keys`` table: every statement :class:`~lamina.services.api.keys.KeyStore`
runs, so the key logic (hashing, caching, constant-time checks) holds no SQL."""

from __future__ import annotations

import sqlalchemy as sa

from lamina.services.store.db import Database, Row, utcnow
from lamina.services.store.tables import api_keys_table


class KeyRecords:
    """Insert, list, revoke and look up stored API keys (by hash; never a plaintext key)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, row: Row) -> None:
        with self.db.begin() as conn:
            conn.execute(api_keys_table.insert().values(**row))

    def list(self, *, include_revoked: bool) -> list[Row]:
        """Oldest first."""
        c = api_keys_table.c
        query = sa.select(api_keys_table).order_by(c.created_at, c.id)
        if not include_revoked:
            query = query.where(c.revoked_at.is_(None))
        with self.db.begin() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def revoke(self, key_id: str) -> bool:
        """Mark an active key revoked; False when there is no such active key."""
        c = api_keys_table.c
        with self.db.begin() as conn:
            result = conn.execute(
                api_keys_table.update()
                .where(c.id == key_id, c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
        return result.rowcount == 1

    def delete_all(self) -> int:
        """Delete every key, revoked ones included; how many were deleted."""
        with self.db.begin() as conn:
            result = conn.execute(api_keys_table.delete())
        return int(result.rowcount or 0)

    def any(self) -> bool:
        """Whether any key was ever stored (revoked ones count)."""
        with self.db.begin() as conn:
            return conn.execute(sa.select(api_keys_table.c.id).limit(1)).first() is not None

    def active(self, key_hash: str) -> tuple[str, str] | None:
        """``(stored hash, project)`` of the active key with ``key_hash``, or None."""
        c = api_keys_table.c
        with self.db.begin() as conn:
            found = conn.execute(
                sa.select(c.key_hash, c.project_id).where(
                    c.key_hash == key_hash, c.revoked_at.is_(None)
                )
            ).first()
        return None if found is None else (str(found[0]), str(found[1]))
