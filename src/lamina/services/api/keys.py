"""API keys: each belongs to one project and is stored only as its SHA-256 hash.

Two sources, one check:

* keys created with ``lamina keys create`` live in the ``api_keys`` table (hash, project, name,
  created/revoked times); the plaintext is shown once, at creation, and never stored;
* keys given at start-up (``--api-key``, ``LAMINA_API_KEYS``) are hashed when the server starts
  and kept in memory only (dropping one from the configuration removes it).

Authentication is on as soon as any key exists, from either source (a revoked stored key
still counts, so revoking the last key does not open the server). A bearer token is hashed
and compared with :func:`hmac.compare_digest`. Lookups are cached for ``cache_seconds`` (1 s by
default), so a key created or revoked by the CLI in another process takes effect within that
time without a database query on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from lamina.services.store.db import Database, Row, new_id, utcnow
from lamina.services.store.tables import api_keys_table

KEY_ID_PREFIX = "key"
KEY_PREFIX = "lam-"
_CACHE_LIMIT = 4096


def hash_key(key: str) -> str:
    """The stored form of a key: hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> str:
    """A new random key (``lam-`` + 43 URL-safe characters, 256 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


class KeyStore:
    """Creates, lists and revokes stored keys, and maps a bearer token to its project."""

    def __init__(
        self,
        db: Database,
        static_keys: Mapping[str, str] | None = None,
        *,
        cache_seconds: float = 1.0,
    ) -> None:
        self.db = db
        # Start-up keys, hashed at once; the plaintext is not kept.
        self._static = [(hash_key(k), project) for k, project in (static_keys or {}).items()]
        self._ttl = cache_seconds
        self._lock = threading.Lock()
        self._projects: dict[str, tuple[str | None, float]] = {}
        self._any: tuple[bool, float] = (False, 0.0)

    # administration -----------------------------------------------------------------------------

    def create(self, project_id: str, name: str | None = None) -> tuple[Row, str]:
        """Store a new key for ``project_id``; returns its record and the plaintext (once)."""
        if not project_id or len(project_id) > 128:
            raise ValueError("project must be 1 to 128 characters")
        key = generate_key()
        row: Row = {
            "id": new_id(KEY_ID_PREFIX),
            "project_id": project_id,
            "name": name,
            "key_hash": hash_key(key),
            "key_hint": key[: len(KEY_PREFIX) + 4],
            "created_at": utcnow(),
            "revoked_at": None,
        }
        with self.db.begin() as conn:
            conn.execute(api_keys_table.insert().values(**row))
        self._forget()
        return row, key

    def list(self, *, include_revoked: bool = False) -> list[Row]:
        """Stored keys, oldest first (hashes included; never the keys themselves)."""
        query = sa.select(api_keys_table).order_by(api_keys_table.c.created_at, api_keys_table.c.id)
        if not include_revoked:
            query = query.where(api_keys_table.c.revoked_at.is_(None))
        with self.db.begin() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def revoke(self, key_id: str) -> bool:
        """Revoke a stored key by id; False when there is no such active key."""
        c = api_keys_table.c
        with self.db.begin() as conn:
            result = conn.execute(
                api_keys_table.update()
                .where(c.id == key_id, c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
        self._forget()
        return result.rowcount == 1

    def reset(self) -> int:
        """Delete every stored key, revoked ones included, so auth goes off again (unless
        start-up keys are configured). Returns how many keys were deleted."""
        with self.db.begin() as conn:
            result = conn.execute(api_keys_table.delete())
        self._forget()
        return int(result.rowcount or 0)

    # authentication ---------------------------------------------------------------------------

    def any_keys(self) -> bool:
        """Whether auth is on: a start-up key exists, or a key was ever stored.

        Revoked keys count: revoking the last key must not open the server to everyone.
        """
        if self._static:
            return True
        value, expires = self._any
        now = time.monotonic()
        if now < expires:
            return value
        c = api_keys_table.c
        with self.db.begin() as conn:
            found = conn.execute(sa.select(c.id).limit(1)).first()
        self._any = (found is not None, now + self._ttl)
        return found is not None

    def cached(self, token: str) -> tuple[bool, str | None]:
        """Answer without I/O when possible: ``(True, project-or-None)``, else ``(False, None)``.

        For the server's event loop: a miss is then resolved with :meth:`project_for` in a
        thread, so the hot path (a known key) never waits on the database.
        """
        if not self.any_keys_cached():
            return False, None
        digest = hash_key(token)
        project = None
        for known, known_project in self._static:
            if hmac.compare_digest(known, digest):
                project = known_project
        if project is not None:
            return True, project
        cached = self._projects.get(digest)
        if cached is not None and time.monotonic() < cached[1]:
            return True, cached[0]
        return False, None

    def any_keys_cached(self) -> bool:
        """Whether :meth:`any_keys` can answer now without a query."""
        return bool(self._static) or time.monotonic() < self._any[1]

    def project_for(self, token: str) -> str | None:
        """The project of ``token``, or None when it is not a valid key."""
        digest = hash_key(token)
        project = None
        for known, known_project in self._static:  # every one compared: no timing shortcut
            if hmac.compare_digest(known, digest):
                project = known_project
        if project is not None:
            return project
        now = time.monotonic()
        cached = self._projects.get(digest)
        if cached is not None and now < cached[1]:
            return cached[0]
        project = self._lookup(digest)
        with self._lock:
            if len(self._projects) >= _CACHE_LIMIT:
                self._projects.clear()
            self._projects[digest] = (project, now + self._ttl)
        return project

    def _lookup(self, digest: str) -> str | None:
        c = api_keys_table.c
        with self.db.begin() as conn:
            found = conn.execute(
                sa.select(c.key_hash, c.project_id).where(
                    c.key_hash == digest, c.revoked_at.is_(None)
                )
            ).first()
        if found is None or not hmac.compare_digest(str(found[0]), digest):
            return None
        return str(found[1])

    def _forget(self) -> None:
        with self._lock:
            self._projects.clear()
        self._any = (False, 0.0)


def key_to_display(row: Row) -> dict[str, Any]:
    """A stored key's public fields (no hash) for ``lamina keys list``."""
    return {
        "id": row["id"],
        "project": row["project_id"],
        "name": row["name"] or "",
        "key": row["key_hint"] + "…",
        "created_at": row["created_at"].isoformat(timespec="seconds"),
        "revoked_at": row["revoked_at"].isoformat(timespec="seconds") if row["revoked_at"] else "",
    }
