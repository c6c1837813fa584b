"""Coordination between replicas through the database: PostgreSQL advisory locks.

Two kinds: a transaction lock (:func:`try_xact_lock`) makes one pass of a loop (releasing jobs,
recovering leases) run in one replica at a time, any replica; a session lock held on its own
connection (:class:`LeaderLock`) makes one replica the leader of the loops that must not run
twice (the batch dispatcher, webhook delivery). A replica that dies closes its connection, so
its locks go with it and another replica takes over. On SQLite (one host, one server) every
lock is granted: there is nobody to share with.
"""

from __future__ import annotations

import contextlib
import logging

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("lamina.distributed")

# Advisory lock keys (64-bit integers; "lamina" in the high bytes, a purpose below).
RELEASE_LOCK = 0x6C616D696E610001
RECOVER_LOCK = 0x6C616D696E610002
LEADER_LOCK = 0x6C616D696E610003


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def try_xact_lock(conn: Connection, key: int) -> bool:
    """Take the transaction-scoped advisory lock ``key`` if free (released at commit)."""
    if conn.dialect.name != "postgresql":
        return True
    return bool(conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar())


class LeaderLock:
    """A session advisory lock on a dedicated connection: held while this replica leads.

    :meth:`check` takes the lock when free and verifies a held one is still alive (its
    connection answers); it returns whether this replica is the leader now.
    """

    def __init__(self, engine: Engine, key: int = LEADER_LOCK) -> None:
        self._engine = engine
        self._key = key
        self._conn: Connection | None = None
        self.held = False

    def check(self) -> bool:
        if not is_postgres(self._engine):
            self.held = True
            return True
        try:
            if self._conn is None:
                self._conn = self._engine.connect()
            if self.held:
                self._conn.execute(sa.text("SELECT 1"))
                self._conn.commit()
                return True
            got = self._conn.execute(
                sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}
            ).scalar()
            self._conn.commit()
            self.held = bool(got)
        except sa.exc.SQLAlchemyError:
            log.warning("leader lock: database connection lost", exc_info=True)
            self._drop()
        return self.held

    def _drop(self) -> None:
        self.held = False
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.invalidate()
                self._conn.close()
        self._conn = None

    def release(self) -> None:
        """Give up leadership: unlock, then close the connection (a replica that dies
        without this loses the lock when the server notices its connection closed)."""
        if self.held and self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
                self._conn.commit()
        self._drop()
