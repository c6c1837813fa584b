"""Resource limits the engine enforces on one document (pages parsed, image pixels).

The server sets them per job from its settings (``max_pages_per_job``, ``max_image_pixels``);
:func:`lamina.engine.parse_document` applies them for the duration of one call through a
context variable, so the backends read them where they need them without every function
signature carrying them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Final

from lamina.engine.errors import EngineError

#: Largest image (width x height, per frame) decoded by default: a decompression-bomb guard.
DEFAULT_MAX_IMAGE_PIXELS: Final = 100_000_000
#: Lowest resolution a page render is scaled down to before the page fails instead.
MIN_RENDER_DPI: Final = 10.0


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


def render_scale(
    width_pt: float, height_pt: float, dpi: float, *, max_pixels: int | None = None
) -> float:
    """The scale (pixels per point) to render a ``width_pt`` x ``height_pt`` page at ``dpi``,
    lowered so the bitmap stays within ``max_pixels`` (default: the current
    ``max_image_pixels``). Every page render goes through here (OCR, screenshots, layout
    models), so a tiny PDF with a huge page cannot ask for gigabytes.

    Raises :class:`LimitExceededError` when even :data:`MIN_RENDER_DPI` is over the limit.
    """
    limit = max_pixels if max_pixels is not None else current_limits().max_image_pixels
    width, height = max(float(width_pt), 1.0), max(float(height_pt), 1.0)
    scale = dpi / 72.0

    def pixels(s: float) -> int:
        return math.ceil(width * s) * math.ceil(height * s)

    if pixels(scale) > limit:
        scale = math.sqrt(limit / (width * height))
        while scale > 0 and pixels(scale) > limit:  # rounding up may still cross it
            scale *= 0.995
    if scale * 72.0 < MIN_RENDER_DPI:
        raise LimitExceededError(
            f"The page is too large to render: {width:g} x {height:g} pt would need more than "
            f"the limit of {limit} pixels even at {MIN_RENDER_DPI:g} dpi."
        )
    return scale
