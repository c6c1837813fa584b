"""Webhooks (outbox, signature, retries) and classification (FAST local, MULTIMODAL refused)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest

from lamina.classify import classify_text, tokenize
from tests.batch.conftest import (
    Receiver,
    all_items,
    corpus,
    create_batch,
    free_port,
    make_directory,
    running_app,
    small_pdf,
    wait_batch,
)

RULES = [
    {
        "type": "invoice",
        "description": "A bill asking for payment: invoice number, line items, amounts due, "
        "subtotal, tax and total",
    },
    {
        "type": "resume",
        "description": "A CV of a person: work experience, education, skills and employment "
        "history",
    },
    {
        "type": "contract",
        "description": "A legal agreement between parties: terms, obligations, termination, "
        "governing law and signatures",
    },
]
DOCS = {
    "invoice": "INVOICE No. 2024-117\nBill to: Northwind Ltd\nDescription Qty Amount\n"
    "Consulting 10 $1,500.00\nSubtotal $1,500.00\nTax $150.00\nTotal due $1,650.00\n"
    "Payment due within 30 days.",
    "resume": "Maria Lopez\nSenior Data Engineer\nWork experience\n2019-2024 Data engineer, "
    "Acme\nEducation\nMSc Computer Science\nSkills: Python, Spark, SQL",
    "contract": "MASTER SERVICES AGREEMENT\nThis Agreement is made between the parties below. "
    "1. Term. 2. Obligations of the Supplier. 3. Termination. 4. Governing law: England. "
    "Signed by both parties.",
}


def test_classify_fast_is_local_and_picks_the_right_type() -> None:
    for expected, text in DOCS.items():
        result = classify_text(text, RULES)
        assert result.type == expected, (expected, result)
        assert 0.5 < result.confidence <= 1.0
        assert result.scores[expected] == max(result.scores.values())
    nothing = classify_text("lorem ipsum dolor", RULES)
    assert nothing.type is None and nothing.confidence == 0.0
    assert tokenize("Invoices and billing") == ["invoice", "bill"]


def test_classify_batch_fast_and_multimodal_refused(client: Any) -> None:
    files = [(f"{kind}.txt", text.encode()) for kind, text in DOCS.items()]
    files.append(("invoice-scan.pdf", small_pdf("INVOICE total due payment tax subtotal amount")))
    directory_id = make_directory(client, files)
    config = {"rules": RULES, "mode": "FAST"}
    created = create_batch(client, directory_id, job_config=config)
    assert created["job_type"] == "classify"
    assert wait_batch(client, created["id"])["job"]["status"] == "completed"
    for item in all_items(client, created["id"]):
        assert item["status"] == "completed"
        results = client.get(
            f"/api/v1/beta/batch-processing/items/{item['item_id']}/processing-results",
            params={"job_type": "classify"},
        ).json()["processing_results"]
        (result,) = results
        expected = item["item_name"].split(".")[0].split("-")[0]
        assert result["output_metadata"]["type"] == expected
        assert result["output_metadata"]["confidence"] > 0.5
        assert result["job_config"]["rules"] == RULES
        saved = Path(result["output_s3_path"].removeprefix("file://"))
        assert json.loads(saved.read_text())["type"] == expected
    multimodal = client.post(
        "/api/v1/beta/batch-processing",
        json={"directory_id": directory_id, "job_config": {"rules": RULES, "mode": "MULTIMODAL"}},
    )
    assert multimodal.status_code == 422
    assert multimodal.json()["detail"][0]["loc"] == ["body", "job_config", "mode"]
    no_rules = client.post(
        "/api/v1/beta/batch-processing",
        json={"directory_id": directory_id, "job_config": {"rules": []}},
    )
    assert no_rules.status_code == 422


def _wait_events(receiver: Receiver, count: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while len(receiver.requests) < count:
        assert time.monotonic() < deadline, receiver.events()
        time.sleep(0.05)


def test_webhooks_each_event_once_signed_and_dead_receiver_does_not_block(
    tmp_path: Path, receiver: Receiver
) -> None:
    dead_url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    # The receivers are on loopback, which the operator must admit (refused by default).
    with running_app(tmp_path / "data", outbound_allow=("127.0.0.1",)) as http:
        services = http.app.state.services  # type: ignore[attr-defined]
        services.batch.webhooks.base_delay = 0.05
        directory_id = make_directory(http, corpus(6, tag="hooks"))
        created = create_batch(
            http,
            directory_id,
            job_config={
                "parameters": {"tier": "fast"},
                "webhook_url": dead_url,
            },
            webhook_configurations=[
                {
                    "webhook_url": receiver.url,
                    "webhook_headers": {"X-Token": "abc"},
                    "webhook_signing_secret": "s3cret",
                    "webhook_output_format": "json",
                }
            ],
        )
        assert wait_batch(http, created["id"])["job"]["status"] == "completed"
        _wait_events(receiver, 3)
        time.sleep(0.5)  # anything extra would arrive now
        assert receiver.events() == ["parse.pending", "parse.running", "parse.success"]
        for request in receiver.requests:
            headers = {k.lower(): v for k, v in request["headers"].items()}
            assert headers["x-token"] == "abc"
            assert headers["content-type"] == "application/json"
            expected = hmac.new(b"s3cret", request["body"], hashlib.sha256).hexdigest()
            assert headers["lc-signature"] == f"sha256={expected}"
            payload = json.loads(request["body"])
            assert payload["job_id"] == created["id"]
        final = json.loads(receiver.requests[-1]["body"])["data"]
        assert final["status"] == "completed" and final["processed_items"] == 6

        from lamina.services.store.tables import webhook_outbox_table

        # Deliveries run concurrently: the dead receiver's first attempts may still be on their
        # way when the live receiver has all its events (that is the point: it did not wait).
        deadline = time.monotonic() + 30
        while True:
            with services.db.begin() as conn:
                rows = [dict(r._mapping) for r in conn.execute(webhook_outbox_table.select())]
            dead = [r for r in rows if r["url"] == dead_url]
            if all(r["attempts"] >= 1 for r in dead) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len(dead) == 3 and all(r["attempts"] >= 1 for r in dead)
        assert all(r["status"] in ("pending", "dead") and r["last_error"] for r in dead)
        assert all(r["status"] == "delivered" for r in rows if r["url"] == receiver.url)


@pytest.mark.parametrize("events", [["parse.success"]])
def test_webhook_event_filter(tmp_path: Path, receiver: Receiver, events: list[str]) -> None:
    with running_app(tmp_path / "data", outbound_allow=("127.0.0.1",)) as client:
        _check_event_filter(client, receiver, events)


def _check_event_filter(client: Any, receiver: Receiver, events: list[str]) -> None:
    directory_id = make_directory(client, corpus(2, tag="filter"))
    created = create_batch(
        client,
        directory_id,
        webhook_configurations=[{"webhook_url": receiver.url, "webhook_events": events}],
    )
    wait_batch(client, created["id"])
    _wait_events(receiver, 1)
    time.sleep(0.4)
    assert receiver.events() == events
    assert receiver.requests[0]["headers"]["Content-Type"].startswith("text/plain")
