"""Request sizes and database work per request (issue #10, items 6 and 7): lists and stored JSON
are capped at the door (422/413), batch snapshots are written in bounded transactions that never
read per item while holding the write lock, and a status poll does not load a job's stored
configuration."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.server.conftest import running_app, upload


def _directory(client: TestClient) -> str:
    response = client.post("/api/v1/beta/directories", json={"name": "limits"})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def test_huge_item_id_lists_are_refused_at_the_door(tmp_path: Path) -> None:
    with running_app(tmp_path / "data") as client:
        file_id = upload(client, b"hello", name="a.txt")["id"]
        body = {
            "job_config": {"parameters": {"tier": "fast"}},
            "item_ids": [file_id] + [f"dfl-{i:024x}" for i in range(150_000)],
        }
        response = client.post("/api/v1/beta/batch-processing", json=body)
        assert response.status_code in (413, 422), response.text[:300]
        capped = {**body, "item_ids": [file_id] * 10_001}
        response = client.post("/api/v1/beta/batch-processing", json=capped)
        assert response.status_code == 422, response.text[:300]
        assert response.json()["detail"][0]["loc"] == ["body", "item_ids"]


def test_json_bodies_over_the_limit_are_413(tmp_path: Path) -> None:
    with running_app(tmp_path / "data", max_json_body_bytes=64 * 1024) as client:
        body = {"name": "d", "description": "x" * 100_000}
        response = client.post("/api/v1/beta/directories", json=body)
        assert response.status_code == 413, response.text[:300]
        assert client.post("/api/v1/beta/directories", json={"name": "ok"}).status_code == 200


def test_stored_json_is_capped(tmp_path: Path) -> None:
    big = {f"k{i}": "v" * 1000 for i in range(40)}  # 40 KB, over the 16 KiB default
    with running_app(tmp_path / "data") as client:
        file_id = upload(client, b"hello", name="a.txt")["id"]
        job = {"file_id": file_id, "tier": "fast", "version": "latest"}
        meta = client.post("/api/v2/parse", json={**job, "user_metadata": big})
        assert meta.status_code == 422, meta.text[:300]
        assert meta.json()["detail"][0]["loc"] == ["body", "user_metadata"]
        unknown = client.post("/api/v2/parse", json={**job, "anything": "x" * 2_000_000})
        assert unknown.status_code in (413, 422), unknown.text[:300]
        directory = _directory(client)
        entry = client.post(
            f"/api/v1/beta/directories/{directory}/files",
            json={"file_id": file_id, "metadata": big},
        )
        assert entry.status_code == 422, entry.text[:300]
        system = client.post("/api/v1/beta/directories", json={"name": "d", "system_metadata": big})
        assert system.status_code == 422
        extract = client.post(
            "/api/v2/extract",
            json={
                "file_input": file_id,
                "configuration": {
                    "data_schema": {"type": "object", "properties": {"a": {"type": "string"}}},
                    "extra": "x" * 1_100_000,
                },
            },
        )
        assert extract.status_code in (413, 422), extract.text[:300]
        config = {"parameters": {"tier": "fast", "note": "x" * 1_100_000}}
        batch = client.post(
            "/api/v1/beta/batch-processing", json={"directory_id": directory, "job_config": config}
        )
        assert batch.status_code in (413, 422), batch.text[:300]
        # Within the caps, everything is accepted and echoed.
        small = {"team": "a", "ref": "b" * 1000}
        ok = client.post("/api/v2/parse", json={**job, "user_metadata": small})
        assert ok.status_code == 200 and ok.json()["user_metadata"] == small


@contextmanager
def _transactions(engine: sa.Engine) -> Iterator[list[dict[str, int]]]:
    """Record, per transaction: rows written to batch_items and statements that read after
    the transaction's first write (while SQLite holds its write lock)."""
    done: list[dict[str, int]] = []
    local = threading.local()

    def begin(_conn: Any) -> None:
        local.txn = {"item_rows": 0, "reads_after_write": 0, "wrote": 0}

    def execute(
        _conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, many: bool
    ) -> None:
        txn = getattr(local, "txn", None)
        if txn is None:
            return
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE"):
            txn["wrote"] = 1
            if "batch_items" in statement.split("(")[0] and verb == "INSERT":
                txn["item_rows"] += len(params) if many else 1
        elif verb == "SELECT" and txn["wrote"]:
            txn["reads_after_write"] += 1

    def end(_conn: Any) -> None:
        txn = getattr(local, "txn", None)
        if txn is not None:
            done.append(txn)
            local.txn = None

    sa.event.listen(engine, "begin", begin)
    sa.event.listen(engine, "before_cursor_execute", execute)
    sa.event.listen(engine, "commit", end)
    sa.event.listen(engine, "rollback", end)
    try:
        yield done
    finally:
        sa.event.remove(engine, "begin", begin)
        sa.event.remove(engine, "before_cursor_execute", execute)
        sa.event.remove(engine, "commit", end)
        sa.event.remove(engine, "rollback", end)


