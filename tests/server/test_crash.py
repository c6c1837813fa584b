"""Crash safety: SIGKILL the server (whole process group) during a run of 100 parse jobs,
restart it on the same data dir, and every accepted job completes exactly once with intact
results."""

from __future__ import annotations

import io
import time
from pathlib import Path

import httpx
import pytest
from reportlab.pdfgen.canvas import Canvas

from lamina.engine import parse_document
from lamina.types import ParseConfiguration
from tests.server.conftest import serve

pytestmark = pytest.mark.slow

JOBS = 100


def _pdf(number: int) -> bytes:
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(300, 200), invariant=1)
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(20, 160, f"Report {number}")
    canvas.setFont("Helvetica", 10)
    canvas.drawString(20, 130, f"Unique token tok-{number:03d}-lamina.")
    canvas.showPage()
    canvas.drawString(20, 160, f"Second page of report {number}.")
    canvas.save()
    return buf.getvalue()


def _completed(http: httpx.Client) -> int:
    body = http.get("/api/v2/parse", params={"status": "COMPLETED", "page_size": 1}).json()
    return int(body["total_size"])


@pytest.mark.heavy
def test_sigkill_during_100_jobs_then_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    documents = {n: _pdf(n) for n in range(JOBS)}
    server = serve(data_dir, "--workers", "2")
    jobs: dict[str, int] = {}
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            for number, pdf in documents.items():
                response = http.post(
                    "/api/v2/parse/upload",
                    files={"file": (f"report-{number}.pdf", pdf)},
                    data={"configuration": '{"tier": "fast", "version": "latest"}'},
                )
                assert response.status_code == 200, response.text
                jobs[response.json()["id"]] = number
            deadline = time.monotonic() + 60
            while (done_at_kill := _completed(http)) < 10:
                assert time.monotonic() < deadline
                time.sleep(0.02)
    finally:
        server.kill()  # SIGKILL to the process group: server and workers, no clean-up
    assert done_at_kill < JOBS, "every job finished before the kill; the test proved nothing"

    restarted = serve(data_dir, "--workers", "2")
    try:
        with httpx.Client(base_url=restarted.base_url, timeout=30) as http:
            deadline = time.monotonic() + 120
            while _completed(http) < JOBS:
                failed = http.get("/api/v2/parse", params={"status": "FAILED"}).json()
                assert failed["total_size"] == 0, failed["items"]
                assert time.monotonic() < deadline, f"{_completed(http)} of {JOBS} completed"
                time.sleep(0.1)
            listed = http.get("/api/v2/parse", params={"page_size": 1000}).json()
            assert listed["total_size"] == JOBS and {j["id"] for j in listed["items"]} == set(jobs)
            for job_id, number in jobs.items():
                body = http.get(
                    f"/api/v2/parse/{job_id}",
                    params={"expand": "markdown_full,items,job_metadata"},
                ).json()
                assert body["job"]["status"] == "COMPLETED"
                assert 1 <= body["job_metadata"]["attempts"] <= 2  # at most the killed try + one
                expected = parse_document(
                    documents[number],
                    filename=f"report-{number}.pdf",
                    config=ParseConfiguration(tier="fast"),
                )
                assert f"tok-{number:03d}-lamina" in body["markdown_full"]
                assert body["markdown_full"] == "\n\n".join(p.markdown for p in expected.pages)
                assert len(body["items"]["pages"]) == 2
        results = [p.name for p in (data_dir / "results").iterdir()]
        assert sorted(results) == sorted(jobs)  # one result folder per job, no strays
    finally:
        restarted.stop()
