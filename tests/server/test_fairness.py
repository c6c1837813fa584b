"""Fairness between projects and per-key limits (issue #10, item 8): workers take jobs round-robin
across projects instead of oldest-first, a project can be capped in running and queued jobs,
and each API key is rate-limited with 429 + ``Retry-After``."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from lamina.server import ServerSettings, create_app
from lamina.services.store.db import Database, utcnow
from tests.server.conftest import running_app, wait_for_job


def _job(job_id: str, project: str, age: int) -> dict[str, Any]:
    created = utcnow() - timedelta(seconds=age)
    return {
        "id": job_id,
        "project_id": project,
        "kind": "parse",
        "file_id": "dfl-x",
        "status": "PENDING",
        "tier": "fast",
        "name": "x.pdf",
        "configuration": {"tier": "fast"},
        "raw_parameters": {},
        "created_at": created,
        "updated_at": created,
        "attempts": 0,
    }


def _database(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'jobs.db'}")
    db.create_schema()
    return db


def test_claims_go_round_robin_between_projects(tmp_path: Path) -> None:
    db = _database(tmp_path)
    # Project A queued five jobs; project B one job, after all of them.
    for i in range(5):
        db.insert_job(_job(f"pjb-a{i}", "A", age=100 - i))
    db.insert_job(_job("pjb-b0", "B", age=1))
    # Two workers: the second does not take A's second job while B waits.
    first = db.claim_next("w1", 30, 3)
    second = db.claim_next("w2", 30, 3)
    assert first is not None and second is not None
    assert (first["id"], second["id"]) == ("pjb-a0", "pjb-b0")
    # One worker: after each job, the project served least recently goes next.
    for row in (first, second):
        db.finish_job(row["id"], row["lease_owner"], status="COMPLETED")
    db.insert_job(_job("pjb-b1", "B", age=0))
    order = []
    while (row := db.claim_next("w1", 30, 3)) is not None:
        order.append(row["id"])
        db.finish_job(row["id"], "w1", status="COMPLETED")
    assert order == ["pjb-a1", "pjb-b1", "pjb-a2", "pjb-a3", "pjb-a4"]
    db.dispose()


def test_running_jobs_per_project_can_be_capped(tmp_path: Path) -> None:
    db = _database(tmp_path)
    for i in range(3):
        db.insert_job(_job(f"pjb-a{i}", "A", age=10 - i))
    claimed = [db.claim_next(f"w{i}", 30, 3, max_running_per_project=2) for i in range(3)]
    assert [row["id"] if row else None for row in claimed] == ["pjb-a0", "pjb-a1", None]
    db.dispose()


def test_one_project_flood_does_not_starve_another(tmp_path: Path, doc_server: str) -> None:
    """One worker; project A queues six jobs of about a second each, then B queues one: B's
    job runs right after A's first instead of after all six."""
    keys = {"key-a": "project-a", "key-b": "project-b"}
    with running_app(tmp_path / "data", api_keys=keys, outbound_allow=("127.0.0.1",)) as client:
        body = {"source_url": f"{doc_server}/slow/1/doc.pdf", "tier": "fast", "version": "latest"}
        a = {"Authorization": "Bearer key-a"}
        flood = [client.post("/api/v2/parse", json=body, headers=a).json()["id"] for _ in range(6)]
        deadline = time.monotonic() + 20
        while client.get(f"/api/v2/parse/{flood[0]}", headers=a).json()["job"]["status"] != (
            "RUNNING"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        client.headers["Authorization"] = "Bearer key-b"
        one = client.post("/api/v2/parse", json={**body, "source_url": f"{doc_server}/doc.pdf"})
        done_b = wait_for_job(client, one.json()["id"], timeout=60)
        assert done_b["status"] == "COMPLETED"
        client.headers["Authorization"] = "Bearer key-a"
        statuses = [client.get(f"/api/v2/parse/{j}").json()["job"]["status"] for j in flood]
    assert statuses.count("COMPLETED") <= 2, statuses  # B did not wait for A's queue


def test_rate_limits_per_key(tmp_path: Path) -> None:
    keys = {"key-a": "project-a", "key-b": "project-b"}
    with running_app(
        tmp_path / "data",
        api_keys=keys,
        rate_limit_per_second=0.5,
        rate_limit_burst=5,
        create_rate_limit_per_second=0.2,
        create_rate_limit_burst=2,
    ) as client:
        a = {"Authorization": "Bearer key-a"}
        b = {"Authorization": "Bearer key-b"}
        statuses = [client.get("/api/v2/parse", headers=a).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        refused = client.get("/api/v2/parse", headers=a)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert "detail" in refused.json()
        assert client.get("/api/v2/parse", headers=b).status_code == 200  # another key
        assert client.get("/health").status_code == 200  # public paths are not limited
        file_id = client.post(
            "/api/v1/beta/files", files={"file": ("a.txt", b"x")}, headers=b
        ).json()["id"]
        job = {"file_id": file_id, "tier": "fast", "version": "latest"}
        creates = [client.post("/api/v2/parse", json=job, headers=b) for _ in range(3)]
        assert [c.status_code for c in creates] == [200, 200, 429]  # 4 requests of 5: creates


def test_queued_jobs_per_project_are_capped(tmp_path: Path) -> None:
    # No lifespan: no worker runs, so the jobs stay queued.
    settings = ServerSettings(data_dir=tmp_path / "data", workers=0, max_queued_jobs_per_project=3)
    client = TestClient(create_app(settings), base_url="http://localhost")
    file_id = client.post("/api/v1/beta/files", files={"file": ("a.txt", b"x")}).json()["id"]
    body = {"file_id": file_id, "tier": "fast", "version": "latest"}
    codes = [client.post("/api/v2/parse", json=body).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.post("/api/v2/parse", json=body)
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert "waiting" in refused.json()["detail"]
