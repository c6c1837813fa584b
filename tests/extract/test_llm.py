"""The model extractor against a scripted stand-in for an OpenAI-compatible endpoint.

No language model can run in this environment, so a tiny HTTP server on loopback plays the
endpoint: it records each chat-completions request and answers with canned JSON (optionally
failing first, to exercise the retries). What is tested is our side: the request (model,
``response_format`` json_schema, system prompt, page-tagged markdown, layout rows and the rules'
candidate values), retries, coercion of the answer to the schema, and the citations and
confidence each answer gets by agreeing (or not) with the rules' candidates.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lamina.engine import parse_document
from lamina.extract import Document
from lamina.extract.llm import ModelEndpoint, ModelError, extract_llm
from lamina.server import ServerSettings, create_app
from lamina.services.runtime.execution import items_pages
from lamina.types import ParseConfiguration
from tests.extract.conftest import Pages
from tests.fixtures.business import invoice_schema


class FakeModel:
    """State of the fake endpoint: canned answers, failures to serve first, requests seen."""

    def __init__(self) -> None:
        self.answers: list[Any] = []
        self.fail_first = 0
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []


@pytest.fixture
def fake_model() -> Iterator[tuple[str, FakeModel]]:
    state = FakeModel()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            state.requests.append(json.loads(self.rfile.read(length)))
            state.headers.append(dict(self.headers))
            if self.path != "/v1/chat/completions":
                self.send_error(404)
                return
            if state.fail_first > 0:
                state.fail_first -= 1
                self.send_error(503)
                return
            answer = state.answers.pop(0) if len(state.answers) > 1 else state.answers[0]
            content = answer if isinstance(answer, str) else json.dumps(answer)
            body = json.dumps(
                {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    server.shutdown()


ANSWER = {
    "invoice_number": "INV-2024-0042",
    "invoice_date": "2024-03-05",
    "total": "1,234.50",
    "customer": "Globex Corporation",
    "po_number": None,
    "vendor": "Invented Vendor Inc",
}


def test_llm_extraction_request_answer_and_citations(
    parsed: dict[str, Pages], fake_model: tuple[str, FakeModel]
) -> None:
    url, state = fake_model
    state.answers = [ANSWER]
    state.fail_first = 2  # two 503s, then the answer: retried with backoff
    sleeps: list[float] = []
    endpoint = ModelEndpoint(url, model="tiny-model", api_key="sk-test", timeout=5)
    out = extract_llm(
        Document.from_pages(parsed["invoice"]),
        invoice_schema(),
        endpoint,
        system_prompt="Prefer the latest figures.",
        sleep=sleeps.append,
    )
    assert sleeps == [1.0, 2.0]
    request = state.requests[-1]
    assert request["model"] == "tiny-model"
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["schema"] == invoice_schema()
    system, user = request["messages"]
    assert "Prefer the latest figures." in system["content"]
    assert '<page number="1">' in user["content"] and "INV-2024-0042" in user["content"]
    assert state.headers[-1]["Authorization"] == "Bearer sk-test"

    assert isinstance(out.data, dict)
    assert out.data["total"] == 1234.5  # coerced to the schema's number
    assert out.data["invoice_date"] == "2024-03-05"
    meta = out.field_metadata["document_metadata"]
    total_cite = meta["total"]["citation"][0]
    assert total_cite["page"] == 1 and "1,234.50" in total_cite["matching_text"]
    date_cite = meta["invoice_date"]["citation"][0]
    assert date_cite["matching_text"] == "March 5, 2024"  # ISO value located as written
    assert meta["vendor"]["citation"] == [] and meta["vendor"]["confidence"] < 0.9
    assert meta["po_number"]["confidence"] == 0.0


def test_llm_gives_up_after_retries_with_a_clear_error(
    parsed: dict[str, Pages], fake_model: tuple[str, FakeModel]
) -> None:
    url, state = fake_model
    state.answers = [ANSWER]
    state.fail_first = 10
    endpoint = ModelEndpoint(url, max_retries=2, timeout=5)
    with pytest.raises(ModelError, match="HTTP 503"):
        extract_llm(
            Document.from_pages(parsed["invoice"]),
            invoice_schema(),
            endpoint,
            sleep=lambda _s: None,
        )
    assert len(state.requests) == 3


def test_llm_non_json_answer_fails(
    parsed: dict[str, Pages], fake_model: tuple[str, FakeModel]
) -> None:
    url, state = fake_model
    state.answers = ["Sorry, I cannot help with that."]
    with pytest.raises(ModelError, match="JSON"):
        extract_llm(Document.from_pages(parsed["invoice"]), invoice_schema(), ModelEndpoint(url))


def test_agentic_tier_through_the_api(
    tmp_path: Path, business_pdfs: dict[str, Path], fake_model: tuple[str, FakeModel]
) -> None:
    url, state = fake_model
    state.answers = [ANSWER]
    settings = ServerSettings(
        data_dir=tmp_path / "data",
        workers=0,
        poll_interval_seconds=0.2,
        model_url=url,
        model_name="tiny-model",
    )
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        pdf = business_pdfs["invoice"].read_bytes()
        file_id = client.post(
            "/api/v1/beta/files", files={"file": ("inv.pdf", pdf)}, data={"purpose": "extract"}
        ).json()["id"]
        config = {"data_schema": invoice_schema(), "tier": "agentic", "cite_sources": True}
        job = client.post("/api/v2/extract", json={"file_input": file_id, "configuration": config})
        assert job.status_code == 200, job.text
        job_id = job.json()["id"]
        deadline = time.monotonic() + 30
        while (body := client.get(f"/api/v2/extract/{job_id}").json())["status"] in (
            "PENDING",
            "RUNNING",
        ):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert body["status"] == "COMPLETED", body
        assert body["extract_result"]["total"] == 1234.5
        cite = body["extract_metadata"]["field_metadata"]["document_metadata"]["total"]
        assert cite["citation"][0]["page"] == 1
        assert state.requests[-1]["model"] == "tiny-model"


def test_agentic_tier_without_an_endpoint_is_a_422(tmp_path: Path) -> None:
    settings = ServerSettings(data_dir=tmp_path / "data", workers=0)
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        config = {"data_schema": invoice_schema(), "tier": "agentic"}
        response = client.post(
            "/api/v2/extract", json={"file_input": "dfl-x", "configuration": config}
        )
    assert response.status_code == 422
    (detail,) = response.json()["detail"]
    assert detail["loc"] == ["body", "configuration", "tier"]
    assert "LAMINA_MODEL_URL" in detail["msg"]


def test_llm_prompt_has_layout_rows_and_rule_candidates(
    tmp_path: Path, fake_model: tuple[str, FakeModel]
) -> None:
    """The stand-in model (no real model can run here) answers one receipt field like the
    rules, one differently but present in the text, one not in the text at all."""
    from tests.fixtures.receipts import RECEIPT_SCHEMA, TILL, TILL_FIELDS, draw_receipt_pdf

    path = draw_receipt_pdf(tmp_path / "till.pdf", TILL)
    result = parse_document(
        path.read_bytes(), filename=path.name, config=ParseConfiguration(tier="cost_effective")
    )
    doc = Document.from_pages(items_pages(result), {1: 1.0})
    url, state = fake_model
    state.answers = [
        {
            "company": TILL_FIELDS["company"],  # the rules' best candidate
            "total": "50.00",  # on the page (the cash line), not what the rules ranked first
            "date": "2024-03-14",  # the rules' date, reformatted: compared as a date
            "address": "1 Invented Road",  # nowhere in the text
        }
    ]
    out = extract_llm(doc, RECEIPT_SCHEMA, ModelEndpoint(url), sleep=lambda _s: None)

    (_, user) = state.requests[-1]["messages"]
    prompt = user["content"]
    assert '<layout page="1">' in prompt
    assert re.search(r"\[\d+%\] TOTAL\s+RM 30\.70", prompt)  # label and amount on one row
    assert "Candidate values found by layout rules" in prompt
    assert f"- company: {TILL_FIELDS['company']!r}" in prompt
    assert "- total: '30.70'" in prompt

    meta = out.field_metadata["document_metadata"]
    company = meta["company"]
    assert company["confidence"] >= 0.95 and "same value" in company["reasoning"]
    assert company["citation"][0]["matching_text"] == TILL_FIELDS["company"]
    assert company["citation"][0]["bounding_boxes"]
    total = meta["total"]
    assert total["confidence"] <= 0.8 and total["citation"][0]["matching_text"] == "50.00"
    assert meta["date"]["confidence"] >= 0.95
    assert meta["date"]["citation"][0]["matching_text"] == TILL_FIELDS["date"]
    assert meta["address"]["confidence"] < 0.5 and meta["address"]["citation"] == []


def test_llm_answers_from_a_photo_are_discounted_by_the_ocr_confidence(
    fake_model: tuple[str, FakeModel],
) -> None:
    """Same agreement, read from a page the parse is 0.9 sure of: the overall confidence is
    lower than the extraction confidence, and the parsing confidence is reported."""
    from tests.fixtures.receipts import RECEIPT_SCHEMA

    rows = ["HARBOUR LIGHT TRADING SDN BHD", "12, JALAN MERANTI 3,", "47500 SUBANG JAYA"]
    items = [
        {
            "type": "text",
            "value": text,
            "md": text,
            "bbox": [{"x": 10.0, "y": 10.0 + 14 * i, "w": 150.0, "h": 10.0}],
        }
        for i, text in enumerate(rows)
    ]
    page = {"page_number": 1, "page_width": 200.0, "page_height": 60.0, "items": items}
    doc = Document.from_pages([page], {1: 0.9})
    url, state = fake_model
    state.answers = [{"company": rows[0], "date": None, "address": None, "total": None}]
    out = extract_llm(doc, RECEIPT_SCHEMA, ModelEndpoint(url), sleep=lambda _s: None)
    company = out.field_metadata["document_metadata"]["company"]
    assert company["parsing_confidence"] == 0.9
    assert company["confidence"] < company["extraction_confidence"]
