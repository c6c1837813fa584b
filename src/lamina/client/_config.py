"""Client configuration: explicit arguments first, then environment variables, then defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr

BASE_URL_ENV = ("LAMINA_BASE_URL", "LLAMA_CLOUD_BASE_URL")
API_KEY_ENV = ("LAMINA_API_KEY", "LLAMA_CLOUD_API_KEY")
PROJECT_ID_ENV = ("LAMINA_PROJECT_ID", "LLAMA_CLOUD_PROJECT_ID")
ORGANIZATION_ID_ENV = ("LAMINA_ORGANIZATION_ID", "LLAMA_CLOUD_ORGANIZATION_ID")

EMBEDDED_BASE_URL = "http://lamina.embedded"
"""Base URL of the in-process server; presigned URLs it hands out point here too."""

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
DEFAULT_MAX_RETRIES = 3


@dataclass(frozen=True)
class ClientConfig:
    """Resolved settings of a client. ``base_url`` ``None`` means the embedded server."""

    base_url: str | None
    api_key: SecretStr | None = None
    project_id: str | None = None
    organization_id: str | None = None
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    max_retries: int = DEFAULT_MAX_RETRIES
    data_dir: Path | None = None

    @property
    def embedded(self) -> bool:
        """True when requests go to the in-process server rather than over the network."""
        return self.base_url is None

    @property
    def effective_base_url(self) -> str:
        """The URL requests are built against (the embedded one when no base URL is set)."""
        return self.base_url if self.base_url is not None else EMBEDDED_BASE_URL


def resolve_config(
    *,
    base_url: str | None = None,
    api_key: str | SecretStr | None = None,
    project_id: str | None = None,
    organization_id: str | None = None,
    timeout: float | httpx.Timeout | None = None,
    max_retries: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> ClientConfig:
    """Settle every setting: an argument wins, then ``LAMINA_*``, then ``LLAMA_CLOUD_*``.

    Empty environment variables count as unset.
    """
    environ = os.environ if env is None else env
    url = base_url or _first_env(environ, BASE_URL_ENV)
    key = api_key if api_key is not None else _first_env(environ, API_KEY_ENV)
    if max_retries is not None and max_retries < 0:
        raise ValueError("max_retries must be >= 0")
    return ClientConfig(
        base_url=url.rstrip("/") if url else None,
        api_key=_secret(key),
        project_id=project_id or _first_env(environ, PROJECT_ID_ENV),
        organization_id=organization_id or _first_env(environ, ORGANIZATION_ID_ENV),
        timeout=_timeout(timeout),
        max_retries=DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
        data_dir=Path(data_dir) if data_dir is not None else None,
    )


def _first_env(environ: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


def _secret(key: str | SecretStr | None) -> SecretStr | None:
    if key is None or isinstance(key, SecretStr):
        return key
    return SecretStr(key) if key else None


def _timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, httpx.Timeout):
        return timeout
    return httpx.Timeout(float(timeout), connect=min(5.0, float(timeout)))