def _fill_directory(client: TestClient, directory: str, count: int) -> list[str]:
    """``count`` entries pointing at one stored upload (set up directly in the database)."""
    from lamina.services.store.db import utcnow
    from lamina.services.store.tables import directory_files_table

    services = client.app.state.services  # type: ignore[attr-defined]
    file_id = upload(client, b"hello", name="a.txt")["id"]
    now = utcnow()
    rows = [
        {
            "id": f"dfl-fill{i:020d}",
            "directory_id": directory,
            "project_id": "default",
            "file_id": file_id,
            "display_name": f"f{i}.txt",
            "unique_id": f"u{i}",
            "metadata": None,
            "created_at": now,
            "updated_at": now,
            "deleted_at": None,
        }
        for i in range(count)
    ]
    with services.db.begin() as conn:
        conn.execute(directory_files_table.insert(), rows)
    return [str(r["id"]) for r in rows]


def test_batch_snapshots_use_bounded_transactions(tmp_path: Path) -> None:
    with running_app(tmp_path / "data") as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        services.batch.dispatcher.stop()  # only the create request's own work is recorded
        directory = _directory(client)
        ids = _fill_directory(client, directory, 5000)
        config = {"parameters": {"tier": "fast"}}
        with _transactions(services.db.engine) as txns:
            by_dir = client.post(
                "/api/v1/beta/batch-processing",
                json={"directory_id": directory, "job_config": config},
            )
        assert by_dir.status_code == 200, by_dir.text
        assert by_dir.json()["total_items"] == 5000
        assert max(t["item_rows"] for t in txns) <= 1000
        assert max(t["reads_after_write"] for t in txns) == 0, txns
        with _transactions(services.db.engine) as txns:
            by_ids = client.post(
                "/api/v1/beta/batch-processing", json={"item_ids": ids[:2500], "job_config": config}
            )
        assert by_ids.status_code == 200, by_ids.text
        assert by_ids.json()["total_items"] == 2500
        assert max(t["item_rows"] for t in txns) <= 1000
        assert max(t["reads_after_write"] for t in txns) == 0, txns
        items = client.get(
            f"/api/v1/beta/batch-processing/{by_ids.json()['id']}/items", params={"limit": 3}
        ).json()
        assert [i["item_id"] for i in items["items"]] == ids[:3]  # the order given


def test_unknown_item_ids_leave_no_batch(tmp_path: Path) -> None:
    with running_app(tmp_path / "data") as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        services.batch.dispatcher.stop()
        directory = _directory(client)
        ids = _fill_directory(client, directory, 1500)
        body = {"item_ids": [*ids, "dfl-missing"], "job_config": {"parameters": {"tier": "fast"}}}
        response = client.post("/api/v1/beta/batch-processing", json=body)
        assert response.status_code == 404
        assert client.get("/api/v1/beta/batch-processing").json()["total_size"] == 0
        from lamina.services.store.tables import batch_items_table, batch_jobs_table

        with services.db.begin() as conn:
            for table in (batch_jobs_table, batch_items_table):
                count = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                assert count == 0


def test_status_poll_does_not_load_the_stored_configuration(tmp_path: Path) -> None:
    with running_app(tmp_path / "data") as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        file_id = upload(client, b"hello", name="a.txt")["id"]
        job = client.post(
            "/api/v2/parse",
            json={"file_id": file_id, "tier": "fast", "version": "latest", "note": "x" * 500_000},
        ).json()
        statements: list[str] = []

        def record(_c: Any, _cu: Any, statement: str, *_rest: Any) -> None:
            statements.append(statement)

        sa.event.listen(services.db.engine, "before_cursor_execute", record)
        try:
            poll = client.get(f"/api/v2/parse/{job['id']}")
            listed = client.get("/api/v2/parse")
        finally:
            sa.event.remove(services.db.engine, "before_cursor_execute", record)
        assert poll.status_code == 200 and listed.status_code == 200
        reads = [s for s in statements if "parse_jobs" in s and s.lstrip().startswith("SELECT")]
        assert reads and not [s for s in reads if "raw_parameters" in s or "configuration" in s]
        raw = client.get(f"/api/v2/parse/{job['id']}", params={"expand": "raw_parameters"})
        assert len(json.dumps(raw.json()["raw_parameters"])) > 500_000
