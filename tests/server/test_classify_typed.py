"""The classify routes answer with their declared models (issue #14) and write the same JSON as
when they returned hand-built dicts: every key, in the same order, timestamps as
``isoformat()`` (``+00:00``), the configuration exactly as it was sent, ``usage`` only when
expanded."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi.testclient import TestClient

from lamina.types import ClassifyJob, JobDeleted, PaginatedList, strict_validate
from tests.server.conftest import assert_utc_iso, ok, upload

INVOICE = b"Invoice number: INV-7\nLine items: 3 widgets\nTotal amount due: 12.50 USD\n"
JOB_KEYS = [
    "id",
    "project_id",
    "user_id",
    "status",
    "configuration",
    "configuration_id",
    "document_input_type",
    "file_input",
    "parse_job_id",
    "transaction_id",
    "error_message",
    "result",
    "created_at",
    "updated_at",
]
# Not the model's field order, with a key the model does not declare: echoed as sent.
CONFIGURATION = {
    "mode": "FAST",
    "note": {"z": 1, "a": [2, 3]},
    "rules": [
        {"type": "invoice", "description": "invoice number, line items and total amount due"},
        {"type": "resume", "description": "work experience, education and skills"},
    ],
    "parsing_configuration": {"target_pages": "1", "lang": "en"},
}


def _configuration_text(response: Any) -> str:
    """The ``configuration`` object as it appears in the response body's bytes."""
    text = response.text
    start = text.index('"configuration":') + len('"configuration":')
    decoded, end = json.JSONDecoder().raw_decode(text[start:])
    assert decoded == CONFIGURATION
    return text[start : start + end]


def test_classify_json_is_unchanged(client: TestClient) -> None:
    file_id = upload(client, INVOICE, "invoice.txt", purpose="classify")["id"]
    body = {"file_input": file_id, "configuration": CONFIGURATION, "transaction_id": "t-1"}
    response = client.post("/api/v2/classify", json=body)
    created = ok(response)
    assert list(created) == JOB_KEYS
    assert _configuration_text(response) == json.dumps(CONFIGURATION, separators=(",", ":"))
    assert_utc_iso(created["created_at"])
    strict_validate(ClassifyJob, {**created, "configuration": {"rules": CONFIGURATION["rules"]}})

    deadline = time.monotonic() + 60
    while (got := ok(client.get(f"/api/v2/classify/{created['id']}")))["status"] != "COMPLETED":
        assert time.monotonic() < deadline, got
        time.sleep(0.1)
    assert list(got) == JOB_KEYS and got["transaction_id"] == "t-1"
    assert list(got["result"]) == ["type", "confidence", "reasoning"]
    assert got["result"]["type"] == "invoice"
    assert_utc_iso(got["updated_at"])

    response = client.get(f"/api/v2/classify/{created['id']}", params={"expand": "usage"})
    expanded = ok(response)
    assert list(expanded) == [*JOB_KEYS, "usage"]
    assert expanded["usage"] == {"credits": 0.0, "parse_credits": 0.0}
    assert '"usage":{"credits":0.0,"parse_credits":0.0}' in response.text
    assert _configuration_text(response) == json.dumps(CONFIGURATION, separators=(",", ":"))

    again = ok(client.post("/api/v2/classify", json=body))  # same transaction: the first job
    assert again == got

    listed = ok(client.get("/api/v2/classify"))
    assert list(listed) == ["items", "next_page_token", "total_size"]
    assert listed["items"] == [got] and listed["total_size"] == 1
    strict_validate(PaginatedList[ClassifyJob], {**listed, "items": []})

    deleted = ok(client.delete(f"/api/v2/classify/{created['id']}"))
    assert list(deleted) == ["id", "project_id"]
    strict_validate(JobDeleted, deleted)


def test_a_configuration_the_answers_cannot_declare_is_refused(client: TestClient) -> None:
    file_id = upload(client, INVOICE, "invoice.txt", purpose="classify")["id"]
    config = {**CONFIGURATION, "parsing_configuration": {"lang": 7}}
    response = client.post(
        "/api/v2/classify", json={"file_input": file_id, "configuration": config}
    )
    assert response.status_code == 422, response.text
    locs = [e["loc"] for e in response.json()["detail"]]
    assert locs == [["body", "configuration", "parsing_configuration", "lang"]]


def test_openapi_declares_the_classify_answers(client: TestClient) -> None:
    paths = ok(client.get("/openapi.json"))["paths"]
    for path, method in (
        ("/api/v2/classify", "post"),
        ("/api/v2/classify/{job_id}", "get"),
        ("/api/v2/classify/{job_id}/cancel", "post"),
    ):
        schema = paths[path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ClassifyJob"}, (path, schema)
