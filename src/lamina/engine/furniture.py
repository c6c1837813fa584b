"""Running headers and footers, and printed page numbers, found across a document's pages.

A line is page furniture when it sits in the top or bottom margin (``MARGIN`` of the page
height) and either

- the same text, with digits and roman numerals normalised (``Page 3`` = ``Page 4``), is in the
  same margin on several pages (``min_repeats``: 3, or 2 in a two-page document), or
- it is a bare page number (``7``, ``- 7 -``, ``Page 7 of 9``, ``vii``).

A bare number alone in a side margin (the page number of a page read turned) is a footer too
(:func:`side_page_number`).

The printed page number of a page is read from its furniture: a bare page number first, then a
number at the start or end of a running header/footer whose number changes between pages.

Works on :class:`~lamina.engine.layout.Line` objects of every page; only the few lines in the
margins are compared, so the cost is small and independent of the body text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from lamina.engine.layout import Line

MARGIN = 0.1  # share of the page height at the top and the bottom
_MAX_ZONE_LINES = 3  # lines looked at per margin, nearest to the edge first
_MAX_SIZE_RATIO = 1.1  # furniture is set no larger than the body text

_ROMAN = r"(?=[ivxlcdm]+\b)m{0,4}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
_NUMBER = rf"(?:\d{{1,5}}|{_ROMAN})"
_PAGE_NUMBER = re.compile(
    rf"^(?:page\s+|p\.\s*)?[-\u2013\u2014]?\s*(?P<n>{_NUMBER})\s*[-\u2013\u2014]?"
    rf"(?:\s*(?:of|/)\s*\d{{1,5}})?$",
    re.IGNORECASE,
)
_EDGE_NUMBER = re.compile(
    rf"^(?P<a>{_NUMBER})\s+\S|\S\s+(?:page\s+)?(?P<b>{_NUMBER})$", re.IGNORECASE
)
_DIGITS = re.compile(r"\d+")
_ROMAN_TOKEN = re.compile(rf"\b{_ROMAN}\b", re.IGNORECASE)
_SPACE = re.compile(r"\s+")

Zone = Literal["header", "footer"]


@dataclass(slots=True)
class PageFurniture:
    """What :func:`detect` found on one page: line indices by zone, and the printed number."""

    header: list[int] = field(default_factory=list)
    footer: list[int] = field(default_factory=list)
    printed_page_number: str | None = None

    def kind(self, index: int) -> Zone | None:
        if index in self.header:
            return "header"
        if index in self.footer:
            return "footer"
        return None


def normalise(text: str) -> str:
    """Text compared across pages: lower case, numbers (arabic, roman) as ``#``, spaces."""
    text = _DIGITS.sub("#", text.strip().lower())
    text = _ROMAN_TOKEN.sub(lambda m: "#" if m.group() else "", text)
    return _SPACE.sub(" ", text)


def page_number_of(text: str) -> str | None:
    """The number if ``text`` is a bare page number (``7``, ``Page 7 of 9``, ``xii``)."""
    match = _PAGE_NUMBER.match(text.strip())
    if match is None or not match.group("n"):
        return None
    return match.group("n")


def detect(
    pages: Sequence[tuple[float, Sequence[Line]]], body_size: float | None = None
) -> list[PageFurniture]:
    """Furniture of every page; ``pages`` are (page height, lines) in document order.

    With ``body_size``, repeated lines set larger than the body text (a heading that opens
    every page, "Section 3") are not taken for running headers.
    """
    max_size = body_size * _MAX_SIZE_RATIO if body_size else float("inf")
    zones = [
        [(zone, i) for zone, i in _zone_lines(height, lines) if lines[i].size <= max_size]
        for height, lines in pages
    ]
    counts: Counter[tuple[str, str]] = Counter()
    for (_, lines), page_zones in zip(pages, zones, strict=True):
        counts.update({(zone, normalise(lines[i].text)) for zone, i in page_zones})
    min_repeats = 2 if len(pages) == 2 else 3
    out: list[PageFurniture] = []
    for (_, lines), page_zones in zip(pages, zones, strict=True):
        found = PageFurniture()
        numbers: list[tuple[int, str]] = []  # (preference, number)
        for zone, i in page_zones:
            text = lines[i].text.strip()
            bare = page_number_of(text)
            key = normalise(text)
            repeated = counts[(zone, key)] >= min_repeats and len(pages) > 1
            if bare is None and not repeated:
                continue
            (found.header if zone == "header" else found.footer).append(i)
            if bare is not None:
                numbers.append((0, bare))
            elif "#" in key:
                edge = _EDGE_NUMBER.search(text)
                if edge:
                    numbers.append((1, edge.group("a") or edge.group("b")))
        if numbers:
            found.printed_page_number = min(numbers, key=lambda n: n[0])[1]
        out.append(found)
    return out


def side_page_number(width: float, lines: Sequence[Line]) -> int | None:
    """Index of the page number printed in a side margin, if there is one.

    A page read turned (a landscape table printed sideways on a portrait page) has its page
    number at a side; so do some layouts. It is a bare number in the outer ``MARGIN`` of the
    page width, the only one on that side (several are line numbers, or a column of a table).
    """
    if width <= 0:
        return None
    for side in (
        [i for i, ln in enumerate(lines) if ln.x1 <= width * MARGIN],
        [i for i, ln in enumerate(lines) if ln.x0 >= width * (1 - MARGIN)],
    ):
        numbers = [i for i in side if lines[i].text.strip().isdigit()]
        if len(numbers) == 1 and page_number_of(lines[numbers[0]].text):
            return numbers[0]
    return None


def _zone_lines(height: float, lines: Sequence[Line]) -> list[tuple[Zone, int]]:
    """(zone, index) of the lines in the top and bottom margins, nearest the edge first."""
    if height <= 0 or not lines:
        return []
    top = [i for i, ln in enumerate(lines) if ln.bottom <= height * MARGIN]
    bottom = [i for i, ln in enumerate(lines) if ln.top >= height * (1 - MARGIN)]
    top.sort(key=lambda i: lines[i].top)
    bottom.sort(key=lambda i: -lines[i].bottom)
    out: list[tuple[Zone, int]] = [("header", i) for i in top[:_MAX_ZONE_LINES]]
    out += [("footer", i) for i in bottom[:_MAX_ZONE_LINES]]
    return out
