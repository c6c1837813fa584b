"""Webhooks of batch jobs: an outbox table written with the status change, and a delivery loop.

An event is a row of ``webhook_outbox`` per subscribed endpoint, inserted in the same
transaction as the status change it reports, so an event is never lost and never invented.
The :class:`WebhookDelivery` thread POSTs due rows; a 2xx marks a row delivered, anything else
schedules a retry with exponential backoff (``base_delay * 2**attempts``, capped) until
``max_attempts``, then the row is ``dead``. The loop runs beside the batch dispatcher, so a dead
or slow receiver delays only other deliveries, never a batch. A crash between the POST and the
``delivered`` mark re-sends that event after restart: delivery is at least once; each request
carries ``X-Lamina-Delivery`` (the row id) so a receiver can drop duplicates.

Signing: with ``webhook_signing_secret`` each request has ``LC-Signature: sha256=<hex>``, the
HMAC-SHA256 of the raw body with the secret (as the official SDK documents).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lamina.services.background import BackgroundThread
from lamina.services.batch_db import webhook_outbox_table
from lamina.services.db import Database, Row, new_id, utcnow

log = logging.getLogger("lamina.webhooks")

SIGNATURE_HEADER = "LC-Signature"
DELIVERY_HEADER = "X-Lamina-Delivery"
EVENT_HEADER = "X-Lamina-Event"


def resolve_webhooks(*sources: Any) -> list[dict[str, Any]]:
    """Webhook configurations from every place a request may put them, without duplicates.

    Each source is a URL string, a configuration mapping, or a list of either.
    """
    found: list[dict[str, Any]] = []
    seen: set[str] = set()

    def add(value: Any) -> None:
        if value is None:
            return
        if isinstance(value, str):
            value = {"webhook_url": value}
        if isinstance(value, list | tuple):
            for item in value:
                add(item)
            return
        if not isinstance(value, Mapping) or not value.get("webhook_url"):
            return
        config = {
            "webhook_url": str(value["webhook_url"]),
            "webhook_events": list(value["webhook_events"])
            if value.get("webhook_events")
            else None,
            "webhook_headers": dict(value.get("webhook_headers") or {}),
            "webhook_output_format": value.get("webhook_output_format") or "string",
            "webhook_signing_secret": value.get("webhook_signing_secret"),
        }
        key = json.dumps(config, sort_keys=True)
        if key not in seen:
            seen.add(key)
            found.append(config)

    for source in sources:
        add(source)
    return found


def enqueue(
    conn: Connection,
    batch_id: str,
    webhooks: Iterable[Mapping[str, Any]] | None,
    event: str,
    data: Mapping[str, Any],
) -> int:
    """Insert one outbox row per endpoint subscribed to ``event`` (inside the caller's
    transaction); returns how many."""
    now = utcnow()
    count = 0
    for hook in webhooks or ():
        events = hook.get("webhook_events")
        if events and event not in events:
            continue
        delivery_id = new_id("whd")
        payload = {
            "event_id": delivery_id,
            "event_type": event,
            "job_id": batch_id,
            "timestamp": now.isoformat() + "Z",
            "data": dict(data),
        }
        conn.execute(
            webhook_outbox_table.insert().values(
                id=delivery_id,
                batch_id=batch_id,
                event=event,
                url=hook["webhook_url"],
                headers=hook.get("webhook_headers") or None,
                output_format=hook.get("webhook_output_format") or "string",
                signing_secret=hook.get("webhook_signing_secret"),
                payload=payload,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        count += 1
    return count


def sign(body: bytes, secret: str) -> str:
    """The ``LC-Signature`` value of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookDelivery(BackgroundThread):
    """The delivery loop: a daemon thread POSTing due outbox rows."""

    thread_name = "lamina-webhooks"

    def __init__(
        self,
        db: Database,
        *,
        timeout_seconds: float = 10.0,
        max_attempts: int = 8,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        poll_seconds: float = 0.25,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__()
        self.db = db
        self.timeout_seconds = timeout_seconds
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.poll_seconds = poll_seconds
        self._transport = transport

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_seconds, transport=self._transport) as client:
            while not self._stop.is_set():
                try:
                    sent = self.deliver_due(client)
                except Exception:
                    log.exception("webhook delivery loop error; retrying")
                    sent = 0
                if not sent:
                    self._wake.wait(self.poll_seconds)
                    self._wake.clear()

    def deliver_due(self, client: httpx.Client, limit: int = 20) -> int:
        """Attempt every due row (up to ``limit``); returns how many were attempted."""
        c = webhook_outbox_table.c
        now = utcnow()
        with self.db.begin() as conn:
            rows = [
                dict(r._mapping)
                for r in conn.execute(
                    sa.select(webhook_outbox_table)
                    .where(c.status == "pending", c.next_attempt_at <= now)
                    .order_by(c.next_attempt_at, c.created_at)
                    .limit(limit)
                )
            ]
        for row in rows:
            if self._stop.is_set():
                break
            self._attempt(client, row)
        return len(rows)

    def _attempt(self, client: httpx.Client, row: Row) -> None:
        c = webhook_outbox_table.c
        body_json = json.dumps(row["payload"], separators=(",", ":"), sort_keys=True)
        body = body_json.encode()
        json_format = (row["output_format"] or "string").lower() == "json"
        headers = {
            "Content-Type": "application/json" if json_format else "text/plain; charset=utf-8",
            "User-Agent": "lamina-webhooks",
            DELIVERY_HEADER: row["id"],
            EVENT_HEADER: row["event"],
            **(row["headers"] or {}),
        }
        if row["signing_secret"]:
            headers[SIGNATURE_HEADER] = sign(body, row["signing_secret"])
        error: str | None = None
        try:
            response = client.post(row["url"], content=body, headers=headers)
            if not response.is_success:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        attempts = int(row["attempts"]) + 1
        now = utcnow()
        values: dict[str, Any] = {"attempts": attempts, "last_error": error}
        if error is None:
            values.update(status="delivered", delivered_at=now)
        elif attempts >= self.max_attempts:
            values["status"] = "dead"
            log.warning("webhook %s to %s given up: %s", row["event"], row["url"], error)
        else:
            delay = min(self.base_delay * 2 ** (attempts - 1), self.max_delay)
            values["next_attempt_at"] = now + timedelta(seconds=delay)
        with self.db.begin() as conn:
            conn.execute(
                webhook_outbox_table.update()
                .where(c.id == row["id"], c.status == "pending")
                .values(**values)
            )
