"""Fixtures for the batch tests: generated corpora, directory helpers, a webhook receiver."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from tests.fixtures.server import free_port  # noqa: F401  (re-exported for the batch tests)
from tests.server.conftest import (  # noqa: F401  (fixtures re-exported)
    _clean_env,
    client,
    running_app,
    start_server,
    wait_until,
)

CORRUPT = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"


def small_pdf(text: str) -> bytes:
    """A one-page PDF with one line of text."""
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    c.setFont("Helvetica", 12)
    c.drawString(72, 770, text)
    c.showPage()
    c.save()
    return buffer.getvalue()


def corpus(
    count: int, *, corrupt: int = 0, pdfs: int = 0, tag: str = ""
) -> list[tuple[str, bytes]]:
    """``count`` distinct small files: ``pdfs`` PDFs, ``corrupt`` broken PDFs, the rest text."""
    files: list[tuple[str, bytes]] = []
    for i in range(count):
        if i < corrupt:
            files.append((f"broken-{i:04d}.pdf", CORRUPT + f"{tag}{i}".encode()))
        elif i < corrupt + pdfs:
            files.append((f"doc-{i:04d}.pdf", small_pdf(f"Document {tag} number {i}")))
        else:
            body = f"Note {tag} {i}\n\nParagraph about item {i}.\n"
            files.append((f"note-{i:04d}.txt", body.encode()))
    return files


def make_directory(http: Any, files: list[tuple[str, bytes]], name: str = "corpus") -> str:
    """A directory holding ``files`` (uploaded through the directory upload route)."""
    response = http.post("/api/v1/beta/directories", json={"name": name})
    assert response.status_code == 200, response.text
    directory_id: str = response.json()["id"]
    for filename, data in files:
        uploaded = http.post(
            f"/api/v1/beta/directories/{directory_id}/files/upload",
            files={"upload_file": (filename, data)},
        )
        assert uploaded.status_code == 200, uploaded.text
    return directory_id


def create_batch(http: Any, directory_id: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "directory_id": directory_id,
        "job_config": {"job_name": "parse_raw_file_job", "parameters": {"tier": "fast"}},
        **extra,
    }
    response = http.post("/api/v1/beta/batch-processing", json=body)
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def batch_status(http: Any, batch_id: str) -> dict[str, Any]:
    response = http.get(f"/api/v1/beta/batch-processing/{batch_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_batch(http: Any, batch_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll until the batch is terminal; returns the status body."""
    deadline = time.monotonic() + timeout
    while True:
        body = batch_status(http, batch_id)
        if body["job"]["status"] in ("completed", "failed", "cancelled"):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"batch {batch_id} still {body['job']} after {timeout}s")
        time.sleep(0.1)


def all_items(http: Any, batch_id: str, status: str | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    offset = 0
    while True:
        params: dict[str, Any] = {"limit": 200, "offset": offset}
        if status:
            params["status"] = status
        response = http.get(f"/api/v1/beta/batch-processing/{batch_id}/items", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        if not page.get("next_page_token"):
            return items
        offset = int(page["next_page_token"])


class Receiver:
    """A loopback HTTP server recording every POST (headers and body)."""

    def __init__(self, status: int = 200) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = status
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with outer._lock:
                    outer.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def events(self) -> list[str]:
        with self._lock:
            return [json.loads(r["body"])["event_type"] for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.close()
