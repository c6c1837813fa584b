"""Which pages to parse: ``page_ranges.target_pages`` and ``page_ranges.max_pages``."""

from __future__ import annotations

import re

from lamina.engine.errors import InvalidOptionError
from lamina.engine.limits import check_page_count
from lamina.types import PageRanges

_PART = re.compile(r"^\s*(\d{1,15})\s*(?:-\s*(\d{1,15})\s*)?$")


def parse_target_pages(spec: str, upto: int | None = None) -> list[int]:
    """The 1-based page numbers named by ``spec`` ("1,3,5-7"), sorted and without repeats.

    With ``upto``, pages after it are dropped while reading (so "1-999999999" costs nothing);
    ``upto=0`` only validates. Raises :class:`InvalidOptionError` for anything that is not a
    comma list of page numbers and ascending ranges starting at 1.
    """
    if len(spec) > 10_000:
        raise InvalidOptionError("target_pages is too long (over 10,000 characters).")
    if not spec or not spec.strip():
        raise InvalidOptionError("target_pages is empty: give page numbers like '1,3,5-7'.")
    pages: set[int] = set()
    for part in spec.split(","):
        match = _PART.match(part)
        if match is None:
            raise InvalidOptionError(
                f"target_pages {spec!r} is not valid: {part.strip()!r} is not a page number or "
                "a range like '5-7' (pages are 1-based, separated by commas)."
            )
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if first < 1:
            raise InvalidOptionError(
                f"target_pages {spec!r} is not valid: pages are numbered from 1, not 0."
            )
        if last < first:
            raise InvalidOptionError(
                f"target_pages {spec!r} is not valid: the range {first}-{last} goes backwards."
            )
        if upto is not None:
            last = min(last, upto)
        pages.update(range(first, last + 1))
    return sorted(pages)


def select_pages(page_count: int, page_ranges: PageRanges | None) -> list[int]:
    """The 1-based page numbers to parse, in document order.

    Requested pages past the end of the document are ignored, so "1-10" on a 3-page file parses
    pages 1 to 3; a selection that keeps no page at all is an error. ``max_pages`` keeps the
    first N selected pages.
    """
    selected = list(range(1, page_count + 1))
    if page_ranges is not None and page_ranges.target_pages is not None:
        wanted = parse_target_pages(page_ranges.target_pages, upto=page_count)
        selected = [p for p in wanted if p <= page_count]
        if not selected and page_count > 0:
            raise InvalidOptionError(
                f"target_pages {page_ranges.target_pages!r} selects no page: the document has "
                f"{page_count} page{'s' if page_count != 1 else ''}."
            )
    if page_ranges is not None and page_ranges.max_pages is not None:
        if page_ranges.max_pages < 1:
            raise InvalidOptionError("max_pages must be at least 1.")
        selected = selected[: page_ranges.max_pages]
    check_page_count(len(selected), page_count)
    return selected
