"""``LAMINA_LOG_FORMAT=json`` on a real ``lamina serve`` and its worker process: every line it
writes is a JSON object, and the lines about a job name the job and its project."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.fixtures.documents import make_simple_pdf
from tests.server.conftest import LiveServer, wait_for_job

pytestmark = pytest.mark.slow


def test_api_and_worker_log_json_lines_with_job_and_project(
    start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    server = start_server(
        "--workers", "1", "--log-level", "info", LAMINA_LOG_FORMAT="json", LAMINA_API_KEYS="k:team"
    )
    http = httpx.Client(base_url=server.base_url, headers={"Authorization": "Bearer k"})
    up = http.post(
        "/api/v1/beta/files",
        files={"file": ("s.pdf", make_simple_pdf(tmp_path).read_bytes())},
        data={"purpose": "parse"},
    )
    job_id = http.post(
        "/api/v2/parse", json={"file_id": up.json()["id"], "tier": "fast", "version": "latest"}
    ).json()["id"]
    assert wait_for_job(http, job_id, timeout=60)["status"] == "COMPLETED"
    http.close()
    server.stop()

    lines = [line for line in server.log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON, banners included
    assert all({"ts", "level", "logger", "message", "process"} <= set(r) for r in records)
    job_lines = [r for r in records if r.get("job_id") == job_id]
    # The worker process said when it started and how it ended, naming the project.
    messages = {r["message"] for r in job_lines}
    assert f"job {job_id}: started (attempt 1)" in messages
    assert f"job {job_id}: COMPLETED" in messages
    assert all(r["project_id"] == "team" for r in job_lines)
    assert {r["process"] for r in job_lines} != {server.proc.pid}  # from the worker process
    # The API's access lines name the caller's project.
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    create = [r for r in access if r.get("method") == "POST" and r.get("path") == "/api/v2/parse"]
    assert create and create[0]["status"] == 200 and create[0]["project_id"] == "team"
