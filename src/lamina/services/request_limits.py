"""Caps on what one request may make the server store or do (sizes of stored JSON, list
lengths). Checked by the services, so every route and the embedded mode get the same 422s."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lamina.services.errors import TooManyRequestsError, ValidationFailed


@dataclass(frozen=True)
class RequestLimits:
    """Per-server caps (``ServerSettings``: ``max_metadata_bytes``, ``max_configuration_bytes``,
    ``max_batch_item_ids``)."""

    max_metadata_bytes: int = 16 * 1024
    max_configuration_bytes: int = 1024 * 1024
    max_batch_item_ids: int = 10_000
    max_text_chars: int = 10_000
    """Names, descriptions and ids given by callers."""
    max_queued_jobs_per_project: int = 0
    """Jobs a project may have waiting (0: no limit)."""


def check_queue(pending: int, limit: int) -> None:
    """429 when a project already has ``limit`` jobs waiting."""
    if limit and pending >= limit:
        raise TooManyRequestsError(
            f"This project already has {pending} jobs waiting (the limit is {limit}); wait for "
            "some to finish, or send many files as one batch job.",
            retry_after=5.0,
        )


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact JSON (what the database stores)."""
    try:
        return len(json.dumps(value, separators=(",", ":"), default=str).encode())
    except (TypeError, ValueError, RecursionError):
        return 1 << 62


def check_json_size(value: Any, limit: int, loc: Sequence[str | int], what: str) -> None:
    """422 when ``value`` takes more than ``limit`` bytes as JSON."""
    if value is None:
        return
    size = json_size(value)
    if size > limit:
        raise ValidationFailed.single(
            list(loc),
            f"{what} is too large: {size} bytes as JSON, over the limit of {limit} bytes",
            input=None,
        )


def check_text(value: Any, limit: int, loc: Sequence[str | int], what: str) -> None:
    """422 when a caller's string is longer than ``limit`` characters."""
    if isinstance(value, str) and len(value) > limit:
        raise ValidationFailed.single(
            list(loc), f"{what} is longer than {limit} characters", input=value[:100]
        )
