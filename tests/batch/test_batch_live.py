"""Batches on a real ``lamina serve`` over loopback: SIGKILL mid-batch and restart."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.batch.conftest import (
    all_items,
    batch_status,
    corpus,
    create_batch,
    make_directory,
    wait_batch,
)
from tests.server.conftest import LiveServer


@pytest.mark.heavy
def test_kill_mid_batch_and_restart_finishes_every_item_once(
    tmp_path: Path, start_server: Callable[..., LiveServer]
) -> None:
    data_dir = tmp_path / "data"
    server = start_server("--workers", "2", data_dir=data_dir, LAMINA_POLL_INTERVAL_SECONDS="0.2")
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        directory_id = make_directory(http, corpus(100, corrupt=3, pdfs=50, tag="kill"))
        created = create_batch(http, directory_id, max_concurrency=2)
        deadline = time.monotonic() + 60
        while batch_status(http, created["id"])["job"]["processed_items"] < 10:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    server.kill()  # SIGKILL the process group: server and workers, mid-batch

    server = start_server("--workers", "2", data_dir=data_dir, LAMINA_POLL_INTERVAL_SECONDS="0.2")
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        before = batch_status(http, created["id"])["job"]
        assert before["processed_items"] < 100, "the kill came too late to test anything"
        final = wait_batch(http, created["id"], timeout=90)["job"]
        assert final["status"] == "completed"
        assert (final["processed_items"], final["failed_items"]) == (100, 3)
        items = all_items(http, created["id"])
        assert sorted(i["status"] for i in items).count("completed") == 97
        # Exactly once: one parse job per item, no other parse job, one result per item.
        job_ids = [i["job_id"] for i in items]
        assert len(set(job_ids)) == 100
        parse_jobs = http.get("/api/v2/parse", params={"page_size": 1000}).json()
        assert parse_jobs["total_size"] == 100
        assert {j["id"] for j in parse_jobs["items"]} == set(job_ids)
        for item in items[::10]:
            results = http.get(
                f"/api/v1/beta/batch-processing/items/{item['item_id']}/processing-results"
            ).json()["processing_results"]
            assert len(results) == (1 if item["status"] == "completed" else 0)
