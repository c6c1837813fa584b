"""Extract v2 over HTTP (in-process app, inline worker): create, get with expand, list, cancel,
delete, schema validation, 422 bodies, targets, and reuse of a finished parse job."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lamina.types import ExtractV2Job, strict_validate
from tests.fixtures.business import (
    INVOICE,
    make_invoice_pdf,
    make_two_invoices_pdf,
)
from tests.server.conftest import create_job, running_app, upload, wait_for_job

SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string"},
        "total": {"type": "number"},
        "invoice_date": {"type": "string", "format": "date"},
    },
}


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("extract-docs")
    return {
        "invoice": make_invoice_pdf(folder).read_bytes(),
        "two": make_two_invoices_pdf(folder).read_bytes(),
    }


def extract(client: Any, file_input: str, **config: Any) -> dict[str, Any]:
    body = {"file_input": file_input, "configuration": {"data_schema": SCHEMA, **config}}
    response = client.post("/api/v2/extract", json=body)
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def wait_extract(client: Any, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(f"/api/v2/extract/{job_id}").json()
        if job["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def test_create_get_expand_list_delete(client: TestClient, pdfs: dict[str, bytes]) -> None:
    file_id = upload(client, pdfs["invoice"], "invoice.pdf", purpose="extract")["id"]
    created = extract(client, file_id)
    assert created["id"].startswith("exj-") and created["status"] == "PENDING"
    assert created["file_input"] == file_id
    assert created["configuration"]["data_schema"] == SCHEMA
    strict_validate(ExtractV2Job, created)

    done = wait_extract(client, created["id"])
    assert done["status"] == "COMPLETED", done
    assert done["extract_result"] == {
        "invoice_number": INVOICE["invoice_number"],
        "total": INVOICE["total"],
        "invoice_date": INVOICE["invoice_date"],
    }
    assert "extract_metadata" not in done and "configuration" not in done

    expand = ["extract_metadata", "configuration", "usage", "metadata"]
    full = client.get(f"/api/v2/extract/{created['id']}", params={"expand": expand}).json()
    strict_validate(ExtractV2Job, full)
    entry = full["extract_metadata"]["field_metadata"]["document_metadata"]["invoice_number"]
    assert set(entry) == {
        "confidence",
        "extraction_confidence",
        "parsing_confidence",
        "reasoning",
        "citation",
    }
    assert entry["citation"][0]["page"] == 1 and entry["citation"][0]["bounding_boxes"]
    # A dfl- file is parsed with cell boxes: the total (a table cell) cites its cell, not the
    # row band across the table.
    total = full["extract_metadata"]["field_metadata"]["document_metadata"]["total"]
    assert total["citation"][0]["bounding_boxes"][0]["w"] < 150
    assert full["extract_metadata"]["parse_tier"] == "cost_effective"
    assert full["metadata"]["usage"]["num_pages_extracted"] == 1
    assert full["usage"]["credits"] == 0.0

    listed = client.get("/api/v2/extract", params={"page_size": 1}).json()
    assert [j["id"] for j in listed["items"]] == [created["id"]] and listed["total_size"] == 1
    assert client.get("/api/v2/parse").json()["total_size"] == 0  # kinds do not mix
    assert client.get(f"/api/v2/parse/{created['id']}").status_code == 404
    filtered = client.get("/api/v2/extract", params={"file_input": "dfl-other"}).json()
    assert filtered["items"] == []

    assert client.delete(f"/api/v2/extract/{created['id']}").json()["id"] == created["id"]
    assert client.get(f"/api/v2/extract/{created['id']}").status_code == 404


def test_cite_sources_auto_includes_metadata_and_false_drops_citations(
    client: TestClient, pdfs: dict[str, bytes]
) -> None:
    file_id = upload(client, pdfs["invoice"])["id"]
    with_cites = wait_extract(client, extract(client, file_id, cite_sources=True)["id"])
    assert with_cites["extract_metadata"]["field_metadata"]["document_metadata"]["total"][
        "citation"
    ]
    job = extract(client, file_id, cite_sources=False, confidence_scores=False)
    wait_extract(client, job["id"])
    meta = client.get(f"/api/v2/extract/{job['id']}", params={"expand": "extract_metadata"}).json()
    entry = meta["extract_metadata"]["field_metadata"]["document_metadata"]["total"]
    assert "citation" not in entry and "confidence" not in entry and entry["reasoning"]


def test_extract_on_a_parse_job_reuses_its_items(
    client: TestClient, pdfs: dict[str, bytes]
) -> None:
    file_id = upload(client, pdfs["invoice"])["id"]
    parse_job = create_job(client, file_id, tier="cost_effective")
    assert wait_for_job(client, parse_job["id"])["status"] == "COMPLETED"

    job = extract(client, parse_job["id"])
    done = wait_extract(client, job["id"])
    assert done["status"] == "COMPLETED", done
    assert done["extract_result"]["invoice_number"] == INVOICE["invoice_number"]
    meta = client.get(f"/api/v2/extract/{job['id']}", params={"expand": "extract_metadata"})
    assert meta.json()["extract_metadata"]["parse_job_id"] == parse_job["id"]
    parse_jobs = client.get("/api/v2/parse").json()
    assert [j["id"] for j in parse_jobs["items"]] == [parse_job["id"]]  # no new parse job
    assert (Path(client.app.state.settings.data_dir) / "results" / job["id"]).is_dir()  # type: ignore[attr-defined]


def test_extract_on_an_unfinished_parse_job_is_refused(tmp_path: Path, docs: Any) -> None:
    with running_app(tmp_path / "data") as app:
        file_id = upload(app, docs["simple"])["id"]
        app.app.state.services.runner.stop()  # type: ignore[attr-defined]
        parse_job = create_job(app, file_id)
        response = app.post(
            "/api/v2/extract",
            json={"file_input": parse_job["id"], "configuration": {"data_schema": SCHEMA}},
        )
        assert response.status_code == 400
        assert "PENDING" in response.json()["detail"]


def test_per_page_and_per_table_row(client: TestClient, pdfs: dict[str, bytes]) -> None:
    file_id = upload(client, pdfs["two"])["id"]
    pages = wait_extract(client, extract(client, file_id, extraction_target="per_page")["id"])
    assert [p["invoice_number"] for p in pages["extract_result"]] == [
        "INV-2024-0042",
        "INV-2024-0043",
    ]
    row_schema = {
        "type": "object",
        "properties": {"description": {"type": "string"}, "amount": {"type": "number"}},
    }
    body = {
        "file_input": file_id,
        "configuration": {
            "data_schema": row_schema,
            "extraction_target": "per_table_row",
            "confidence_scores": True,
        },
    }
    job = client.post("/api/v2/extract", json=body).json()
    rows = wait_extract(client, job["id"])
    assert rows["extract_result"] == [
        {"description": "Consulting hours", "amount": 800.0},
        {"description": "Software licence", "amount": 300.0},
    ]
    row_meta = rows["extract_metadata"]["field_metadata"]["row_metadata"]
    assert len(row_meta) == 2 and row_meta[0]["amount"]["confidence"] > 0.5


def test_target_pages_limits_the_pages(client: TestClient, pdfs: dict[str, bytes]) -> None:
    file_id = upload(client, pdfs["two"])["id"]
    job = extract(client, file_id, extraction_target="per_page", target_pages="2")
    done = wait_extract(client, job["id"])
    assert [p["invoice_number"] for p in done["extract_result"]] == ["INV-2024-0043"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"configuration": {"data_schema": SCHEMA}}, ["body", "file_input"]),
        ({"file_input": "dfl-x"}, ["body", "configuration"]),
        (
            {"file_input": "dfl-x", "configuration": {"data_schema": SCHEMA, "tier": "gold"}},
            ["body", "configuration", "tier"],
        ),
        (
            {
                "file_input": "dfl-x",
                "configuration": {"data_schema": SCHEMA, "extraction_target": "per_word"},
            },
            ["body", "configuration", "extraction_target"],
        ),
        (
            {"file_input": "dfl-x", "configuration": {"data_schema": {"type": "array"}}},
            ["body", "configuration", "data_schema", "type"],
        ),
        (
            {
                "file_input": "dfl-x",
                "configuration": {"data_schema": SCHEMA, "target_pages": "one"},
            },
            ["body", "configuration", "target_pages"],
        ),
        (
            {"file_input": "abc", "configuration": {"data_schema": SCHEMA}},
            ["body", "file_input"],
        ),
    ],
)
def test_invalid_requests_are_422_with_detail(
    client: TestClient, body: dict[str, Any], loc: list[str]
) -> None:
    response = client.post("/api/v2/extract", json=body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail[0]["loc"] == loc
    assert set(detail[0]) == {"type", "loc", "msg", "input"}


def test_unknown_ids_are_404(client: TestClient) -> None:
    saved = client.post(
        "/api/v2/extract", json={"file_input": "dfl-x", "configuration_id": "cfg-1"}
    )
    assert saved.status_code == 404 and "cfg-1" in saved.json()["detail"]
    body = {"file_input": "dfl-missing", "configuration": {"data_schema": SCHEMA}}
    assert client.post("/api/v2/extract", json=body).status_code == 404
    body["file_input"] = "pjb-missing"
    assert client.post("/api/v2/extract", json=body).status_code == 404
    assert client.get("/api/v2/extract/exj-missing").status_code == 404
    bad_expand = client.get("/api/v2/extract/exj-missing", params={"expand": "everything"})
    assert bad_expand.status_code == 422


def test_schema_validation_and_generation(client: TestClient) -> None:
    ok = client.post("/api/v2/extract/schema/validation", json={"data_schema": SCHEMA})
    assert ok.status_code == 200 and ok.json() == {"data_schema": SCHEMA}
    bad = client.post(
        "/api/v2/extract/schema/validation",
        json={"data_schema": {"properties": {"a": {"type": "text"}}}},
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "data_schema", "properties", "a", "type"]
    needs_model = client.post("/api/v2/extract/schema/generate", json={"prompt": "invoices"})
    assert needs_model.status_code == 400 and "LAMINA_MODEL_URL" in needs_model.json()["detail"]
    given = client.post("/api/v2/extract/schema/generate", json={"data_schema": SCHEMA})
    assert given.json()["parameters"]["data_schema"] == SCHEMA


def test_cancel_and_delete_rules(tmp_path: Path, pdfs: dict[str, bytes]) -> None:
    with running_app(tmp_path / "data") as app:
        file_id = upload(app, pdfs["invoice"])["id"]
        app.app.state.services.runner.stop()  # type: ignore[attr-defined]  # nothing runs
        job = extract(app, file_id)
        refused = app.delete(f"/api/v2/extract/{job['id']}")
        assert refused.status_code == 400 and "cancel it first" in refused.json()["detail"]
        cancelled = app.post(f"/api/v2/extract/{job['id']}/cancel").json()
        assert cancelled["status"] == "CANCELLED"
        assert app.post(f"/api/v2/extract/{job['id']}/cancel").json()["status"] == "CANCELLED"
        assert app.delete(f"/api/v2/extract/{job['id']}").status_code == 200


def test_failed_parse_fails_the_extract_job(client: TestClient, docs: Any) -> None:
    file_id = upload(client, docs["corrupt"], "broken.pdf")["id"]
    done = wait_extract(client, extract(client, file_id)["id"])
    assert done["status"] == "FAILED" and done["error_message"]


def test_extract_jobs_run_in_worker_processes(tmp_path: Path, pdfs: dict[str, bytes]) -> None:
    with running_app(tmp_path / "data", workers=1) as app:
        file_id = upload(app, pdfs["invoice"])["id"]
        done = wait_extract(app, extract(app, file_id)["id"])
        assert done["status"] == "COMPLETED", done
        assert done["extract_result"]["total"] == INVOICE["total"]
