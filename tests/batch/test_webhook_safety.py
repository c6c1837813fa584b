"""Webhooks under hostile configuration (issue #10, items 2 and 3): malformed configurations
are refused at the door, a poisoned delivery fails alone, deliveries obey the outbound address
policy, and one project's slow receivers do not hold up another project's webhooks.

Receivers listen on loopback, which the policy refuses by default: the tests that need a
delivery to arrive run with the operator's allow-list admitting 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.batch.conftest import (
    Receiver,
    corpus,
    create_batch,
    make_directory,
    running_app,
    wait_batch,
)

LOOPBACK = ("127.0.0.1",)


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _outbox(http: Any) -> list[dict[str, Any]]:
    from lamina.services.store.tables import webhook_outbox_table

    services = http.app.state.services
    with services.db.begin() as conn:
        return [dict(r._mapping) for r in conn.execute(webhook_outbox_table.select())]


# --- at the door -------------------------------------------------------------------------------

URL = "https://example.com/h"


def _hook(**fields: Any) -> dict[str, Any]:
    return {"webhook_url": URL, **fields}


BAD_CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("header value not a string", _hook(webhook_headers={"X-Count": 1})),
    ("headers not an object", _hook(webhook_headers=["abc"])),
    ("url not parseable", {"webhook_url": "http://[::1"}),
    ("url not http", {"webhook_url": "ftp://example.com/h"}),
    ("url not a string", {"webhook_url": 5}),
    ("events not a list", _hook(webhook_events=5)),
    ("event not a string", _hook(webhook_events=[1])),
    ("unknown output format", _hook(webhook_output_format="xml")),
    ("Host header", _hook(webhook_headers={"Host": "internal"})),
    ("hop-by-hop header", _hook(webhook_headers={"Transfer-Encoding": "chunked"})),
    ("our own header", _hook(webhook_headers={"LC-Signature": "x"})),
    ("header injection", _hook(webhook_headers={"X-A": "a\r\nX-B: b"})),
    ("bad header name", _hook(webhook_headers={"X A": "a"})),
    ("loopback", {"webhook_url": "http://127.0.0.1:9/hook"}),
    ("loopback, decimal", {"webhook_url": "http://2130706433:9/hook"}),
    ("metadata address", {"webhook_url": "http://169.254.169.254/latest"}),
    ("IPv6 loopback", {"webhook_url": "http://[::1]:9/hook"}),
]


@pytest.mark.parametrize(("why", "config"), BAD_CONFIGS, ids=[w for w, _ in BAD_CONFIGS])
def test_malformed_webhook_configuration_is_refused_at_the_door(
    client: Any, why: str, config: dict[str, Any]
) -> None:
    directory_id = make_directory(client, corpus(1, tag="door"))
    places = [
        {"webhook_configurations": [config]},
        {"job_config": {"parameters": {"tier": "fast", "webhook_configurations": [config]}}},
    ]
    if set(config) == {"webhook_url"}:
        places.append({"job_config": {"parameters": {"tier": "fast"}, **config}})
    for extra in places:
        body = {
            "directory_id": directory_id,
            "job_config": {"parameters": {"tier": "fast"}},
            **extra,
        }
        response = client.post("/api/v1/beta/batch-processing", json=body)
        assert response.status_code == 422, (why, extra, response.text)
        assert isinstance(response.json()["detail"], list)
    v2 = client.post(
        "/api/v2/batches",
        json={
            "source_directory_id": directory_id,
            "config": {"job": {"type": "parse_v2", "configuration_id": "fast"}},
            "webhook_configurations": [config],
        },
    )
    assert v2.status_code == 422, (why, v2.text)
    assert _outbox(client) == []  # nothing was queued


def test_too_many_webhooks_are_refused(client: Any) -> None:
    directory_id = make_directory(client, corpus(1, tag="many"))
    hooks = [{"webhook_url": f"https://example.com/h{i}"} for i in range(11)]
    response = client.post(
        "/api/v1/beta/batch-processing",
        json={
            "directory_id": directory_id,
            "job_config": {"parameters": {"tier": "fast"}},
            "webhook_configurations": hooks,
        },
    )
    assert response.status_code == 422, response.text


# --- delivery ----------------------------------------------------------------------------------


def test_a_poisoned_outbox_row_fails_alone(tmp_path: Path, receiver: Receiver) -> None:
    """Rows an older version stored unchecked (int header values, an unparseable URL) end as
    ``dead`` with their error; the good row next to them is delivered."""
    from lamina.services.store.db import utcnow
    from lamina.services.store.tables import webhook_outbox_table

    with running_app(tmp_path / "data", outbound_allow=LOOPBACK) as http:
        directory_id = make_directory(http, corpus(1, tag="poison"))
        batch = create_batch(http, directory_id)
        wait_batch(http, batch["id"])
        services = http.app.state.services  # type: ignore[attr-defined]
        now = utcnow()
        base = {
            "batch_id": batch["id"],
            "event": "parse.success",
            "output_format": "json",
            "signing_secret": None,
            "payload": {"event_type": "parse.success"},
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        rows = [
            {**base, "id": "whd-poison-headers", "url": receiver.url, "headers": {"X-Count": 1}},
            {**base, "id": "whd-poison-url", "url": "http://[::1", "headers": None},
            {**base, "id": "whd-good", "url": receiver.url, "headers": {"X-Ok": "yes"}},
        ]
        with services.db.begin() as conn:
            conn.execute(webhook_outbox_table.insert(), rows)
        services.batch.webhooks.wake()

        def settled() -> bool:
            by_id = {r["id"]: r for r in _outbox(http)}
            return all(by_id[r["id"]]["status"] != "pending" for r in rows)

        _wait(settled, 10, "the poisoned rows were never settled")
        by_id = {r["id"]: r for r in _outbox(http)}
        assert by_id["whd-good"]["status"] == "delivered"
        for poisoned in ("whd-poison-headers", "whd-poison-url"):
            assert by_id[poisoned]["status"] == "dead", by_id[poisoned]
            assert by_id[poisoned]["last_error"]
            assert by_id[poisoned]["attempts"] == 1  # a permanent error is not retried
        delivered = [r for r in receiver.requests if r["headers"].get("X-Ok") == "yes"]
        assert len(delivered) == 1


def test_deliveries_obey_the_outbound_policy(tmp_path: Path, receiver: Receiver) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    by_name = f"http://localhost:{port}/hook"  # a name: checked when the request is made
    with running_app(tmp_path / "data") as http:
        directory_id = make_directory(http, corpus(1, tag="policy"))
        batch = create_batch(http, directory_id, webhook_configurations=[{"webhook_url": by_name}])
        wait_batch(http, batch["id"])
        _wait(
            lambda: all(r["status"] == "dead" for r in _outbox(http)) and _outbox(http),
            10,
            "deliveries to loopback were not refused",
        )
        assert all("outbound policy" in r["last_error"] for r in _outbox(http))
    assert receiver.requests == []

    with running_app(tmp_path / "data2", outbound_allow=LOOPBACK) as http:
        directory_id = make_directory(http, corpus(1, tag="policy2"))
        batch = create_batch(
            http, directory_id, webhook_configurations=[{"webhook_url": receiver.url}]
        )
        wait_batch(http, batch["id"])
        _wait(lambda: len(receiver.requests) >= 3, 10, "allowed deliveries did not arrive")


class _SlowReceiver:
    """A loopback server answering every POST after ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self.count = 0
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(delay)
                with lock:
                    outer.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slow_receiver() -> Iterator[_SlowReceiver]:
    server = _SlowReceiver(delay=4.0)
    yield server
    server.close()


