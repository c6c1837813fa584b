"""The classic LlamaParse routes on the real app: option translation, refusals in the classic
error shape, status codes, result shapes. The unmodified classic client itself is driven
against ``lamina serve`` in ``tests/compat_classic``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lamina.services.api.classic_options import (
    IGNORED_OPTIONS,
    REFUSED_OPTIONS,
    ClassicOptionError,
    translate_upload,
)
from tests.fixtures.documents import make_multipage_pdf
from tests.server.conftest import running_app


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with running_app(tmp_path / "data") as test_client:
        yield test_client


@pytest.fixture
def pdf(tmp_path: Path) -> bytes:
    return make_multipage_pdf(tmp_path, pages=3).read_bytes()


def test_defaults_of_the_classic_client() -> None:
    body = translate_upload(
        {"from_python_package": "true", "save_images": "true", "language": "en"}
    ).body
    assert body["tier"] == "cost_effective" and body["version"] == "latest"
    assert body["page_separator"] == "\n---\n"
    assert body["output_options"]["images_to_save"] == ["embedded"]
    assert body["processing_options"]["ocr_parameters"]["languages"] == ["en"]


@pytest.mark.parametrize(
    ("form", "tier"),
    [
        ({"fast_mode": "true"}, "fast"),
        ({"premium_mode": "true"}, "agentic"),
        ({"parse_mode": "parse_page_without_llm"}, "cost_effective"),
        ({"parse_mode": "parse_page_with_agent"}, "agentic"),
        ({"preset": "balanced"}, "cost_effective"),
        ({"tier": "fast", "premium_mode": "true"}, "fast"),  # an explicit tier wins
    ],
)
def test_tier_from_classic_modes(form: dict[str, str], tier: str) -> None:
    assert translate_upload(form).body["tier"] == tier


def test_options_translated() -> None:
    body = translate_upload(
        {
            "target_pages": "0,2-4",
            "max_pages": "3",
            "disable_image_extraction": "true",
            "take_screenshot": "true",
            "output_tables_as_HTML": "true",
            "merge_tables_across_pages_in_markdown": "true",
            "input_url": "https://example.com/a.pdf",
            "webhook_url": "https://example.com/hook",
            "page_prefix": "<{pageNumber}>",
            "do_not_cache": "true",
        }
    ).body
    assert body["page_ranges"] == {"target_pages": "1,3-5", "max_pages": 3}
    assert body["output_options"]["images_to_save"] == ["screenshot"]
    tables = body["output_options"]["markdown"]["tables"]
    assert tables == {"output_tables_as_markdown": False, "merge_continued_tables": True}
    assert body["source_url"] == "https://example.com/a.pdf"
    assert body["webhook_configurations"] == [{"webhook_url": "https://example.com/hook"}]
    assert (body["page_prefix"], body["do_not_cache"]) == ("<{pageNumber}>", True)


def test_every_option_is_in_exactly_one_table() -> None:
    from lamina.services.api.classic_options import HONOURED_OPTIONS

    assert not HONOURED_OPTIONS & IGNORED_OPTIONS
    assert not HONOURED_OPTIONS & set(REFUSED_OPTIONS)
    assert not IGNORED_OPTIONS & set(REFUSED_OPTIONS)


@pytest.mark.parametrize(
    ("form", "named"),
    [
        ({"parsing_instruction": "summarise"}, "parsing_instruction"),
        ({"structured_output": "true"}, "structured_output"),
        ({"bbox_top": "0.1"}, "bbox_top"),
        ({"input_s3_path": "s3://b/k.pdf"}, "input_s3_path"),
        ({"auto_mode": "true"}, "auto_mode"),
        ({"vendor_multimodal_api_key": "k"}, "vendor_multimodal_api_key"),
        ({"brand_new_option": "1"}, "brand_new_option"),
        ({"target_pages": "first"}, "target_pages"),
        ({"max_pages": "0"}, "max_pages"),
        ({"disable_ocr": "maybe"}, "disable_ocr"),
        ({"preset": "invoice"}, "preset"),
    ],
)
def test_refusals_name_the_option(form: dict[str, str], named: str) -> None:
    with pytest.raises(ClassicOptionError, match=named):
        translate_upload(form)


def test_false_values_of_refused_options_are_not_asks() -> None:
    upload = translate_upload(
        {"structured_output": "false", "auto_mode": "", "high_res_ocr": "true"}
    )
    assert upload.ignored == ["high_res_ocr"]


def _wait(client: TestClient, job_id: str) -> dict[str, Any]:
    for _ in range(600):
        status: dict[str, Any] = client.get(f"/api/parsing/job/{job_id}").json()
        if status["status"] != "PENDING":
            return status
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_upload_status_and_results(client: TestClient, pdf: bytes) -> None:
    response = client.post(
        "/api/parsing/upload",
        files={"file": ("report.pdf", pdf, "application/pdf")},
        data={"high_res_ocr": "true", "from_python_package": "true"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["X-Lamina-Ignored-Options"] == "high_res_ocr"
    job = response.json()
    assert set(job) == {"id", "status", "error_code", "error_message"}
    assert _wait(client, job["id"])["status"] == "SUCCESS"
    for prefix in ("/api/parsing", "/api/v1/parsing"):
        markdown = client.get(f"{prefix}/job/{job['id']}/result/markdown").json()
        assert markdown["markdown"].count("\n---\n") == 2
        assert markdown["job_metadata"]["job_pages"] == 3
    text = client.get(f"/api/v1/parsing/job/{job['id']}/result/raw/text").text
    assert "This is page 2." in text and text.count("\n---\n") == 2
    pages = client.get(f"/api/parsing/job/{job['id']}/result/json").json()["pages"]
    assert [p["page"] for p in pages] == [1, 2, 3]
    assert pages[0]["items"][0] == {**pages[0]["items"][0], "type": "heading", "lvl": 1}
    v2 = client.get(f"/api/v2/parse/{job['id']}", params={"expand": "raw_parameters"}).json()
    assert v2["raw_parameters"]["classic"] is True  # an ordinary Parse v2 job underneath
    refused = client.get(f"/api/parsing/job/{job['id']}/result/xlsx")
    assert refused.status_code == 400 and "not produce" in refused.json()["detail"]
    missing = client.get(f"/api/parsing/job/{job['id']}/result/image/nope.png")
    assert missing.status_code == 404


def test_failures_and_refusals_in_the_classic_shape(client: TestClient, pdf: bytes) -> None:
    refused = client.post(
        "/api/parsing/upload",
        files={"file": ("r.pdf", pdf, "application/pdf")},
        data={"user_prompt": "be brief"},
    )
    assert refused.status_code == 400 and "user_prompt" in refused.json()["detail"]
    assert client.get("/api/v1/beta/files").json()["total_size"] == 0  # nothing stored
    no_input = client.post("/api/parsing/upload", data={"language": "en"})
    assert no_input.status_code == 400
    model_tier = client.post(
        "/api/parsing/upload",
        files={"file": ("r.pdf", pdf, "application/pdf")},
        data={"premium_mode": "true"},
    )
    assert model_tier.status_code == 422 and "LAMINA_MODEL_URL" in model_tier.text
    assert client.get("/api/parsing/job/pjb-unknown").status_code == 404
    beyond = client.post(
        "/api/parsing/upload",
        files={"file": ("r.pdf", pdf, "application/pdf")},
        data={"target_pages": "5-7"},
    ).json()
    status = _wait(client, beyond["id"])
    assert (status["status"], status["error_code"]) == ("ERROR", "NO_DATA_FOUND_IN_FILE")
    assert "0-based" in status["error_message"]
    early = client.get(f"/api/parsing/job/{beyond['id']}/result/markdown")
    assert early.status_code == 404 and "ERROR" in early.json()["detail"]
    broken = client.post(
        "/api/parsing/upload",
        files={"file": ("bad.pdf", b"%PDF-1.7 broken", "application/pdf")},
    ).json()
    status = _wait(client, broken["id"])
    assert (status["status"], status["error_code"]) == ("ERROR", "PARSE_FAILED")
    assert status["error_message"]


# --- the classic extraction API ------------------------------------------------------------------

SCHEMA = {"type": "object", "properties": {"invoice_number": {"type": "string"}}}
AGENTS = "/api/v1/extraction/extraction-agents"


def test_classic_extraction_refusals(client: TestClient) -> None:
    config = {"extraction_mode": "BALANCED", "chunk_mode": "PAGE", "use_reasoning": True}
    created = client.post(AGENTS, json={"name": "a", "data_schema": SCHEMA, "config": config})
    assert created.status_code == 200, created.text
    assert created.headers["X-Lamina-Ignored-Options"] == "chunk_mode,use_reasoning"
    duplicate = client.post(AGENTS, json={"name": "a", "data_schema": SCHEMA, "config": config})
    assert duplicate.status_code == 422 and "already exists" in duplicate.text
    bad_mode = client.post(
        AGENTS, json={"name": "b", "data_schema": SCHEMA, "config": {"extraction_mode": "TURBO"}}
    )
    assert bad_mode.status_code == 422
    bad_schema = client.post(AGENTS, json={"name": "c", "data_schema": {"type": "nope"}})
    assert bad_schema.status_code == 422
    assert client.get(f"{AGENTS}/eag-missing").status_code == 404
    assert client.get(f"{AGENTS}/by-name/missing").status_code == 404
    two_sources = client.post(
        "/api/v1/extraction/run",
        json={"data_schema": SCHEMA, "config": {}, "text": "x", "file_id": "dfl-x"},
    )
    assert two_sources.status_code == 422
    bad_base64 = client.post(
        "/api/v1/extraction/run",
        json={
            "data_schema": SCHEMA,
            "config": {},
            "file": {"data": "@@@", "mime_type": "text/plain"},
        },
    )
    assert bad_base64.status_code == 422 and "base64" in bad_base64.text
    assert client.get("/api/v1/extraction/jobs/exj-missing").status_code == 404
    parse_job = client.post(
        "/api/v2/parse", json={"source_url": "https://x.test/a.pdf", "tier": "fast"}
    )
    assert client.get(f"/api/v1/extraction/jobs/{parse_job.json()['id']}").status_code == 404


def test_classic_stateless_text_run(client: TestClient) -> None:
    job = client.post(
        "/api/v1/extraction/run",
        json={
            "data_schema": SCHEMA,
            "config": {"extraction_mode": "FAST"},
            "text": "Invoice number: INV-9",
        },
    ).json()
    assert job["status"] == "PENDING" and job["extraction_agent"]["name"] == "stateless"
    for _ in range(600):
        status = client.get(f"/api/v1/extraction/jobs/{job['id']}").json()["status"]
        if status != "PENDING":
            break
        time.sleep(0.05)
    run = client.get(f"/api/v1/extraction/runs/by-job/{job['id']}").json()
    assert (run["status"], run["data"]) == ("SUCCESS", {"invoice_number": "INV-9"})
    assert client.get(f"/api/v1/extraction/runs/{run['id']}").json()["job_id"] == job["id"]
    v2 = client.get(f"/api/v2/extract/{job['id']}").json()  # an Extract v2 job underneath
    assert v2["extract_result"] == {"invoice_number": "INV-9"}
