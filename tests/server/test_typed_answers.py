"""The files, parse and extract routes answer with their declared models (issue #14) and write
the same JSON as when they returned hand-built dicts: every key in the same order, optional
keys only when set or asked for, timestamps as ``isoformat()`` (``+00:00``)."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from lamina.types import ExtractV2Job, File, ParseResponse, strict_validate
from tests.server.conftest import assert_utc_iso, ok, upload

INVOICE = b"Invoice number: INV-7\nLine items: 3 widgets\nTotal amount due: 12.50 USD\n"
FILE_KEYS = [
    "id",
    "name",
    "project_id",
    "file_type",
    "purpose",
    "external_file_id",
    "expires_at",
    "last_modified_at",
    "size_bytes",
    "sha256",
]
PAGE_KEYS = ["items", "next_page_token", "total_size"]
PARSE_JOB_KEYS = ["id", "project_id", "status", "created_at", "updated_at", "error_message"]
EXTRACT_JOB_KEYS = [
    "id",
    "project_id",
    "file_input",
    "status",
    "created_at",
    "updated_at",
    "configuration_id",
    "error_message",
]
SCHEMA = {"type": "object", "properties": {"invoice_number": {"type": "string"}}}


def _finished(client: TestClient, path: str) -> Any:
    deadline = time.monotonic() + 60
    while True:
        got = ok(client.get(path))
        if (got.get("job") or got)["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
            return got
        assert time.monotonic() < deadline, got
        time.sleep(0.1)


def test_file_json_is_unchanged(client: TestClient) -> None:
    created = upload(client, INVOICE, "invoice.txt", purpose="extract", external_file_id="e-1")
    assert list(created) == [*FILE_KEYS, "download_url"]  # the link is written last
    assert list(created["download_url"]) == ["url", "expires_at"]
    assert_utc_iso(created["last_modified_at"])
    assert_utc_iso(created["download_url"]["expires_at"])
    assert created["expires_at"] is None
    got = ok(client.get(f"/api/v1/beta/files/{created['id']}"))
    assert list(got) == FILE_KEYS and got == {k: created[k] for k in FILE_KEYS}
    strict_validate(File, got)
    listed = ok(client.get("/api/v1/beta/files"))
    assert list(listed) == PAGE_KEYS and listed["items"] == [got]
    linked = ok(client.get("/api/v1/beta/files", params={"expand": "download_url"}))
    assert list(linked["items"][0]) == [*FILE_KEYS, "download_url"]
    none = ok(client.post("/api/v1/beta/files/query", json={"filter": {"data_source_id": "d"}}))
    assert none == {"items": [], "next_page_token": None, "total_size": 0}
    content = ok(client.get(f"/api/v1/beta/files/{created['id']}/content"))
    assert list(content) == ["url", "expires_at"]
    assert_utc_iso(content["expires_at"])


def test_parse_json_is_unchanged(client: TestClient) -> None:
    file_id = upload(client, INVOICE, "invoice.txt")["id"]
    body = {"file_id": file_id, "tier": "fast", "version": "latest"}
    created = ok(client.post("/api/v2/parse", json=body))
    # Unset fields are left out (no user_metadata given), error_message is always there.
    assert list(created) == [*PARSE_JOB_KEYS, "name", "tier"]
    assert_utc_iso(created["created_at"])
    done = _finished(client, f"/api/v2/parse/{created['id']}")
    assert list(done) == ["job"]
    expand = "text_full,items,text,usage,raw_parameters,job_metadata,markdown_content_metadata"
    response = client.get(f"/api/v2/parse/{created['id']}", params={"expand": expand})
    full = ok(response)
    assert list(full) == [
        "job",
        "raw_parameters",
        "job_metadata",
        "text",
        "items",
        "text_full",
        "result_content_metadata",
    ]
    assert list(full["job"]) == [*PARSE_JOB_KEYS, "name", "tier", "usage"]
    assert full["raw_parameters"] == body
    assert list(full["result_content_metadata"]["markdown"]) == [
        "size_bytes",
        "exists",
        "presigned_url",
    ]
    strict_validate(ParseResponse, {**full, "job_metadata": None})
    listed = ok(client.get("/api/v2/parse"))
    assert list(listed) == PAGE_KEYS and list(listed["items"][0]) == list(created)
    deleted = ok(client.delete(f"/api/v2/parse/{created['id']}"))
    assert deleted == {"id": created["id"], "project_id": created["project_id"]}


def test_extract_json_is_unchanged(client: TestClient) -> None:
    file_id = upload(client, INVOICE, "invoice.txt", purpose="extract")["id"]
    configuration = {"data_schema": SCHEMA, "cite_sources": False, "custom": 1}
    body = {"file_input": file_id, "configuration": configuration}
    created = ok(client.post("/api/v2/extract", json=body))
    assert list(created) == [*EXTRACT_JOB_KEYS, "configuration"]
    assert created["configuration"] == configuration
    assert_utc_iso(created["updated_at"])
    done = _finished(client, f"/api/v2/extract/{created['id']}")
    assert list(done) == [*EXTRACT_JOB_KEYS, "extract_result"]
    assert done["extract_result"] == {"invoice_number": "INV-7"}
    expand = "usage,metadata,extract_metadata,configuration"
    full = ok(client.get(f"/api/v2/extract/{created['id']}", params={"expand": expand}))
    assert list(full) == [
        *EXTRACT_JOB_KEYS,
        "configuration",
        "extract_result",
        "extract_metadata",
        "metadata",
        "usage",
    ]
    assert list(full["extract_metadata"]) == ["field_metadata", "parse_job_id", "parse_tier"]
    assert full["metadata"] == {"usage": {"num_pages_extracted": 1, "num_pages_billed": 1}}
    assert list(full["metadata"]["usage"]) == ["num_pages_extracted", "num_pages_billed"]
    strict_validate(ExtractV2Job, {**full, "configuration": None})
    generated = ok(client.post("/api/v2/extract/schema/generate", json={"data_schema": SCHEMA}))
    assert list(generated) == ["name", "parameters"]
    assert generated["parameters"]["product_type"] == "extract_v2"


def test_openapi_declares_every_answer(client: TestClient) -> None:
    paths = ok(client.get("/openapi.json"))["paths"]
    expected = {
        ("/api/v1/beta/files", "post"): "File",
        ("/api/v1/beta/files/{file_id}", "get"): "File",
        ("/api/v1/beta/files/{file_id}/content", "get"): "PresignedURL",
        ("/api/v2/parse", "post"): "ParseJob",
        ("/api/v2/parse/upload", "post"): "ParseJob",
        ("/api/v2/parse/{job_id}", "get"): "ParseResponse",
        ("/api/v2/parse/{job_id}", "delete"): "JobDeleted",
        ("/api/v2/extract", "post"): "ExtractV2Job",
        ("/api/v2/extract/{job_id}", "get"): "ExtractV2Job",
        ("/api/v2/extract/schema/generate", "post"): "GeneratedConfiguration",
    }
    for (path, method), model in expected.items():
        schema = paths[path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{model}"}, (path, method, schema)


def test_classic_schema_validation_answers_the_typed_result(client: TestClient) -> None:
    """The classic extraction route shares the service's typed answer (it once declared a dict,
    which the typed result does not validate as)."""
    path = "/api/v1/extraction/extraction-agents/schema/validation"
    assert ok(client.post(path, json={"data_schema": SCHEMA})) == {"data_schema": SCHEMA}
    refused = client.post(path, json={"data_schema": {"type": "array"}})
    assert refused.status_code == 422, refused.text
