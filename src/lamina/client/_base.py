"""What the sync and async clients share: configuration, URLs, headers, retry decisions.

Subclasses add only the transport call (``send`` and ``sleep``, sync or async).
"""

from __future__ import annotations

import random
import time
from typing import Any

import httpx

from lamina._exceptions import APIConnectionError, APITimeoutError
from lamina._version import __version__
from lamina.client._config import ClientConfig
from lamina.client._operations import RequestSpec
from lamina.client._retry import retry_delay, should_retry_status
from lamina.client._waiting import ChangeWaiter

USER_AGENT = f"lamina-python/{__version__}"


class BaseClient:
    """Request building and retry policy for :class:`Client` and :class:`AsyncClient`."""

    _config: ClientConfig

    def __init__(self, config: ClientConfig) -> None:
        self._config = config

    @property
    def config(self) -> ClientConfig:
        """The resolved settings (the API key stays a ``SecretStr``)."""
        return self._config

    @property
    def base_url(self) -> str:
        """The URL requests are sent to (``http://lamina.embedded`` in embedded mode)."""
        return self._config.effective_base_url

    @property
    def embedded(self) -> bool:
        """True when the server runs in this process instead of across the network."""
        return self._config.embedded

    @property
    def _changes(self) -> ChangeWaiter | None:
        """The embedded server's job-change signal, so waits end when a job finishes."""
        changes = getattr(getattr(self, "_transport", None), "changes", None)
        return changes if changes is not None and hasattr(changes, "await_change") else None

    @property
    def max_retries(self) -> int:
        return self._config.max_retries

    def __repr__(self) -> str:
        mode = "embedded" if self.embedded else repr(self.base_url)
        return f"{type(self).__name__}(base_url={mode}, max_retries={self.max_retries})"

    # --- building ------------------------------------------------------------------------------

    def _request_kwargs(self, spec: RequestSpec) -> dict[str, Any]:
        """Arguments for ``httpx.Client.build_request`` / ``httpx.AsyncClient.build_request``."""
        url = spec.path if spec.absolute else self.base_url + spec.path
        params: dict[str, Any] = dict(spec.params)
        if spec.api:
            if self._config.project_id:
                params.setdefault("project_id", self._config.project_id)
            if self._config.organization_id:
                params.setdefault("organization_id", self._config.organization_id)
        kwargs: dict[str, Any] = {
            "method": spec.method,
            "url": url,
            "params": params or None,
            "headers": self._headers(url),
            "timeout": self._config.timeout,
        }
        if spec.json is not None:
            kwargs["json"] = spec.json
        if spec.data is not None:
            kwargs["data"] = dict(spec.data)
        if spec.files is not None:
            kwargs["files"] = dict(spec.files)
        return kwargs

    def _headers(self, url: str) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        key = self._config.api_key
        # The key goes only to our own server: a presigned URL elsewhere (an object store)
        # must not receive it, and would reject a request carrying two credentials.
        if key is not None and _same_origin(url, self.base_url):
            headers["Authorization"] = f"Bearer {key.get_secret_value()}"
        return headers

    # --- retrying ------------------------------------------------------------------------------

    def _delay_after_response(self, retries_taken: int, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying this error response, or None to give up."""
        if retries_taken >= self.max_retries:
            return None
        if not should_retry_status(response.status_code, response.headers):
            return None
        return retry_delay(retries_taken, response.headers, now=time.time(), jitter=random.random())

    def _delay_after_exception(self, retries_taken: int) -> float | None:
        """Seconds to wait before retrying after no response at all, or None to give up."""
        if retries_taken >= self.max_retries:
            return None
        return retry_delay(retries_taken, None, now=time.time(), jitter=random.random())

    @staticmethod
    def _connection_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(request)
        return APIConnectionError(
            f"Connection error: {exc}" if str(exc) else "Connection error.", request
        )


def _same_origin(url: str, base_url: str) -> bool:
    target, base = httpx.URL(url), httpx.URL(base_url)
    return (target.scheme, target.host, target.port) == (base.scheme, base.host, base.port)
