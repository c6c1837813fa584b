"""Webhooks of batch jobs: an outbox table written with the status change, and a delivery loop.

A webhook configuration is checked when the batch is created (:func:`resolve_webhooks`, 422 on
anything malformed): an http(s) URL that is not a refused address under the outbound policy,
string events, string headers that are neither hop-by-hop, ``Host`` nor Lamina's own, a known
output format. An event is a row of ``webhook_outbox`` per subscribed endpoint, inserted in the
same transaction as the status change it reports, so an event is never lost and never invented.

The :class:`WebhookDelivery` thread hands due rows to a pool of delivery threads
(``concurrency`` at once, at most ``project_concurrency`` per project, so one project's slow
receivers never hold up another's). Each delivery is isolated: whatever goes wrong fails that
delivery only. A 2xx marks the row delivered; a transient failure (network, non-2xx) schedules a
retry with exponential backoff (``base_delay * 2**attempts``, capped) until ``max_attempts``,
then the row is ``dead`` (the dead-letter state, kept with its ``last_error``); a permanent
failure (an unusable stored configuration, an address the outbound policy refuses) is ``dead``
at once. Requests go through :class:`~lamina.services.outbound.OutboundClient`: the address
policy of ``source_url`` fetches, no redirects followed, a total time limit per attempt.

A crash between the POST and the ``delivered`` mark re-sends that event after restart: delivery
is at least once; each request carries ``X-Lamina-Delivery`` (the row id) so a receiver can
drop duplicates.

Signing: with ``webhook_signing_secret`` each request has ``LC-Signature: sha256=<hex>``, the
HMAC-SHA256 of the raw body with the secret (as the official SDK documents).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lamina.services.errors import ValidationFailed
from lamina.services.outbound import (
    Deadline,
    OutboundClient,
    OutboundDenied,
    OutboundError,
    OutboundPolicy,
    check_url_at_door,
)
from lamina.services.runtime.background import BackgroundThread
from lamina.services.store.db import Database, Row, new_id, utcnow
from lamina.services.store.tables import batch_jobs_table, webhook_outbox_table

log = logging.getLogger("lamina.webhooks")

SIGNATURE_HEADER = "LC-Signature"
DELIVERY_HEADER = "X-Lamina-Delivery"
EVENT_HEADER = "X-Lamina-Event"

MAX_WEBHOOKS = 10
"""Webhook configurations one batch may have."""
MAX_EVENTS = 64
MAX_HEADERS = 32
MAX_HEADER_VALUE = 4096
MAX_SECRET = 1024
OUTPUT_FORMATS = ("string", "json")
DENIED_HEADERS = frozenset(
    {
        # hop-by-hop and framing: only the HTTP client may set them
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "expect",
        # where the request goes is the URL's business
        "host",
        # Lamina's own: a receiver must be able to trust them
        SIGNATURE_HEADER.lower(),
        DELIVERY_HEADER.lower(),
        EVENT_HEADER.lower(),
    }
)
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$")


class PermanentDeliveryError(Exception):
    """A delivery that can never succeed as stored (retrying would not help)."""


def check_webhook(
    value: Any, loc: Sequence[str | int], policy: OutboundPolicy
) -> dict[str, Any] | None:
    """One webhook configuration (a URL string or a mapping) checked and normalised; None when
    it names no URL. Raises :class:`ValidationFailed` with ``loc`` pointing at the problem."""
    where = list(loc)
    if isinstance(value, str):
        value = {"webhook_url": value}
        url_loc = where
    elif isinstance(value, Mapping):
        url_loc = [*where, "webhook_url"]
    else:
        bare = bool(where) and where[-1] == "webhook_url"
        raise ValidationFailed.single(
            where,
            "webhook_url must be a string" if bare else "A webhook configuration must be an object",
            input=value,
            type="string_type" if bare else "dict_type",
        )
    url = value.get("webhook_url")
    if url is None or url == "":
        return None
    if not isinstance(url, str):
        raise ValidationFailed.single(url_loc, "webhook_url must be a string", input=url)
    try:
        url = check_url_at_door(url, policy, what="webhook_url")
    except ValueError as exc:
        raise ValidationFailed.single(url_loc, str(exc), input=url) from exc
    return {
        "webhook_url": url,
        "webhook_events": _check_events(value.get("webhook_events"), [*where, "webhook_events"]),
        "webhook_headers": check_headers(value.get("webhook_headers"), [*where, "webhook_headers"]),
        "webhook_output_format": _check_format(
            value.get("webhook_output_format"), [*where, "webhook_output_format"]
        ),
        "webhook_signing_secret": _check_secret(
            value.get("webhook_signing_secret"), [*where, "webhook_signing_secret"]
        ),
    }


def _check_events(events: Any, loc: list[str | int]) -> list[str] | None:
    if events is None:
        return None
    if not isinstance(events, list) or len(events) > MAX_EVENTS:
        raise ValidationFailed.single(
            loc, f"webhook_events must be a list of at most {MAX_EVENTS} names", input=events
        )
    for i, event in enumerate(events):
        if not isinstance(event, str) or not 0 < len(event) <= 100:
            raise ValidationFailed.single([*loc, i], "An event must be a name", input=event)
    return list(events) or None


def check_headers(headers: Any, loc: Sequence[str | int]) -> dict[str, str]:
    """Custom webhook headers: names are tokens, values single-line strings; hop-by-hop
    headers, ``Host`` and Lamina's own are refused."""
    if headers is None:
        return {}
    where = list(loc)
    if not isinstance(headers, Mapping) or len(headers) > MAX_HEADERS:
        raise ValidationFailed.single(
            where,
            f"webhook_headers must be an object of at most {MAX_HEADERS} string headers",
            input=headers,
        )
    clean: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise ValidationFailed.single(
                [*where, str(name)], "Not a valid HTTP header name", input=name
            )
        if name.lower() in DENIED_HEADERS:
            raise ValidationFailed.single(
                [*where, name],
                f"The {name} header cannot be set on webhooks (hop-by-hop, Host and Lamina's "
                "own headers are set by the server)",
                input=name,
            )
        if not isinstance(value, str):
            raise ValidationFailed.single(
                [*where, name], "Header values must be strings", input=value, type="string_type"
            )
        if len(value) > MAX_HEADER_VALUE or any(c in value for c in "\r\n\x00"):
            raise ValidationFailed.single(
                [*where, name],
                f"Header values must be one line of at most {MAX_HEADER_VALUE} characters",
                input=value[:200],
            )
        clean[name] = value
    return clean


