"""Saved configurations, webhook configurations, classify v2, job webhooks, extract_v2 batches,
directory file updates and files.query, on the real app (inline worker, real engine).

Webhook deliveries go to a receiver on loopback run by the test (the outbox and delivery loop
are the server's own).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.documents import make_multipage_pdf
from tests.server.conftest import create_job, running_app, upload, wait_for_job, wait_until

INVOICE = b"Invoice number: INV-7\nLine items: 3 widgets\nTotal amount due: 12.50 USD\n"
RESUME = b"Curriculum vitae\nWork experience: 8 years\nEducation: MSc\nSkills: Python\n"
RULES = [
    {"type": "invoice", "description": "invoice number, line items and total amount due"},
    {"type": "resume", "description": "work experience, education and skills of a candidate"},
]
SCHEMA = {"type": "object", "properties": {"invoice_number": {"type": "string"}}}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    # The webhook receivers run on loopback: allowed here as an operator lists an intranet host.
    with running_app(tmp_path / "data", outbound_allow=("127.0.0.1",)) as test_client:
        yield test_client


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, Any], dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((json.loads(body), dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, Any], dict[str, str], bytes]]]]:
    handler = type("Receiver", (_Receiver,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler.received
    server.shutdown()


def _ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def _config(client: TestClient, parameters: dict[str, Any], name: str = "cfg") -> str:
    body = _ok(
        client.post("/api/v1/beta/configurations", json={"name": name, "parameters": parameters})
    )
    return str(body["id"])


def _wait(client: TestClient, path: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        body: dict[str, Any] = _ok(client.get(path))
        job = body.get("job", body)
        if job["status"] not in ("PENDING", "RUNNING"):
            return body
        assert time.monotonic() < deadline, f"{path} still {job['status']}"
        time.sleep(0.05)


# --- saved configurations ---------------------------------------------------------------------


def test_configuration_crud_and_versions(client: TestClient) -> None:
    config_id = _config(client, {"product_type": "classify_v2", "rules": RULES}, name="rules")
    got = _ok(client.get(f"/api/v1/beta/configurations/{config_id}"))
    assert (got["name"], got["product_type"], got["version"]) == ("rules", "classify_v2", "1")
    updated = _ok(client.put(f"/api/v1/beta/configurations/{config_id}", json={"name": "renamed"}))
    assert updated["name"] == "renamed" and updated["version"] == "2"
    assert updated["parameters"]["rules"] == RULES
    _config(client, {"product_type": "parse_v2", "tier": "fast"})
    listed = _ok(client.get("/api/v1/beta/configurations", params={"product_type": "classify_v2"}))
    assert [c["id"] for c in listed["items"]] == [config_id]
    assert client.delete(f"/api/v1/beta/configurations/{config_id}").status_code == 204
    assert client.get(f"/api/v1/beta/configurations/{config_id}").status_code == 404


@pytest.mark.parametrize(
    ("parameters", "loc"),
    [
        ({"product_type": "nope"}, ["body", "parameters", "product_type"]),
        ({"product_type": "parse_v2", "tier": "fast", "page_size": 0}, None),
        ({"product_type": "classify_v2", "rules": []}, ["body", "parameters", "rules"]),
        ({"product_type": "extract_v2"}, ["body", "parameters", "data_schema"]),
    ],
)
def test_configuration_parameters_are_validated(
    client: TestClient, parameters: dict[str, Any], loc: list[str] | None
) -> None:
    response = client.post(
        "/api/v1/beta/configurations", json={"name": "x", "parameters": parameters}
    )
    if loc is None:  # unknown parse fields are accepted, as on POST /api/v2/parse
        assert response.status_code == 200
        return
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


def test_webhook_config_crud_hides_the_secret(client: TestClient) -> None:
    created = _ok(
        client.post(
            "/api/v1/beta/webhook-configs",
            json={
                "webhook_url": "https://example.com/hook",
                "webhook_events": ["parse.success"],
                "webhook_signing_secret": "s3cret",
            },
        )
    )
    assert created["has_secret"] and "webhook_signing_secret" not in created
    assert created["tenant_type"] == "project"
    hook_id = created["id"]
    updated = _ok(
        client.put(
            f"/api/v1/beta/webhook-configs/{hook_id}", json={"webhook_output_format": "json"}
        )
    )
    assert updated["webhook_output_format"] == "json" and updated["webhook_events"] == [
        "parse.success"
    ]
    assert [h["id"] for h in _ok(client.get("/api/v1/beta/webhook-configs"))] == [hook_id]
    assert _ok(client.get("/api/v2/webhook-configs"))["total_size"] == 1
    bad = client.post("/api/v1/beta/webhook-configs", json={"webhook_url": "ftp://x"})
    assert bad.status_code == 422
    bad_event = client.post(
        "/api/v1/beta/webhook-configs",
        json={"webhook_url": "https://x.test", "webhook_events": ["parse.exploded"]},
    )
    assert bad_event.status_code == 422
    assert client.delete(f"/api/v1/beta/webhook-configs/{hook_id}").status_code == 204
    assert client.get(f"/api/v1/beta/webhook-configs/{hook_id}").status_code == 404


def test_parse_with_configuration_id(client: TestClient, tmp_path: Path) -> None:
    pdf = make_multipage_pdf(tmp_path, pages=3).read_bytes()
    file_id = upload(client, pdf)["id"]
    config_id = _config(
        client, {"product_type": "parse_v2", "tier": "fast", "page_ranges": {"max_pages": 1}}
    )
    job = create_job(client, file_id, configuration_id=config_id)
    assert wait_for_job(client, job["id"])["status"] == "COMPLETED"
    body = _ok(client.get(f"/api/v2/parse/{job['id']}", params={"expand": "markdown,usage"}))
    assert len(body["markdown"]["pages"]) == 1  # the saved page range applied
    assert body["job"]["usage"] == {"credits": 0.0}
    inline_wins = create_job(
        client, file_id, configuration_id=config_id, page_ranges={"max_pages": 2}
    )
    wait_for_job(client, inline_wins["id"])
    body = _ok(client.get(f"/api/v2/parse/{inline_wins['id']}", params={"expand": "markdown"}))
    assert len(body["markdown"]["pages"]) == 2
    classify_config = _config(client, {"product_type": "classify_v2", "rules": RULES})
    wrong = client.post(
        "/api/v2/parse",
        json={"file_id": file_id, "tier": "fast", "configuration_id": classify_config},
    )
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == [
        "body",
        "configuration_id",
    ]
    missing = client.post(
        "/api/v2/parse", json={"file_id": file_id, "tier": "fast", "configuration_id": "cfg-nope"}
    )
    assert missing.status_code == 404


def test_extract_with_configuration_and_parse_config_ids(client: TestClient) -> None:
    file_id = upload(client, INVOICE, name="invoice.txt")["id"]
    parse_config = _config(client, {"product_type": "parse_v2", "tier": "fast"})
    extract_config = _config(
        client,
        {"product_type": "extract_v2", "data_schema": SCHEMA, "parse_config_id": parse_config},
    )
    job = _ok(
        client.post(
            "/api/v2/extract", json={"file_input": file_id, "configuration_id": extract_config}
        )
    )
    assert job["configuration_id"] == extract_config
    done = _wait(client, f"/api/v2/extract/{job['id']}?expand=extract_metadata")
    assert done["status"] == "COMPLETED", done
    assert done["extract_result"]["invoice_number"] == "INV-7"
    assert done["extract_metadata"]["parse_tier"] == "fast"  # from the saved parse configuration
    listed = _ok(client.get("/api/v2/extract", params={"configuration_id": extract_config}))
    assert [j["id"] for j in listed["items"]] == [job["id"]]


# --- classify v2 -------------------------------------------------------------------------------


def test_classify_file_and_parse_job_inputs(client: TestClient) -> None:
    invoice = upload(client, INVOICE, name="invoice.txt")["id"]
    resume = upload(client, RESUME, name="resume.txt")["id"]
    first = _ok(
        client.post(
            "/api/v2/classify", json={"file_input": invoice, "configuration": {"rules": RULES}}
        )
    )
    assert (first["status"], first["document_input_type"]) == ("PENDING", "file_id")
    done = _wait(client, f"/api/v2/classify/{first['id']}?expand=usage")
    assert done["result"]["type"] == "invoice" and done["result"]["confidence"] > 0.5
    assert done["result"]["reasoning"] and done["usage"]["credits"] == 0.0
    parse_job = create_job(client, resume)
    wait_for_job(client, parse_job["id"])
    second = _ok(
        client.post(
            "/api/v2/classify",
            json={"file_input": parse_job["id"], "configuration": {"rules": RULES}},
        )
    )
    done = _wait(client, f"/api/v2/classify/{second['id']}")
    assert done["result"]["type"] == "resume"
    assert done["document_input_type"] == "parse_job_id" and done["parse_job_id"] == parse_job["id"]
    unmatched = _ok(
        client.post(
            "/api/v2/classify",
            json={
                "file_input": invoice,
                "configuration": {"rules": [{"type": "poem", "description": "verse stanza rhyme"}]},
            },
        )
    )
    done = _wait(client, f"/api/v2/classify/{unmatched['id']}")
    assert done["result"]["type"] is None and done["result"]["confidence"] == 0.0
    listed = _ok(client.get("/api/v2/classify", params={"status": "COMPLETED"}))
    assert listed["total_size"] == 3


def test_classify_configuration_id_and_transaction_id(client: TestClient) -> None:
    file_id = upload(client, INVOICE, name="invoice.txt")["id"]
    config_id = _config(client, {"product_type": "classify_v2", "rules": RULES})
    body = {"file_input": file_id, "configuration_id": config_id, "transaction_id": "tx-1"}
    first = _ok(client.post("/api/v2/classify", json=body))
    again = _ok(
        client.post("/api/v2/classify", json={**body, "configuration": {"rules": RULES[1:]}})
    )
    assert again["id"] == first["id"]  # the key returns the first job; the new body is ignored
    assert first["configuration_id"] == config_id and first["transaction_id"] == "tx-1"
    assert _wait(client, f"/api/v2/classify/{first['id']}")["result"]["type"] == "invoice"
    listed = _ok(client.get("/api/v2/classify", params={"configuration_id": config_id}))
    assert [j["id"] for j in listed["items"]] == [first["id"]]


@pytest.mark.parametrize(
    ("body", "status", "loc"),
    [
        ({"configuration": {"rules": RULES}}, 422, ["body", "file_input"]),
        ({"file_input": "dfl-x"}, 422, ["body", "configuration"]),
        ({"file_input": "dfl-x", "configuration": {"rules": [{"type": ""}]}}, 422, None),
        ({"file_input": "dfl-missing", "configuration": {"rules": RULES}}, 404, None),
        (
            {"file_input": "dfl-x", "configuration": {"rules": RULES, "mode": "MULTIMODAL"}},
            422,
            ["body", "configuration", "mode"],
        ),
    ],
)
def test_classify_refusals(
    client: TestClient, body: dict[str, Any], status: int, loc: list[str] | None
) -> None:
    response = client.post("/api/v2/classify", json=body)
    assert response.status_code == status, response.text
    if loc is not None:
        assert response.json()["detail"][0]["loc"] == loc


def test_classify_cancel_and_delete(client: TestClient) -> None:
    file_id = upload(client, INVOICE, name="invoice.txt")["id"]
    job = _ok(
        client.post(
            "/api/v2/classify", json={"file_input": file_id, "configuration": {"rules": RULES}}
        )
    )
    _wait(client, f"/api/v2/classify/{job['id']}")
    assert client.post(f"/api/v2/classify/{job['id']}/cancel").status_code == 400  # finished
    assert _ok(client.delete(f"/api/v2/classify/{job['id']}")) == {
        "id": job["id"],
        "project_id": "default",
    }
    assert client.get(f"/api/v2/classify/{job['id']}").status_code == 404


# --- webhooks of single jobs ---------------------------------------------------------------------


def test_parse_job_webhooks_by_saved_id_are_signed(client: TestClient, receiver: Any) -> None:
    url, received = receiver
    hook = _ok(
        client.post(
            "/api/v1/beta/webhook-configs",
            json={
                "webhook_url": url,
                "webhook_signing_secret": "s3cret",
                "webhook_output_format": "json",
            },
        )
    )
    file_id = upload(client, INVOICE, name="invoice.txt")["id"]
    job = create_job(client, file_id, webhook_configuration_ids=[hook["id"]])
    wait_for_job(client, job["id"])
    wait_until(lambda: any(p["event_type"] == "parse.success" for p, _, _ in received))
    events = [p["event_type"] for p, _, _ in received]
    assert events[0] == "parse.pending" and events[-1] == "parse.success"
    payload, headers, raw = received[-1]
    assert payload["job_id"] == job["id"] and payload["data"]["status"] == "COMPLETED"
    expected = hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
    assert headers["LC-Signature"] == f"sha256={expected}"


def test_classify_and_extract_webhooks_inline(client: TestClient, receiver: Any) -> None:
    url, received = receiver
    file_id = upload(client, INVOICE, name="invoice.txt")["id"]
    hooks = [{"webhook_url": url, "webhook_events": ["classify.success", "extract.success"]}]
    _ok(
        client.post(
            "/api/v2/classify",
            json={
                "file_input": file_id,
                "configuration": {"rules": RULES},
                "webhook_configurations": hooks,
            },
        )
    )
    _ok(
        client.post(
            "/api/v2/extract",
            json={
                "file_input": file_id,
                "configuration": {"data_schema": SCHEMA},
                "webhook_configurations": hooks,
            },
        )
    )
    wait_until(lambda: len(received) == 2)
    assert sorted(p["event_type"] for p, _, _ in received) == [
        "classify.success",
        "extract.success",
    ]


# --- batches, directories, files -----------------------------------------------------------------


def test_extract_v2_batch_with_saved_configurations(client: TestClient, receiver: Any) -> None:
    url, received = receiver
    hook = _ok(client.post("/api/v1/beta/webhook-configs", json={"webhook_url": url}))
    config_id = _config(client, {"product_type": "extract_v2", "data_schema": SCHEMA})
    directory = _ok(client.post("/api/v1/beta/directories", json={"name": "invoices"}))["id"]
    for n in range(2):
        files = {"upload_file": (f"inv{n}.txt", INVOICE + str(n).encode(), "text/plain")}
        _ok(client.post(f"/api/v1/beta/directories/{directory}/files/upload", files=files))
    batch = _ok(
        client.post(
            "/api/v2/batches",
            json={
                "source_directory_id": directory,
                "config": {"job": {"type": "extract_v2", "configuration_id": config_id}},
                "webhook_configuration_ids": [hook["id"]],
            },
        )
    )
    done = _wait(client, f"/api/v2/batches/{batch['id']}?expand=results")
    assert done["status"] == "COMPLETED"
    references = [r["job_reference"] for r in done["results"]]
    assert {r["type"] for r in references} == {"extract_v2"}
    for reference in references:
        job = _ok(client.get(f"/api/v2/extract/{reference['id']}"))
        assert job["extract_result"]["invoice_number"] == "INV-7"
    wait_until(lambda: any(p["event_type"] == "batch.success" for p, _, _ in received))
    no_schema = client.post(
        "/api/v2/batches",
        json={"source_directory_id": directory, "config": {"job": {"type": "extract_v2"}}},
    )
    assert no_schema.status_code == 422


def test_directory_file_update_and_files_query(client: TestClient) -> None:
    file_id = upload(client, INVOICE, name="invoice.txt")["id"]
    first = _ok(client.post("/api/v1/beta/directories", json={"name": "a"}))["id"]
    second = _ok(client.post("/api/v1/beta/directories", json={"name": "b"}))["id"]
    entry = _ok(client.post(f"/api/v1/beta/directories/{first}/files", json={"file_id": file_id}))
    path = f"/api/v1/beta/directories/{first}/files/{entry['id']}"
    renamed = _ok(client.patch(path, json={"display_name": "renamed.txt", "metadata": {"k": "v"}}))
    assert (renamed["display_name"], renamed["metadata"]) == ("renamed.txt", {"k": "v"})
    moved = _ok(client.patch(path, json={"target_directory_id": second, "unique_id": "key-1"}))
    assert (moved["directory_id"], moved["unique_id"]) == (second, "key-1")
    assert client.get(path).status_code == 404
    other = _ok(client.post(f"/api/v1/beta/directories/{second}/files", json={"file_id": file_id}))
    clash = client.patch(
        f"/api/v1/beta/directories/{second}/files/{other['id']}", json={"unique_id": "key-1"}
    )
    assert clash.status_code == 400 and "key-1" in clash.json()["detail"]
    found = _ok(
        client.post("/api/v1/beta/files/query", json={"filter": {"file_name": "invoice.txt"}})
    )
    assert [f["id"] for f in found["items"]] == [file_id]
    assert (
        _ok(client.post("/api/v1/beta/files/query", json={"filter": {"data_source_id": "x"}}))[
            "items"
        ]
        == []
    )


@pytest.mark.parametrize(
    ("kind", "announced", "status", "events"),
    [
        ("parse", None, "PENDING", ["parse.pending"]),
        ("parse", None, "COMPLETED", ["parse.pending", "parse.success"]),
        ("parse", "PENDING", "RUNNING", ["parse.running"]),
        ("parse", "RUNNING", "FAILED", ["parse.error"]),
        ("classify", "PENDING", "CANCELLED", ["classify.cancelled"]),
        ("extract", "PENDING", "RUNNING", []),  # the SDK lists no extract.running
        ("extract", None, "COMPLETED", ["extract.pending", "extract.success"]),
    ],
)
def test_job_webhook_events(
    kind: str, announced: str | None, status: str, events: list[str]
) -> None:
    from lamina.services.api.job_webhooks import events_between

    assert events_between(kind, announced, status) == events
