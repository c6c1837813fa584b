"""Prometheus metrics and readiness of a plain ``lamina serve`` app (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.conftest import create_job, running_app, upload, wait_for_job

pytest.importorskip("prometheus_client", reason="the distributed extra is not installed")


def _value(text: str, prefix: str) -> float:
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{prefix} not in metrics:\n{text}")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_metrics_count_jobs_by_status_and_time_them_by_tier(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = {"metrics": True, "workers": 0}
    if backend == "postgres":
        settings["database_url"] = request.getfixturevalue("pg_url")
    with running_app(tmp_path / "data", **settings) as client:
        file_id = upload(client, b"Plain notes.\n", name="n.txt")["id"]
        for _ in range(2):
            assert wait_for_job(client, create_job(client, file_id)["id"])["status"] == "COMPLETED"
        response = client.get("/metrics")  # public: no key needed
        assert response.status_code == 200
        text = response.text
        assert _value(text, 'lamina_jobs{kind="parse",status="COMPLETED"}') == 2
        assert _value(text, 'lamina_job_duration_seconds_count{tier="fast"}') == 2
        assert _value(text, 'lamina_job_duration_seconds_sum{tier="fast"}') >= 0
        assert _value(text, "lamina_workers ") == 0  # inline mode: no worker process
        ready = client.get("/ready")
        assert ready.status_code == 200 and ready.json()["checks"] == {"database": True}


def test_metrics_are_off_unless_asked(tmp_path: Path) -> None:
    with running_app(tmp_path / "data") as client:
        assert client.get("/metrics").status_code == 404
