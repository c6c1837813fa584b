"""Auth fails closed: a server with auth on but no key store refuses every request.

Auth off is only ever an explicit setting (``auth=False``, what the embedded server uses), never
the side effect of a missing collaborator. The apps run on a real uvicorn server on loopback.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from lamina.server import create_app
from lamina.services.container import Services
from lamina.services.settings import DEFAULT_PROJECT_ID, DEFAULT_TRUSTED_HOSTS, ServerSettings
from tests.fixtures.server import free_port


@contextmanager
def _served(services: Services) -> Iterator[str]:
    """The app over ``services`` on a loopback port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(services=services), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:  # uvicorn's own readiness flag, set once it listens
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _settings(tmp_path: Path, **changes: object) -> ServerSettings:
    hosts = (*DEFAULT_TRUSTED_HOSTS, "127.0.0.1")
    return ServerSettings(data_dir=tmp_path / "data", workers=0, trusted_hosts=hosts, **changes)


@pytest.fixture
def opened(tmp_path: Path) -> Iterator[Services]:
    services = Services.open(_settings(tmp_path), batch=False)
    try:
        yield services
    finally:
        services.stop()


def test_auth_on_without_a_key_store_refuses_every_request(opened: Services) -> None:
    assert opened.settings.auth and opened.keys is not None
    without_keys = dataclasses.replace(opened, keys=None)  # built without a key store
    with _served(without_keys) as base, httpx.Client(base_url=base, timeout=30) as http:
        for method, path in [("GET", "/api/v2/parse"), ("GET", "/api/v1/beta/files")]:
            response = http.request(method, path)
            assert response.status_code == 503, response.text
            assert "no key store" in response.json()["detail"]
        upload = http.post(
            "/api/v1/beta/files", files={"file": ("a.txt", b"hello")}, data={"purpose": "parse"}
        )
        assert upload.status_code == 503
        assert http.get("/health").status_code == 200  # public paths stay public
    assert opened.files.list(DEFAULT_PROJECT_ID).items == []  # nothing was stored


def test_auth_off_is_an_explicit_setting(tmp_path: Path) -> None:
    services = Services.open(_settings(tmp_path, auth=False), batch=False)
    try:
        assert services.keys is None  # no key store, and none needed: auth is off by setting
        with _served(services) as base, httpx.Client(base_url=base, timeout=30) as http:
            assert http.get("/api/v2/parse").status_code == 200
    finally:
        services.stop()
