"""The embedded transports: the real app in a background loop, shared by sync and async clients."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import lamina
from lamina.server.embedded import (
    EMBEDDED_BASE_URL,
    AsyncEmbeddedTransport,
    EmbeddedServer,
    EmbeddedTransport,
    get_embedded_server,
)
from lamina.services.settings import ServerSettings
from tests.fixtures.hostile import make_many_pages_pdf
from tests.server.conftest import wait_for_job


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    embedded = EmbeddedServer(ServerSettings(data_dir=tmp_path / "home", workers=0))
    yield embedded
    embedded.stop()


def test_sync_client(server: EmbeddedServer, docs: dict[str, bytes]) -> None:
    with httpx.Client(transport=EmbeddedTransport(server), base_url=EMBEDDED_BASE_URL) as client:
        file = client.post(
            "/api/v1/beta/files",
            files={"file": ("a.pdf", docs["simple"])},
            data={"purpose": "parse"},
        ).json()
        job = client.post(
            "/api/v2/parse", json={"file_id": file["id"], "tier": "fast", "version": "latest"}
        ).json()
        assert wait_for_job(client, job["id"])["status"] == "COMPLETED"
        body = client.get(
            f"/api/v2/parse/{job['id']}", params={"expand": "markdown_full_content_metadata"}
        ).json()
        url = body["result_content_metadata"]["markdown_full"]["presigned_url"]
        assert url.startswith(EMBEDDED_BASE_URL)
        assert "Quarterly Report" in client.get(url).text
        assert client.get("/api/v2/parse/pjb-none").status_code == 404


async def test_async_client_shares_the_app(server: EmbeddedServer, docs: dict[str, bytes]) -> None:
    transport = AsyncEmbeddedTransport(server)
    async with httpx.AsyncClient(transport=transport, base_url=EMBEDDED_BASE_URL) as client:
        response = await client.post(
            "/api/v2/parse/upload",
            files={"file": ("n.txt", docs["text"])},
            data={"configuration": '{"tier": "fast", "version": "latest"}'},
        )
        job_id = response.json()["id"]
        for _ in range(200):
            job = (await client.get(f"/api/v2/parse/{job_id}")).json()["job"]
            if job["status"] == "COMPLETED":
                break
            await asyncio.sleep(0.05)
        assert job["status"] == "COMPLETED"
    # a sync client, from another thread, sees the same jobs
    seen: list[int] = []

    def sync_list() -> None:
        with httpx.Client(transport=EmbeddedTransport(server), base_url=EMBEDDED_BASE_URL) as c:
            seen.append(c.get("/api/v2/parse").json()["total_size"])

    thread = threading.Thread(target=sync_list)
    thread.start()
    thread.join()
    assert seen == [1]


def test_one_server_per_data_dir(tmp_path: Path) -> None:
    first = get_embedded_server(tmp_path / "x", workers=0)
    try:
        assert get_embedded_server(tmp_path / "x") is first
        assert get_embedded_server(tmp_path / "y") is not first
        assert first.settings.api_keys == {}
    finally:
        first.stop()


def test_concurrent_first_use_starts_once(server: EmbeddedServer) -> None:
    results: list[int] = []

    def call() -> None:
        with httpx.Client(transport=EmbeddedTransport(server), base_url=EMBEDDED_BASE_URL) as c:
            results.append(c.get("/health").status_code)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 8


# --- the fast lane, the job thread, waking waiters, progress --------------------------------------


def _strip_queries(value: Any) -> Any:
    """Presigned URLs carry an expiry that moves with the clock: compare them without it."""
    if isinstance(value, dict):
        return {k: _strip_queries(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_queries(v) for v in value]
    if isinstance(value, str) and "?expires=" in value:
        return value.split("?", 1)[0]
    return value


def test_fast_lane_answers_as_the_app_does(server: EmbeddedServer, docs: dict[str, bytes]) -> None:
    """Upload, create and GET answered from the services equal the app's own answers, and
    the app is not even built for them."""
    with httpx.Client(transport=EmbeddedTransport(server), base_url=EMBEDDED_BASE_URL) as client:
        file = client.post(
            "/api/v1/beta/files",
            files={"file": ("a.pdf", docs["simple"])},
            data={"purpose": "parse"},
        ).json()
        job = client.post(
            "/api/v2/parse",
            json={"file_id": file["id"], "tier": "cost_effective", "user_metadata": {"k": "v"}},
        ).json()
        assert wait_for_job(client, job["id"])["status"] == "COMPLETED"
        assert not server.app_running
        expands = [
            "markdown,items,metadata,text,job_metadata,raw_parameters",
            "markdown_full,text_full",
            "markdown_full_content_metadata,images_content_metadata",
        ]
        fast = [client.get(f"/api/v2/parse/{job['id']}", params={"expand": e}) for e in expands]
        fast_file = client.get(f"/api/v1/beta/files/{file['id']}")  # not a fast-lane route
        assert server.app_running and fast_file.json()["id"] == file["id"]
        via_app = []
        for response in fast:
            status, headers, body = server.submit(response.request).result()
            via_app.append(httpx.Response(status, headers=headers, content=body))
        for ours, theirs in zip(fast, via_app, strict=True):
            assert ours.status_code == theirs.status_code == 200
            assert _strip_queries(ours.json()) == _strip_queries(theirs.json())
            assert ours.headers["content-type"] == theirs.headers["content-type"]


def test_errors_are_answered_by_the_app(server: EmbeddedServer, docs: dict[str, bytes]) -> None:
    with httpx.Client(transport=EmbeddedTransport(server), base_url=EMBEDDED_BASE_URL) as client:
        missing = client.get("/api/v2/parse/pjb-missing")
        assert missing.status_code == 404 and missing.json()["detail"]
        bad_tier = client.post("/api/v2/parse", json={"file_id": "x", "tier": "nope"})
        assert bad_tier.status_code == 422 and bad_tier.json()["detail"][0]["loc"] == ["tier"]
        bad_expand = client.get("/api/v2/parse/pjb-missing", params={"expand": "bogus"})
        assert bad_expand.status_code == 422
        no_file = client.post("/api/v1/beta/files", data={"purpose": "parse"})
        assert no_file.status_code == 422


def test_a_plain_parse_never_loads_fastapi(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        import lamina
        with lamina.Client(data_dir={str(tmp_path / "home")!r}) as client:
            result = client.parse(b"# Notes\\n\\nhello", filename="n.md", expand=["markdown_full"])
        assert "hello" in result.markdown_full
        assert "fastapi" not in sys.modules and "starlette" not in sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=_env_without_lamina())


def _env_without_lamina() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LAMINA_")}


def test_jobs_run_in_a_thread_by_default_and_waits_wake_at_once(tmp_path: Path) -> None:
    embedded = get_embedded_server(tmp_path / "h")
    try:
        assert embedded.settings.workers == 0 and not embedded.settings.durable_writes
        with lamina.Client(transport=EmbeddedTransport(embedded)) as client:
            mark = embedded.changes.mark()
            uploaded = client.files.create(b"a note", filename="n.txt")
            job = client.parsing.create(uploaded.id, tier="fast")
            embedded.changes.wait(mark, 60)  # returns when the job ends, not after 60 s
            assert embedded.changes.mark() > mark
            assert client.parsing.get(job.id).job.status == "COMPLETED"
            assert threading.current_thread() is threading.main_thread()
            assert any(t.name == "lamina-inline" for t in threading.enumerate())
    finally:
        embedded.stop()


def test_thread_jobs_report_progress_and_keep_their_time_limit(server: EmbeddedServer) -> None:
    """A long job in the embedded thread shows its pages moving, fails at its time limit
    saying how far it got, and leaves the thread free for the next job."""
    seen: list[tuple[int, int]] = []
    with lamina.Client(transport=EmbeddedTransport(server)) as client:
        with pytest.raises(lamina.JobFailedError) as failed:
            client.parse(
                make_many_pages_pdf(5000),
                filename="long.pdf",
                tier="cost_effective",
                processing_control={"timeouts": {"base_in_seconds": 1}},
                progress=lambda done, total: seen.append((done, total)),
            )
        message = str(failed.value)
        assert "Parse job timed out after 1 s" in message
        # Progress is written every half second: once the client saw some, the time-limit
        # message says how far the job got (on a very busy machine the limit may come first).
        if seen:
            assert re.search(r"timed out after 1 s \(\d+ of 5000 pages done\)", message)
            assert {total for _, total in seen} == {5000}
            assert [done for done, _ in seen] == sorted(done for done, _ in seen)
        assert "x" in client.parse(b"x", filename="x.txt", expand=["text_full"]).text_full


def test_webhooks_and_saved_configurations_work_embedded(
    tmp_path: Path, docs: dict[str, bytes]
) -> None:
    """A parse job with a saved configuration and a webhook, created through the embedded
    client: the configuration applies and the webhook reaches a receiver on loopback (as
    :func:`get_embedded_server` sets it up, the embedded engine trusts every address)."""
    settings = ServerSettings(data_dir=tmp_path / "home", workers=0, outbound_allow=("*",))
    server = EmbeddedServer(settings)
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    events: list[str] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            events.append(httpx.Response(200, content=body).json().get("event_type", ""))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    try:
        with httpx.Client(
            transport=EmbeddedTransport(server), base_url=EMBEDDED_BASE_URL
        ) as client:
            file = client.post(
                "/api/v1/beta/files", files={"file": ("a.pdf", docs["simple"])}
            ).json()
            saved = client.post(
                "/api/v1/beta/configurations",
                json={
                    "name": "fast",
                    "parameters": {
                        "product_type": "parse_v2",
                        "tier": "fast",
                        "version": "latest",
                        "user_metadata": {"from": "saved"},
                    },
                },
            ).json()
            job = client.post(
                "/api/v2/parse",
                json={
                    "file_id": file["id"],
                    "tier": "fast",
                    "version": "latest",
                    "configuration_id": saved["id"],
                    "webhook_configurations": [{"webhook_url": hook}],
                },
            ).json()
            assert job["user_metadata"] == {"from": "saved"}
            assert wait_for_job(client, job["id"])["status"] == "COMPLETED"
            deadline = time.monotonic() + 30
            while "parse.success" not in events and time.monotonic() < deadline:
                time.sleep(0.05)
        assert "parse.success" in events
    finally:
        receiver.shutdown()
        server.stop()