def test_slow_receivers_of_one_project_do_not_delay_another_project(
    tmp_path: Path, slow_receiver: _SlowReceiver, receiver: Receiver
) -> None:
    keys = {"key-a": "project-a", "key-b": "project-b"}
    with running_app(tmp_path / "data", api_keys=keys, outbound_allow=LOOPBACK) as http:
        a = {"Authorization": "Bearer key-a"}
        b = {"Authorization": "Bearer key-b"}
        http.headers.update(a)
        dir_a = make_directory(http, corpus(1, tag="slow-a"))
        slow_hooks = [{"webhook_url": f"{slow_receiver.base}/hook{i}"} for i in range(10)]
        create_batch(http, dir_a, webhook_configurations=slow_hooks)
        time.sleep(0.5)  # project A's deliveries are under way
        http.headers.update(b)
        dir_b = make_directory(http, corpus(1, tag="fast-b"))
        started = time.monotonic()
        batch_b = create_batch(http, dir_b, webhook_configurations=[{"webhook_url": receiver.url}])
        # Sequential delivery would put it behind 30 deliveries of 4 s each (about 2 minutes).
        _wait(lambda: len(receiver.requests) >= 1, 10.0, "project B's first webhook was held up")
        elapsed = time.monotonic() - started
        first = json.loads(receiver.requests[0]["body"])
        assert first["job_id"] == batch_b["id"] and first["event_type"] == "parse.pending"
    assert elapsed < 10.0
    assert slow_receiver.count < 30  # project A's deliveries were still running meanwhile


def test_dead_letter_after_the_last_attempt(tmp_path: Path) -> None:
    from lamina.services.store.tables import webhook_outbox_table

    with running_app(tmp_path / "data", outbound_allow=LOOPBACK, webhook_max_attempts=3) as http:
        services = http.app.state.services  # type: ignore[attr-defined]
        services.batch.webhooks.base_delay = 0.05
        directory_id = make_directory(http, corpus(1, tag="dead"))
        closed = "http://127.0.0.1:9/hook"  # discard port: nothing listens
        batch = create_batch(
            http, directory_id, webhook_configurations=[{"webhook_url": "http://localhost:9/x"}]
        )
        wait_batch(http, batch["id"])
        with services.db.begin() as conn:
            conn.execute(
                webhook_outbox_table.update().values(url=closed, status="pending", attempts=0)
            )
        services.batch.webhooks.wake()
        _wait(
            lambda: all(r["status"] == "dead" for r in _outbox(http)),
            15,
            "retries did not end in the dead-letter state",
        )
        with services.db.begin() as conn:
            attempts = conn.execute(sa.select(webhook_outbox_table.c.attempts)).scalars().all()
        assert set(attempts) == {3}
