"""Against a real ``lamina serve`` subprocess: surviving SIGKILL mid-job.

The official SDK flows live in ``tests/compat/`` (the conformance suite)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.fixtures.documents import SIMPLE_TITLE
from tests.server.conftest import LiveServer, wait_for_job

pytestmark = pytest.mark.slow

StartServer = Callable[..., LiveServer]


@pytest.mark.heavy
def test_sigkill_mid_job_then_restart_completes(
    start_server: StartServer, doc_server: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    server = start_server("--workers", "1", data_dir=data, LAMINA_OUTBOUND_ALLOW="127.0.0.1")
    http = httpx.Client(base_url=server.base_url)
    body = {"source_url": f"{doc_server}/slow/4/doc.pdf", "tier": "fast", "version": "latest"}
    job_id = http.post("/api/v2/parse", json=body).json()["id"]
    deadline = time.monotonic() + 20
    while http.get(f"/api/v2/parse/{job_id}").json()["job"]["status"] != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    server.kill()  # server and its workers, no clean-up

    restarted = start_server("--workers", "1", data_dir=data, LAMINA_OUTBOUND_ALLOW="127.0.0.1")
    with httpx.Client(base_url=restarted.base_url) as http2:
        job = wait_for_job(http2, job_id, timeout=60)
        assert job["status"] == "COMPLETED"
        text = http2.get(f"/api/v2/parse/{job_id}", params={"expand": "text_full"}).json()
        assert SIMPLE_TITLE in text["text_full"]