def _check_format(value: Any, loc: list[str | int]) -> str:
    if value is None or value == "":
        return "string"
    if not isinstance(value, str) or value.lower() not in OUTPUT_FORMATS:
        raise ValidationFailed.single(
            loc, "webhook_output_format must be 'string' or 'json'", input=value
        )
    return value.lower()


def _check_secret(value: Any, loc: list[str | int]) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_SECRET:
        raise ValidationFailed.single(
            loc, f"webhook_signing_secret must be a string of at most {MAX_SECRET}", input=None
        )
    return value


def resolve_webhooks(
    *sources: tuple[Sequence[str | int], Any], policy: OutboundPolicy | None = None
) -> list[dict[str, Any]]:
    """Webhook configurations from every place a request may put them, checked, without
    duplicates. Each source is ``(loc, value)``: a URL string, a configuration mapping, or a
    list of either; ``loc`` is where it sits in the request (for 422 details)."""
    policy = policy or OutboundPolicy()
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    for loc, value in sources:
        if value is None:
            continue
        if isinstance(value, list | tuple):
            entries = [([*loc, i], item) for i, item in enumerate(value)]
        else:
            entries = [(list(loc), value)]
        for where, item in entries:
            config = check_webhook(item, where, policy)
            if config is None:
                continue
            key = json.dumps(config, sort_keys=True)
            if key not in seen:
                seen.add(key)
                found.append(config)
            if len(found) > MAX_WEBHOOKS:
                raise ValidationFailed.single(
                    list(loc), f"At most {MAX_WEBHOOKS} webhooks per batch", input=None
                )
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
        if not isinstance(hook, Mapping) or not isinstance(hook.get("webhook_url"), str):
            continue  # stored unchecked by an older version: nothing to deliver to
        events = hook.get("webhook_events")
        if isinstance(events, list) and events and event not in events:
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
    """The delivery loop: a daemon thread handing due outbox rows to delivery threads."""

    thread_name = "lamina-webhooks"

    def __init__(
        self,
        db: Database,
        *,
        policy: OutboundPolicy | None = None,
        timeout_seconds: float = 10.0,
        max_attempts: int = 8,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        poll_seconds: float = 0.25,
        concurrency: int = 16,
        project_concurrency: int = 4,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__()
        self.db = db
        self.timeout_seconds = timeout_seconds
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.poll_seconds = poll_seconds
        self.concurrency = concurrency
        self.project_concurrency = project_concurrency
        self.client = OutboundClient(
            policy or OutboundPolicy(),
            user_agent="lamina-webhooks",
            per_read_timeout=timeout_seconds,
            transport=transport,
        )
        self._lock = threading.Lock()
        # row id → (project, (batch id, url))
        self._in_flight: dict[str, tuple[str, tuple[str, str]]] = {}

    def _run(self) -> None:
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="lamina-webhook") as pool:
            while not self._stop.is_set():
                try:
                    started = self.dispatch_due(pool)
                except Exception:
                    log.exception("webhook delivery loop error; retrying")
                    started = 0
                if not started:
                    self._wake.wait(self.poll_seconds)
                    self._wake.clear()

    def dispatch_due(self, pool: ThreadPoolExecutor) -> int:
        """Start deliveries of due rows within the bounds; returns how many were started."""
        with self._lock:
            free = self.concurrency - len(self._in_flight)
            busy_ids = list(self._in_flight)
            per_project = Counter(project for project, _ in self._in_flight.values())
            endpoints = {endpoint for _, endpoint in self._in_flight.values()}
        if free <= 0:
            return 0
        full = [p for p, n in per_project.items() if n >= self.project_concurrency]
        rows = self._due(busy_ids, full, free * 4, endpoints)
        started = 0
        for row in rows:
            if started >= free or self._stop.is_set():
                break
            project = str(row.get("project_id") or "")
            # One delivery at a time per batch and endpoint, oldest first: a receiver sees a
            # batch's events in order (unless a retry intervenes).
            endpoint = (str(row.get("batch_id")), str(row.get("url")))
            if per_project[project] >= self.project_concurrency or endpoint in endpoints:
                continue
            per_project[project] += 1
            endpoints.add(endpoint)
            with self._lock:
                self._in_flight[row["id"]] = (project, endpoint)
            pool.submit(self._deliver, row)
            started += 1
        return started

    def _due(
        self,
        busy_ids: list[str],
        full_projects: list[str],
        limit: int,
        busy_endpoints: Iterable[tuple[str, str]],
    ) -> list[Row]:
        c, b = webhook_outbox_table.c, batch_jobs_table.c
        query = (
            sa.select(webhook_outbox_table, b.project_id)
            .select_from(webhook_outbox_table.outerjoin(batch_jobs_table, b.id == c.batch_id))
            .where(c.status == "pending", c.next_attempt_at <= utcnow())
            .order_by(c.next_attempt_at, c.created_at)
            .limit(limit)
        )
        if busy_ids:
            query = query.where(c.id.not_in(busy_ids))
        for batch_id, url in busy_endpoints:
            query = query.where(sa.not_(sa.and_(c.batch_id == batch_id, c.url == url)))
        if full_projects:
            query = query.where(sa.or_(b.project_id.is_(None), b.project_id.not_in(full_projects)))
        with self.db.begin() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def _deliver(self, row: Row) -> None:
        try:
            self.attempt(row)
        except Exception:  # recording the outcome failed (database busy): retried later
            log.exception("webhook %s: could not record the delivery outcome", row.get("id"))
        finally:
            with self._lock:
                self._in_flight.pop(row["id"], None)
            self.wake()

    def attempt(self, row: Row) -> None:
        """POST one row and record the outcome; never raises for anything about the row."""
        error: str | None = None
        permanent = False
        try:
            self._post(row)
        except PermanentDeliveryError as exc:
            error, permanent = str(exc), True
        except OutboundDenied as exc:
            error, permanent = str(exc), True
        except OutboundError as exc:
            error = str(exc)
        except Exception as exc:  # anything else about this row fails this row only
            log.warning("webhook %s failed unexpectedly", row.get("id"), exc_info=True)
            error, permanent = f"{type(exc).__name__}: {exc}", True
        self._record(row, error, permanent=permanent)

    def _post(self, row: Row) -> None:
        try:
            headers = check_headers(row.get("headers"), ["headers"])
            url = row["url"]
            if not isinstance(url, str):
                raise ValueError("webhook_url is not a string")
        except (ValidationFailed, ValueError) as exc:
            message = exc.message if isinstance(exc, ValidationFailed) else str(exc)
            raise PermanentDeliveryError(f"Unusable webhook configuration: {message}") from None
        body = json.dumps(row["payload"], separators=(",", ":"), sort_keys=True).encode()
        json_format = str(row.get("output_format") or "string").lower() == "json"
        headers = {
            **headers,
            "Content-Type": "application/json" if json_format else "text/plain; charset=utf-8",
            DELIVERY_HEADER: str(row["id"]),
            EVENT_HEADER: str(row["event"]),
        }
        if row.get("signing_secret"):
            headers[SIGNATURE_HEADER] = sign(body, str(row["signing_secret"]))
        try:
            with self.client.stream(
                "POST",
                url,
                deadline=Deadline(self.timeout_seconds),
                headers=headers,
                content=body,
            ) as response:
                if not response.is_success:
                    raise OutboundError(f"HTTP {response.status_code}")
        except ValueError as exc:  # the URL itself (stored by an older version)
            raise PermanentDeliveryError(f"Unusable webhook_url: {exc}") from None

    def _record(self, row: Row, error: str | None, *, permanent: bool) -> None:
        c = webhook_outbox_table.c
        attempts = int(row.get("attempts") or 0) + 1
        now = utcnow()
        values: dict[str, Any] = {"attempts": attempts, "last_error": error}
        if error is None:
            values.update(status="delivered", delivered_at=now)
        elif permanent or attempts >= self.max_attempts:
            values["status"] = "dead"
            log.warning("webhook %s (%s) given up: %s", row["id"], row.get("event"), error)
        else:
            delay = min(self.base_delay * 2 ** (attempts - 1), self.max_delay)
            values["next_attempt_at"] = now + timedelta(seconds=delay)
        with self.db.begin() as conn:
            conn.execute(
                webhook_outbox_table.update()
                .where(c.id == row["id"], c.status == "pending")
                .values(**values)
            )
