"""The batch routes answer with their declared models (issue #14) and write the same JSON as
when they returned hand-built dicts: every key, in the same order, timestamps as
``isoformat()`` (``+00:00``); their typed request bodies keep the 422 locations."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from lamina.types import BatchJob, BatchV2, ItemProcessingResults, strict_validate
from tests.batch.conftest import all_items, corpus, create_batch, make_directory, wait_batch

JOB_KEYS = [
    "id",
    "job_type",
    "project_id",
    "status",
    "total_items",
    "completed_at",
    "created_at",
    "directory_id",
    "effective_at",
    "error_message",
    "failed_items",
    "job_record_id",
    "processed_items",
    "skipped_items",
    "started_at",
    "updated_at",
    "workflow_id",
]
ITEM_KEYS = [
    "item_id",
    "item_name",
    "status",
    "completed_at",
    "effective_at",
    "error_message",
    "job_id",
    "job_record_id",
    "skip_reason",
    "started_at",
]
RESULT_KEYS = [
    "item_id",
    "job_config",
    "job_type",
    "output_s3_path",
    "parameters_hash",
    "processed_at",
    "result_id",
    "output_metadata",
]
V2_KEYS = [
    "id",
    "config",
    "project_id",
    "source_directory_id",
    "status",
    "created_at",
    "updated_at",
]
PAGE_KEYS = ["items", "next_page_token", "total_size"]


def _utc_iso(value: str) -> None:
    assert value.endswith("+00:00"), value
    assert datetime.fromisoformat(value).utcoffset() is not None


def test_v1_batch_json_is_unchanged(client: TestClient) -> None:
    directory_id = make_directory(client, corpus(2, tag="typed"))
    created = create_batch(client, directory_id)
    assert list(created) == JOB_KEYS
    assert created["job_record_id"] is None and created["completed_at"] is None
    _utc_iso(created["created_at"])
    strict_validate(BatchJob, created)
    status = wait_batch(client, created["id"])
    assert list(status) == ["job", "progress_percentage"]
    assert list(status["job"]) == JOB_KEYS and status["progress_percentage"] == 100.0
    _utc_iso(status["job"]["completed_at"])
    listed = client.get("/api/v1/beta/batch-processing").json()
    assert list(listed) == PAGE_KEYS and listed["items"] == [status["job"]]
    assert listed["next_page_token"] is None and listed["total_size"] == 1
    page = client.get(f"/api/v1/beta/batch-processing/{created['id']}/items").json()
    assert list(page) == PAGE_KEYS and len(page["items"]) == 2
    items = all_items(client, created["id"])
    for item in items:
        assert list(item) == ITEM_KEYS and item["status"] == "completed"
        _utc_iso(item["completed_at"])
    results = client.get(
        f"/api/v1/beta/batch-processing/items/{items[0]['item_id']}/processing-results"
    ).json()
    assert list(results) == ["item_id", "item_name", "processing_results"]
    strict_validate(ItemProcessingResults, results)
    (result,) = results["processing_results"]
    assert list(result) == RESULT_KEYS and result["job_type"] == "parse"
    _utc_iso(result["processed_at"])


def test_v1_cancel_json_is_unchanged(client: TestClient) -> None:
    directory_id = make_directory(client, corpus(30, tag="cancel"))
    created = create_batch(client, directory_id, max_concurrency=1)
    cancelled = client.post(
        f"/api/v1/beta/batch-processing/{created['id']}/cancel", json={"reason": "enough"}
    )
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert list(body) == ["job_id", "message", "processed_items", "status"]
    assert body["message"] == f"Batch job {created['id']} cancelled: enough"
    assert body["status"] == "cancelled"


def test_v2_batch_json_is_unchanged(client: TestClient) -> None:
    directory_id = make_directory(client, corpus(2, tag="typed-v2"))
    body = {
        "source_directory_id": directory_id,
        "config": {"job": {"type": "parse_v2", "configuration_id": "cfg-PARSE_FAST"}},
    }
    created = client.post("/api/v2/batches", json=body).json()
    assert list(created) == V2_KEYS and created["status"] == "PENDING"
    assert created["config"] == {"job": {"type": "parse_v2", "configuration_id": "cfg-PARSE_FAST"}}
    _utc_iso(created["created_at"])
    strict_validate(BatchV2, created)
    deadline = time.monotonic() + 30
    while True:
        got = client.get(f"/api/v2/batches/{created['id']}", params={"expand": "results"}).json()
        if got["status"] == "COMPLETED":
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert list(got) == [*V2_KEYS, "results"]
    for result in got["results"]:
        assert list(result) == ["source_directory_file_id", "job_reference"]
    plain = client.get(f"/api/v2/batches/{created['id']}").json()
    assert list(plain) == V2_KEYS
    listed = client.get("/api/v2/batches").json()
    assert list(listed) == PAGE_KEYS and listed["items"] == [plain]


def test_typed_bodies_keep_their_error_locations(client: TestClient) -> None:
    directory_id = make_directory(client, corpus(1, tag="loc"))

    def v1(body: dict[str, Any]) -> list[Any]:
        response = client.post("/api/v1/beta/batch-processing", json=body)
        assert response.status_code == 422, response.text
        return [e["loc"] for e in response.json()["detail"]]

    parse = {"parameters": {"tier": "fast"}}
    assert v1({"job_config": parse}) == [["body"]]
    assert v1({"directory_id": directory_id}) == [["body", "job_config"]]
    assert v1({"job_config": {"rules": []}, "directory_id": directory_id}) == [
        ["body", "job_config", "rules"]
    ]
    assert v1(
        {
            "job_config": {"rules": [{"type": "a", "description": "b"}], "mode": "SLOW"},
            "directory_id": directory_id,
        }
    ) == [["body", "job_config", "mode"]]
    assert v1({"job_config": parse, "item_ids": []}) == [["body", "item_ids"]]

    def v2(job: dict[str, Any], **extra: Any) -> list[Any]:
        body = {"source_directory_id": directory_id, "config": {"job": job}, **extra}
        response = client.post("/api/v2/batches", json=body)
        assert response.status_code == 422, response.text
        return [e["loc"] for e in response.json()["detail"]]

    assert v2({"type": "split_v1"}) == [["body", "config", "job", "type"]]
    assert v2({"type": "parse_v2", "configuration_id": "cfg-PARSE_AGENTIC"}) == [
        ["body", "config", "job"]
    ]
    assert v2({"type": "extract_v2"}) == [["body", "config", "job", "configuration_id"]]
