"""Fixtures for the server tests: apps in-process, a document server, a real ``lamina serve``."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lamina.server import ServerSettings, create_app
from lamina.services.settings import DEFAULT_TRUSTED_HOSTS
from tests.fixtures.documents import make_corrupt_pdf, make_multipage_pdf, make_simple_pdf
from tests.fixtures.pg import suite_database_url
from tests.fixtures.server import LiveServer, serve


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's own LAMINA_* settings."""
    for name in list(os.environ):
        if name.startswith("LAMINA_"):
            monkeypatch.delenv(name, raising=False)


# --- documents ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Generated documents by name: simple, multipage, corrupt, text."""
    folder = tmp_path_factory.mktemp("docs")
    return {
        "simple": make_simple_pdf(folder).read_bytes(),
        "multipage": make_multipage_pdf(folder, pages=3).read_bytes(),
        "corrupt": make_corrupt_pdf(folder).read_bytes(),
        "text": b"Plain notes.\n\nSecond paragraph.\n",
    }


class _DocHandler(BaseHTTPRequestHandler):
    """``/doc.pdf``; ``/slow/<seconds>/doc.pdf`` (answers after a delay); anything else 404."""

    pdf: bytes = b""

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")
        if parts[0] == "slow" and len(parts) == 3:
            time.sleep(float(parts[1]))
            parts = parts[2:]
        if parts == ["doc.pdf"]:
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(self.pdf)))
            self.end_headers()
            self.wfile.write(self.pdf)
        else:
            self.send_error(404)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def doc_server(docs: dict[str, bytes]) -> Iterator[str]:
    """Base URL of a local HTTP server that serves a PDF, optionally slowly (for source_url)."""
    handler = type("Handler", (_DocHandler,), {"pdf": docs["simple"]})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


# --- in-process apps ---------------------------------------------------------------------------


@contextmanager
def running_app(data_dir: Path, **settings: Any) -> Iterator[TestClient]:
    """A TestClient over the real app with its lifespan (so workers run)."""
    settings.setdefault("workers", 0)
    settings.setdefault("poll_interval_seconds", 0.2)
    # TestClient sends "Host: testserver": trusted here, as an operator would list their host.
    settings.setdefault("trusted_hosts", (*DEFAULT_TRUSTED_HOSTS, "testserver"))
    if "database_url" not in settings and (url := suite_database_url(data_dir)):
        settings["database_url"] = url  # LAMINA_TEST_DB=postgres: a fresh schema
    app = create_app(ServerSettings(data_dir=data_dir, **settings))
    with TestClient(app) as client:
        yield client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """An app in inline mode (jobs run in a thread) on a fresh data dir."""
    with running_app(tmp_path / "data") as test_client:
        yield test_client


def upload(client: Any, data: bytes, name: str = "doc.pdf", **form: str) -> dict[str, Any]:
    form.setdefault("purpose", "parse")
    response = client.post("/api/v1/beta/files", files={"file": (name, data)}, data=form)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def create_job(client: Any, file_id: str, **options: Any) -> dict[str, Any]:
    body = {"file_id": file_id, "tier": "fast", "version": "latest", **options}
    response = client.post("/api/v2/parse", json=body)
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def wait_for_job(client: Any, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll until the job is terminal; returns the job object."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/v2/parse/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()["job"]
        if job["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']} after {timeout}s")
        time.sleep(0.1)


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


# --- a real `lamina serve` (tests/fixtures/server.py) ---------------------------------------------


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Factory: ``start_server(*args, data_dir=..., **env)`` → a ready :class:`LiveServer`."""
    servers: list[LiveServer] = []

    def start(*args: str, data_dir: Path | None = None, **env: str) -> LiveServer:
        server = serve(data_dir or tmp_path / "data", *args, **env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def ok(response: Any) -> Any:
    """The JSON body of a 200 answer (the body is shown when the status is another)."""
    assert response.status_code == 200, response.text
    return response.json()


def assert_utc_iso(value: str) -> None:
    """An ISO timestamp with an explicit UTC offset, as the wire writes them (``+00:00``)."""
    assert value.endswith("+00:00"), value
    assert datetime.fromisoformat(value).utcoffset() is not None
