"""Retry, backoff and polling policy: one table per pure function in ``lamina.client._retry``."""

from __future__ import annotations

import email.utils

import pytest

from lamina.client._retry import poll_interval, retry_delay, should_retry_status

NOW = 1_700_000_000.0


def _http_date(offset: float) -> str:
    return email.utils.formatdate(NOW + offset, usegmt=True)


@pytest.mark.parametrize(
    ("retries_taken", "headers", "jitter", "expected"),
    [
        # exponential backoff, no server hint
        (0, None, 0.0, 0.5),
        (1, None, 0.0, 1.0),
        (2, {}, 0.0, 2.0),
        (4, {}, 0.0, 8.0),
        (10, {}, 0.0, 8.0),  # capped
        (10_000, {}, 0.0, 8.0),  # no overflow
        (0, None, 0.999_999, 0.375),  # jitter shortens by up to 25%
        (3, {}, 0.5, 3.5),
        # the server's hint wins when sensible
        (0, {"retry-after-ms": "1500"}, 0.0, 1.5),
        (0, {"retry-after": "3"}, 0.0, 3.0),
        (0, {"Retry-After": "2.5"}, 0.0, 2.5),  # case-insensitive, floats tolerated
        (0, {"retry-after": _http_date(10)}, 0.0, 10.0),  # HTTP date
        (0, {"retry-after-ms": "x", "retry-after": "2"}, 0.0, 2.0),  # bad ms falls through
        (0, {"retry-after-ms": "250", "retry-after": "9"}, 0.0, 0.25),  # ms is more precise
        # ...and is ignored when not sensible
        (1, {"retry-after": "120"}, 0.0, 1.0),  # longer than 60s
        (1, {"retry-after": "0"}, 0.0, 1.0),
        (1, {"retry-after": _http_date(-30)}, 0.0, 1.0),  # date in the past
        (1, {"retry-after": "soon"}, 0.0, 1.0),
    ],
)
def test_retry_delay(
    retries_taken: int, headers: dict[str, str] | None, jitter: float, expected: float
) -> None:
    assert retry_delay(retries_taken, headers, now=NOW, jitter=jitter) == pytest.approx(
        expected, abs=1e-3
    )


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (400, {}, False),
        (401, {}, False),
        (403, {}, False),
        (404, {}, False),
        (408, {}, True),
        (409, {}, True),
        (422, {}, False),
        (429, {}, True),
        (500, {}, True),
        (502, {}, True),
        (503, {}, True),
        (400, {"x-should-retry": "true"}, True),  # the server's word overrides the status
        (503, {"x-should-retry": "false"}, False),
    ],
)
def test_should_retry_status(status: int, headers: dict[str, str], expected: bool) -> None:
    assert should_retry_status(status, headers) is expected


@pytest.mark.parametrize(
    ("polls_done", "maximum", "expected"),
    [
        (0, 2.0, 0.1),
        (1, 2.0, 0.15),
        (2, 2.0, 0.225),
        (20, 2.0, 2.0),
        (10_000, 5.0, 5.0),
        (3, 0.05, 0.05),
    ],
)
def test_poll_interval(polls_done: int, maximum: float, expected: float) -> None:
    assert poll_interval(polls_done, maximum) == pytest.approx(expected)
