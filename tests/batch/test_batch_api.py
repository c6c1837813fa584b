"""Batch processing over the real app in-process: counts, cancel, dedup, limits, shapes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from llama_cloud.types import BatchGetResponse
from llama_cloud.types.beta import DirectoryCreateResponse
from llama_cloud.types.beta.directories import FileUploadResponse

from lamina.types import (
    BatchCancelResponse,
    BatchItemList,
    BatchJob,
    BatchJobList,
    BatchJobStatusResponse,
    Directory,
    DirectoryFile,
    ItemProcessingResults,
    strict_validate,
)
from tests.batch.conftest import (
    all_items,
    batch_status,
    corpus,
    create_batch,
    make_directory,
    running_app,
    wait_batch,
)


def test_directories_crud_and_sdk_shapes(client: Any) -> None:
    created = client.post("/api/v1/beta/directories", json={"name": "docs", "description": "d"})
    assert created.status_code == 200
    body = created.json()
    strict_validate(Directory, body)
    DirectoryCreateResponse.model_validate(body)
    directory_id = body["id"]
    assert directory_id.startswith("dir-")

    uploaded = client.post(
        f"/api/v1/beta/directories/{directory_id}/files/upload",
        files={"upload_file": ("a.txt", b"hello")},
        data={"metadata": '{"k": "v"}'},
    )
    assert uploaded.status_code == 200, uploaded.text
    entry = uploaded.json()
    strict_validate(DirectoryFile, entry)
    FileUploadResponse.model_validate(entry)
    assert entry["unique_id"] == "a.txt" and entry["metadata"] == {"k": "v"}

    file_id = client.post(
        "/api/v1/beta/files", files={"file": ("b.txt", b"bee")}, data={"purpose": "user_data"}
    ).json()["id"]
    added = client.post(f"/api/v1/beta/directories/{directory_id}/files", json={"file_id": file_id})
    assert added.status_code == 200 and added.json()["file_id"] == file_id
    listed = client.get(f"/api/v1/beta/directories/{directory_id}/files").json()
    assert [f["display_name"] for f in listed["items"]] == ["a.txt", "b.txt"]

    patched = client.patch(f"/api/v1/beta/directories/{directory_id}", json={"name": "renamed"})
    assert patched.json()["name"] == "renamed"
    assert client.get("/api/v1/beta/directories").json()["items"][0]["id"] == directory_id
    assert client.delete(f"/api/v1/beta/directories/{directory_id}").status_code == 204
    assert client.get(f"/api/v1/beta/directories/{directory_id}").status_code == 404
    missing = client.post("/api/v1/beta/directories/dir-nope/files", json={"file_id": file_id})
    assert missing.status_code == 404


@pytest.mark.heavy
def test_two_hundred_files_complete_with_exact_counts(client: Any) -> None:
    files = corpus(200, corrupt=5, pdfs=10)
    directory_id = make_directory(client, files)
    created = create_batch(client, directory_id)
    strict_validate(BatchJob, created)
    assert created["status"] == "pending" and created["total_items"] == 200
    assert created["id"].startswith("bjb-")

    final = wait_batch(client, created["id"], timeout=60)
    strict_validate(BatchJobStatusResponse, final)
    job = final["job"]
    assert job["status"] == "completed"
    assert (job["total_items"], job["processed_items"]) == (200, 200)
    assert (job["failed_items"], job["skipped_items"]) == (5, 0)
    assert final["progress_percentage"] == 100.0

    items = all_items(client, created["id"])
    assert len(items) == 200
    strict_validate(BatchItemList, {"items": items})
    failed = [i for i in items if i["status"] == "failed"]
    assert sorted(i["item_name"] for i in failed) == [f"broken-{i:04d}.pdf" for i in range(5)]
    assert all(i["error_message"] for i in failed)
    completed = [i for i in items if i["status"] == "completed"]
    assert len(completed) == 195
    assert len({i["job_id"] for i in items}) == 200  # one parse job per item

    # Each item's job is a normal parse job whose results the parse API serves.
    sample = completed[0]
    parsed = client.get(f"/api/v2/parse/{sample['job_id']}", params={"expand": "markdown"})
    assert parsed.status_code == 200 and parsed.json()["job"]["status"] == "COMPLETED"
    number = int(sample["item_name"].split("-")[1].split(".")[0])
    assert str(number) in parsed.json()["markdown"]["pages"][0]["markdown"]

    results = client.get(
        f"/api/v1/beta/batch-processing/items/{sample['item_id']}/processing-results"
    ).json()
    strict_validate(ItemProcessingResults, results)
    (result,) = results["processing_results"]
    assert result["job_type"] == "parse" and len(result["parameters_hash"]) == 64
    assert result["output_s3_path"].startswith("file://")
    assert result["output_s3_path"].endswith(sample["job_id"])

    failed_only = client.get(
        f"/api/v1/beta/batch-processing/{created['id']}/items", params={"status": "failed"}
    ).json()
    assert failed_only["total_size"] == 5

    listed = client.get(
        "/api/v1/beta/batch-processing",
        params={"directory_id": directory_id, "job_type": "parse", "status": "completed"},
    ).json()
    strict_validate(BatchJobList, listed)
    assert [j["id"] for j in listed["items"]] == [created["id"]] and listed["total_size"] == 1


def test_rerun_skips_everything_already_processed(client: Any) -> None:
    directory_id = make_directory(client, corpus(30, pdfs=3, tag="rerun"))
    first = create_batch(client, directory_id)
    assert wait_batch(client, first["id"])["job"]["status"] == "completed"
    second = create_batch(client, directory_id)
    job = wait_batch(client, second["id"])["job"]
    assert job["status"] == "completed"
    assert (job["skipped_items"], job["processed_items"], job["failed_items"]) == (30, 30, 0)
    items = all_items(client, second["id"])
    assert {(i["status"], i["skip_reason"]) for i in items} == {("skipped", "already_processed")}
    first_jobs = {i["item_id"]: i["job_id"] for i in all_items(client, first["id"])}
    assert all(i["job_id"] == first_jobs[i["item_id"]] for i in items)  # results reachable

    # Other parameters are other work: nothing skipped.
    third = create_batch(
        client,
        directory_id,
        job_config={"parameters": {"tier": "fast", "max_pages": 1, "some_unused_flag": True}},
    )
    assert wait_batch(client, third["id"])["job"]["skipped_items"] == 0


def test_cancel_midway_leaves_nothing_running(client: Any) -> None:
    directory_id = make_directory(client, corpus(80, pdfs=40, tag="cancel"))
    created = create_batch(client, directory_id, max_concurrency=2)
    deadline = time.monotonic() + 30
    while batch_status(client, created["id"])["job"]["processed_items"] < 3:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    response = client.post(
        f"/api/v1/beta/batch-processing/{created['id']}/cancel", json={"reason": "enough"}
    )
    assert response.status_code == 200
    body = strict_validate(BatchCancelResponse, response.json())
    assert body.status == "cancelled" and body.job_id == created["id"]
    assert "enough" in body.message

    def settled() -> bool:
        return not all_items(client, created["id"], status="processing")

    deadline = time.monotonic() + 30
    while not settled():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)  # nothing is dispatched after a cancel
    final = batch_status(client, created["id"])
    job = final["job"]
    assert job["status"] == "cancelled" and job["error_message"] == "enough"
    items = all_items(client, created["id"])
    statuses = [i["status"] for i in items]
    assert "processing" not in statuses and "pending" not in statuses
    cancelled = statuses.count("cancelled")
    assert cancelled > 0
    assert job["processed_items"] + cancelled == job["total_items"] == 80
    assert final["progress_percentage"] == 100.0
    again = client.post(f"/api/v1/beta/batch-processing/{created['id']}/cancel")
    assert again.status_code == 200 and again.json()["status"] == "cancelled"


def test_size_limit_and_item_ids(tmp_path: Path) -> None:
    with running_app(tmp_path / "data", batch_max_file_bytes=100) as http:
        files = [("small.txt", b"tiny note"), ("big.txt", b"x " * 200)]
        directory_id = make_directory(http, files)
        listed = http.get(f"/api/v1/beta/directories/{directory_id}/files").json()["items"]
        ids = {f["display_name"]: f["id"] for f in listed}
        created = create_batch(http, None, item_ids=[ids["big.txt"], ids["small.txt"]])
        assert created["directory_id"] is None and created["total_items"] == 2
        wait_batch(http, created["id"])
        items = {i["item_name"]: i for i in all_items(http, created["id"])}
        assert items["big.txt"]["status"] == "skipped"
        assert items["big.txt"]["skip_reason"] == "size_limit_exceeded"
        assert items["small.txt"]["status"] == "completed"


def test_validation_errors(client: Any) -> None:
    def post(body: dict[str, Any]) -> Any:
        return client.post("/api/v1/beta/batch-processing", json=body)

    directory_id = make_directory(client, corpus(1))
    parse = {"parameters": {"tier": "fast"}}
    assert post({"job_config": parse}).status_code == 422  # no input
    both = post({"job_config": parse, "directory_id": directory_id, "item_ids": ["x"]})
    assert both.status_code == 422
    bad_tier = post({"job_config": {"parameters": {"tier": "nope"}}, "directory_id": directory_id})
    assert bad_tier.status_code == 422
    assert bad_tier.json()["detail"][0]["loc"] == ["body", "job_config", "parameters", "tier"]
    agentic = post(
        {"job_config": {"parameters": {"premium_mode": True}}, "directory_id": directory_id}
    )
    assert agentic.status_code == 422 and "LAMINA_MODEL_URL" in agentic.json()["detail"][0]["msg"]
    assert post({"job_config": parse, "directory_id": "dir-missing"}).status_code == 404
    assert post({"job_config": parse, "item_ids": ["dfl-missing"]}).status_code == 404
    assert client.get("/api/v1/beta/batch-processing/bjb-missing").status_code == 404
    assert client.get("/api/v1/beta/batch-processing/items/x/processing-results").status_code == 404
    done = create_batch(client, directory_id)
    wait_batch(client, done["id"])
    assert client.post(f"/api/v1/beta/batch-processing/{done['id']}/cancel").status_code == 400


def test_v2_batches_as_the_sdk_sees_them(client: Any) -> None:
    directory_id = make_directory(client, corpus(4, tag="v2"))
    body = {
        "source_directory_id": directory_id,
        "config": {"job": {"type": "parse_v2", "configuration_id": "cfg-PARSE_FAST"}},
    }
    created = client.post("/api/v2/batches", json=body)
    assert created.status_code == 200, created.text
    batch = BatchGetResponse.model_validate(created.json())
    assert batch.status == "PENDING" and batch.config.job.configuration_id == "cfg-PARSE_FAST"
    deadline = time.monotonic() + 30
    while True:
        got = client.get(f"/api/v2/batches/{batch.id}", params={"expand": "results"}).json()
        if got["status"] == "COMPLETED":
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    done = BatchGetResponse.model_validate(got)
    assert done.results is not None and len(done.results) == 4
    for result in done.results:
        assert result.job_reference is not None and result.job_reference.type == "parse_v2"
        job = client.get(f"/api/v2/parse/{result.job_reference.id}").json()["job"]
        assert job["status"] == "COMPLETED"
    listed = client.get("/api/v2/batches", params={"source_directory_id": directory_id}).json()
    assert [b["id"] for b in listed["items"]] == [batch.id]
    assert client.post(f"/api/v2/batches/{batch.id}/cancel").status_code == 400
    unknown = client.post(
        "/api/v2/batches",
        json={**body, "config": {"job": {"type": "parse_v2", "configuration_id": "cfg-x"}}},
    )
    assert unknown.status_code == 404  # neither a preset nor a saved configuration here
    assert "cfg-x" in unknown.json()["detail"]
    bad = client.post(
        "/api/v2/batches",
        json={**body, "config": {"job": {"type": "split_v1", "configuration_id": "cfg-x"}}},
    )
    assert bad.status_code == 422
