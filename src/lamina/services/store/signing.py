"""Presigned download URLs: HMAC-SHA256 over (method, path, expiry, project).

The secret lives in ``<data_dir>/signing.key``, created once with :mod:`secrets` (mode 0600), so
URLs stay valid across restarts and across every process sharing the data dir.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from lamina.services.errors import ForbiddenError

SECRET_FILE = "signing.key"


def load_or_create_secret(data_dir: Path) -> bytes:
    """The data dir's signing secret, created on first use (race-safe across processes)."""
    path = Path(data_dir) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        existing = path.read_bytes().strip()
        if existing:
            return existing
    token = secrets.token_hex(32).encode()
    tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(token)
    try:
        os.link(tmp, path)  # fails if another process won the race: use theirs
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return path.read_bytes().strip()


@dataclass(frozen=True)
class SignedQuery:
    """The query parameters a presigned URL carries."""

    expires: int
    project: str
    signature: str

    def encode(self) -> str:
        return urlencode(
            {"expires": self.expires, "project": self.project, "signature": self.signature}
        )


class Signer:
    """Signs and verifies download URLs for one secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _digest(self, method: str, path: str, expires: int, project: str) -> str:
        message = "\n".join([method.upper(), path, str(expires), project]).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def sign(
        self, path: str, *, project: str, ttl_seconds: int, method: str = "GET"
    ) -> tuple[SignedQuery, datetime]:
        """Signature for ``path``, valid for ``ttl_seconds``; returns the query and expiry."""
        expires = int(time.time()) + int(ttl_seconds)
        query = SignedQuery(expires, project, self._digest(method, path, expires, project))
        return query, datetime.fromtimestamp(expires, UTC)

    def verify(
        self,
        path: str,
        *,
        expires: str | None,
        project: str | None,
        signature: str | None,
        method: str = "GET",
    ) -> str:
        """Check a presigned request; returns its project or raises :class:`ForbiddenError`."""
        if not expires or not signature or project is None:
            raise ForbiddenError("Missing signature: request a fresh presigned URL")
        try:
            expiry = int(expires)
        except ValueError as exc:
            raise ForbiddenError("Malformed presigned URL") from exc
        expected = self._digest(method, path, expiry, project)
        if not hmac.compare_digest(expected, signature):
            raise ForbiddenError("Invalid signature")
        if expiry < time.time():
            raise ForbiddenError("Presigned URL expired: request a fresh one")
        return project
