"""Resource limits the engine enforces on one document (pages parsed, image pixels).

The server sets them per job from its settings (``max_pages_per_job``, ``max_image_pixels``);
:func:`lamina.engine.parse_document` applies them for the duration of one call through a
context variable, so the backends read them where they need them without every function
signature carrying them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Final

from lamina.engine.errors import EngineError

#: Largest image (width x height, per frame) decoded by default: a decompression-bomb guard.
DEFAULT_MAX_IMAGE_PIXELS: Final = 100_000_000


class LimitExceededError(EngineError):
    """The document needs more than a configured limit allows (pages, pixels)."""


@dataclass(frozen=True)
class EngineLimits:
    """Per-document limits: ``max_pages`` (None = unlimited) and ``max_image_pixels``."""

    max_pages: int | None = None
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS


_DEFAULT = EngineLimits()
_CURRENT: ContextVar[EngineLimits] = ContextVar(
    "lamina_engine_limits",
    default=_DEFAULT,  # a frozen dataclass, never mutated
)


def current_limits() -> EngineLimits:
    """The limits of the parse running in this context (defaults outside one)."""
    return _CURRENT.get()


@contextmanager
def applied(limits: EngineLimits | None) -> Iterator[EngineLimits]:
    """Make ``limits`` current inside the block (no change when None)."""
    if limits is None:
        yield current_limits()
        return
    token = _CURRENT.set(limits)
    try:
        yield limits
    finally:
        _CURRENT.reset(token)


def check_page_count(selected: int, page_count: int) -> None:
    """Raise :class:`LimitExceededError` when ``selected`` pages are over ``max_pages``."""
    limit = current_limits().max_pages
    if limit is None or selected <= limit:
        return
    raise LimitExceededError(
        f"Too many pages: {selected} of the document's {page_count} pages are selected and this "
        f"server parses at most {limit} pages per job. Choose at most {limit} pages with "
        "page_ranges.target_pages or page_ranges.max_pages, or split the document."
    )
