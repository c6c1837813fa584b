"""The embedded transports: the real app in a background loop, shared by sync and async clients."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lamina.server.embedded import (
    EMBEDDED_BASE_URL,
    AsyncEmbeddedTransport,
    EmbeddedServer,
    EmbeddedTransport,
    get_embedded_server,
)
from lamina.services.settings import ServerSettings
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
