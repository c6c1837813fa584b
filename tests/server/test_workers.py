"""Worker processes and their supervisor: isolation, crashes, retries, timeouts, cancellation."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from lamina.services.runtime.worker import Supervisor
from tests.server.conftest import create_job, running_app, upload, wait_for_job, wait_until

LOOPBACK = ("127.0.0.1",)  # the test document server is "internal": the operator admits it


def _supervisor(client: TestClient) -> Supervisor:
    runner = client.app.state.services.runner  # type: ignore[attr-defined]
    assert isinstance(runner, Supervisor)
    return runner


def _by_url(client: TestClient, url: str, **options: Any) -> str:
    body = {"source_url": url, "tier": "fast", "version": "latest", **options}
    response = client.post("/api/v2/parse", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def test_corrupt_pdf_fails_alone(tmp_path: Path, docs: dict[str, bytes]) -> None:
    with running_app(tmp_path / "data", workers=2, outbound_allow=LOOPBACK) as client:
        good = [upload(client, docs[name])["id"] for name in ("simple", "multipage", "text")]
        bad = upload(client, docs["corrupt"], name="broken.pdf")["id"]
        jobs = [create_job(client, f)["id"] for f in (good[0], bad, good[1], good[2])]
        results = {job_id: wait_for_job(client, job_id) for job_id in jobs}
    failed = results.pop(jobs[1])
    assert failed["status"] == "FAILED"
    assert failed["error_message"] and "pdf" in failed["error_message"].lower()
    assert "Traceback" not in failed["error_message"]
    assert {job["status"] for job in results.values()} == {"COMPLETED"}


def test_killed_worker_job_is_retried(tmp_path: Path, doc_server: str) -> None:
    with running_app(tmp_path / "data", workers=1, outbound_allow=LOOPBACK) as client:
        supervisor = _supervisor(client)
        job_id = _by_url(client, f"{doc_server}/slow/2/doc.pdf")
        wait_until(lambda: job_id in supervisor.running_jobs())
        os.kill(supervisor.running_jobs()[job_id], signal.SIGKILL)
        job = wait_for_job(client, job_id)
        assert job["status"] == "COMPLETED"
        meta = client.get(f"/api/v2/parse/{job_id}", params={"expand": "job_metadata"}).json()
        assert meta["job_metadata"]["attempts"] == 2


def test_job_that_keeps_killing_its_worker_fails(tmp_path: Path, doc_server: str) -> None:
    with running_app(
        tmp_path / "data", workers=1, outbound_allow=LOOPBACK, max_attempts=2
    ) as client:
        supervisor = _supervisor(client)
        job_id = _by_url(client, f"{doc_server}/slow/30/doc.pdf")
        for _ in range(2):
            wait_until(lambda: job_id in supervisor.running_jobs())
            pid = supervisor.running_jobs()[job_id]
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda p=pid: supervisor.running_jobs().get(job_id) != p)  # type: ignore[misc]
        job = wait_for_job(client, job_id)
        assert job["status"] == "FAILED"
        assert "stopped unexpectedly 2 times" in job["error_message"]
        # the worker pool is healthy afterwards
        after = _by_url(client, f"{doc_server}/doc.pdf")
        assert wait_for_job(client, after)["status"] == "COMPLETED"


def test_job_over_its_time_limit_fails(tmp_path: Path, doc_server: str) -> None:
    with running_app(tmp_path / "data", workers=1, outbound_allow=LOOPBACK) as client:
        slow = _by_url(
            client,
            f"{doc_server}/slow/20/doc.pdf",
            processing_control={"timeouts": {"base_in_seconds": 1}},
        )
        job = wait_for_job(client, slow)
        assert job["status"] == "FAILED"
        assert job["error_message"] == "Parse job timed out after 1 s"
        after = _by_url(client, f"{doc_server}/doc.pdf")
        assert wait_for_job(client, after)["status"] == "COMPLETED"


def test_operator_job_timeout_is_a_ceiling(tmp_path: Path, doc_server: str) -> None:
    """A job asks for 7200 s; the operator allows 2 s: the operator wins (issue #10 item 9)."""
    with running_app(
        tmp_path / "data", workers=1, outbound_allow=LOOPBACK, job_timeout_seconds=2
    ) as client:
        slow = _by_url(
            client,
            f"{doc_server}/slow/20/doc.pdf",
            processing_control={"timeouts": {"base_in_seconds": 7200}},
        )
        job = wait_for_job(client, slow, timeout=15)
        assert job["status"] == "FAILED"
        assert job["error_message"] == "Parse job timed out after 2 s"


def test_job_timeout_takes_the_smaller_limit() -> None:
    from lamina.services.runtime.execution import job_timeout

    def row(seconds: object) -> dict[str, object]:
        return {"configuration": {"processing_control": {"timeouts": {"base_in_seconds": seconds}}}}

    assert job_timeout(row(7200), 20) == 20
    assert job_timeout(row(5), 20) == 5
    assert job_timeout(row(None), 20) == 20
    assert job_timeout(row("junk"), 20) == 20
    assert job_timeout(row(-3), 20) == 20
    assert job_timeout({"configuration": None}, 20) == 20


def test_cancel_running_job_frees_the_worker(tmp_path: Path, doc_server: str) -> None:
    with running_app(
        tmp_path / "data", workers=1, outbound_allow=LOOPBACK, lease_seconds=0.6
    ) as client:
        supervisor = _supervisor(client)
        job_id = _by_url(client, f"{doc_server}/slow/30/doc.pdf")
        wait_until(lambda: job_id in supervisor.running_jobs())
        assert client.post(f"/api/v2/parse/{job_id}/cancel").json()["status"] == "CANCELLED"
        after = _by_url(client, f"{doc_server}/doc.pdf")
        assert wait_for_job(client, after, timeout=20)["status"] == "COMPLETED"
        assert wait_for_job(client, job_id)["status"] == "CANCELLED"


def test_clean_shutdown_requeues_running_job(tmp_path: Path, doc_server: str) -> None:
    data = tmp_path / "data"
    with running_app(data, workers=1, outbound_allow=LOOPBACK) as client:
        supervisor = _supervisor(client)
        job_id = _by_url(client, f"{doc_server}/slow/3/doc.pdf")
        wait_until(lambda: job_id in supervisor.running_jobs())
    with running_app(data, workers=1, outbound_allow=LOOPBACK) as client:
        job = wait_for_job(client, job_id)
        assert job["status"] == "COMPLETED"
        meta = client.get(f"/api/v2/parse/{job_id}", params={"expand": "job_metadata"}).json()
        assert meta["job_metadata"]["attempts"] == 1  # a shutdown does not use up an attempt
