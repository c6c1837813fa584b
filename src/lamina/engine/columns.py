"""Reading order of multi-column pages, from whitespace gutters between lines.

Works on :class:`~lamina.engine.layout.Line` objects (boxes on the displayed page, origin
top-left), before lines are grouped into blocks, so that a paragraph's lines arrive together
even when the PDF's content order interleaves two columns.

The method is a gutter search, a close relative of the XY-cut:

1. Count, for every 2-point strip of the page's width, how many lines cover it. A *gutter* is
   a run of strips, at least ``_MIN_GUTTER`` wide, covered by no more than a small share of the
   lines, with text on both sides.
2. The gutter must be real: lines on its left and lines on its right sit side by side (overlap
   vertically) at least ``_MIN_SIDE_BY_SIDE`` times, both columns are wide (each at least
   ``_MIN_COLUMN_SHARE`` of the text width) and hold prose (median line of
   ``_MIN_MEDIAN_CHARS`` or more characters). This keeps tables (narrow columns of short cells)
   and single-column pages (no side-by-side lines) as they are.
3. Lines that cross the gutter (titles, full-width figures' captions) *span*: they cut the page
   into sections, read top to bottom. Inside a section, the left column is read before the
   right one, each ordered recursively (a three-column page has a second gutter on one side).

Pages without a gutter keep the order they came in, so single-column output is unchanged.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lamina.engine.layout import Line

_BIN = 2.0  # points per strip of the coverage histogram
_MIN_GUTTER = 6.0  # points: narrower gaps are word or cell spacing
_MAX_CROSSING_SHARE = 0.2  # share of lines that may cross a gutter (spanning lines)
_MIN_SIDE_BY_SIDE = 3  # left/right line pairs at the same height that prove two columns
_MIN_COLUMN_SHARE = 0.2  # each column at least this share of the text's width
_MIN_MEDIAN_CHARS = 15  # prose columns have long lines; table columns have short cells
_MAX_DEPTH = 4  # nested splits (a three-column page needs two)


def order_lines(lines: Sequence[Line]) -> tuple[list[Line], bool]:
    """Lines in reading order, and whether a column layout was found.

    Without columns the lines are returned in the order given.
    """
    ordered = _order(list(lines), 0)
    if ordered is None:
        return list(lines), False
    return ordered, True


def _order(lines: list[Line], depth: int) -> list[Line] | None:
    """The lines in column order, or None when they form no columns."""
    if depth >= _MAX_DEPTH or len(lines) < 2 * _MIN_SIDE_BY_SIDE:
        return None
    gutter = _find_gutter(lines)
    if gutter is None:
        return None
    g0, g1 = gutter
    out: list[Line] = []
    left: list[Line] = []
    right: list[Line] = []

    def flush() -> None:
        for side in (left, right):
            if side:
                inner = _order(side, depth + 1)
                out.extend(inner if inner is not None else _top_down(side))
                side.clear()

    for line in _top_down(lines):
        if line.x1 <= g0 + 0.5:
            left.append(line)
        elif line.x0 >= g1 - 0.5:
            right.append(line)
        else:  # spans the gutter: ends the section above it
            flush()
            out.append(line)
    flush()
    return out


def _top_down(lines: Sequence[Line]) -> list[Line]:
    return sorted(lines, key=lambda ln: (round(ln.top, 1), ln.x0))


def _find_gutter(lines: Sequence[Line]) -> tuple[float, float] | None:
    """The most convincing gutter (x0, x1) among the lines, or None."""
    left_edge = min(ln.x0 for ln in lines)
    right_edge = max(ln.x1 for ln in lines)
    width = right_edge - left_edge
    if width <= 0:
        return None
    bins = int(width / _BIN) + 1
    delta = [0] * (bins + 1)
    for ln in lines:
        delta[int((ln.x0 - left_edge) / _BIN)] += 1
        delta[min(bins - 1, int((ln.x1 - left_edge) / _BIN)) + 1] -= 1
    cover = list(itertools.accumulate(delta[:bins]))
    limit = max(1, int(len(lines) * _MAX_CROSSING_SHARE))
    best: tuple[int, tuple[float, float]] | None = None
    i = 0
    while i < bins:
        if cover[i] > limit:
            i += 1
            continue
        j = i
        while j < bins and cover[j] <= limit:
            j += 1
        # Strips i..j-1 are sparsely covered: the gutter is their longest least-covered part.
        low = min(cover[i:j])
        a, b = i, i
        k = i
        while k < j:
            if cover[k] != low:
                k += 1
                continue
            m = k
            while m < j and cover[m] == low:
                m += 1
            if m - k > b - a:
                a, b = k, m
            k = m
        g0 = left_edge + a * _BIN
        g1 = left_edge + b * _BIN
        if g1 - g0 >= _MIN_GUTTER and i > 0 and j < bins:
            score = _gutter_score(lines, g0, g1, left_edge, right_edge)
            if score and (best is None or score > best[0]):
                best = (score, (g0, g1))
        i = j
    return best[1] if best else None


def _gutter_score(
    lines: Sequence[Line], g0: float, g1: float, left_edge: float, right_edge: float
) -> int:
    """Side-by-side line pairs across the gutter; 0 if it does not separate prose columns."""
    left = [ln for ln in lines if ln.x1 <= g0 + 0.5]
    right = [ln for ln in lines if ln.x0 >= g1 - 0.5]
    if len(left) < _MIN_SIDE_BY_SIDE or len(right) < _MIN_SIDE_BY_SIDE:
        return 0
    width = right_edge - left_edge
    if (g0 - left_edge) < _MIN_COLUMN_SHARE * width or (
        right_edge - g1
    ) < _MIN_COLUMN_SHARE * width:
        return 0
    for side in (left, right):
        if statistics.median(len(ln.text) for ln in side) < _MIN_MEDIAN_CHARS:
            return 0
    pairs = 0
    right_sorted = sorted(right, key=lambda ln: ln.top)
    for ln in left:
        for other in right_sorted:
            if other.top >= ln.bottom:
                break
            if other.bottom > ln.top:
                pairs += 1
                break
    return pairs if pairs >= _MIN_SIDE_BY_SIDE else 0
