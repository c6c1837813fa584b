"""When to retry a request, how long to wait, and how often to poll a job: pure functions.

Nothing here sleeps, reads the clock or draws random numbers; callers pass ``now`` and
``jitter`` in, so one table of cases pins the behaviour (``tests/client/test_retry.py``).
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping

RETRYABLE_STATUS = frozenset({408, 409, 429})
"""Statuses worth another try besides 5xx: request timeout, lock conflict, rate limit."""

INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0
"""A server's ``Retry-After`` longer than this is ignored in favour of our own backoff."""

INITIAL_POLL_INTERVAL = 0.1
POLL_GROWTH = 1.5


def should_retry_status(status_code: int, headers: Mapping[str, str]) -> bool:
    """Whether a response with this status deserves another try.

    An ``x-should-retry: true|false`` header from the server overrides the status rule.
    """
    override = _header(headers, "x-should-retry")
    if override == "true":
        return True
    if override == "false":
        return False
    return status_code in RETRYABLE_STATUS or status_code >= 500


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asks us to wait, or ``None`` if it does not say.

    Reads ``retry-after-ms`` (milliseconds), then ``Retry-After`` as seconds or as an HTTP date
    (relative to ``now``, a POSIX timestamp).
    """
    millis = _header(headers, "retry-after-ms")
    if millis is not None:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = _header(headers, "retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return float(email.utils.mktime_tz(parsed)) - now


def backoff_delay(retries_taken: int, jitter: float) -> float:
    """Exponential backoff: 0.5s, 1s, 2s, 4s, 8s (capped), shortened by up to 25% of jitter.

    ``retries_taken`` counts retries already made (0 before the first retry); ``jitter`` is a
    number in ``[0, 1)``, random in real use.
    """
    base = min(INITIAL_RETRY_DELAY * 2.0 ** min(retries_taken, 32), MAX_RETRY_DELAY)
    return max(base * (1 - 0.25 * jitter), 0.0)


def retry_delay(
    retries_taken: int, headers: Mapping[str, str] | None, *, now: float, jitter: float
) -> float:
    """Seconds to wait before the next try: the server's ``Retry-After`` when it is sensible
    (0 < value <= 60s), else :func:`backoff_delay`."""
    if headers is not None:
        asked = parse_retry_after(headers, now)
        if asked is not None and 0 < asked <= MAX_RETRY_AFTER:
            return asked
    return backoff_delay(retries_taken, jitter)


def poll_interval(polls_done: int, maximum: float) -> float:
    """Seconds between job status polls: 0.1s growing by 1.5x per poll, capped at ``maximum``.

    Short jobs are seen finishing quickly; long ones are not polled more than needed.
    """
    return min(INITIAL_POLL_INTERVAL * POLL_GROWTH ** min(polls_done, 64), maximum)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup that also works for plain dicts."""
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if key.lower() == name:
                return candidate.strip()
        return None
    return value.strip()
