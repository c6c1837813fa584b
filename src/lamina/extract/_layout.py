"""The page as a layout: visual rows built from the parse's positioned lines.

A parse (OCR above all) often cuts one printed row into several lines: ``TOTAL AMT.`` on the
left, ``RM`` in the middle and ``60.31`` on the right come back as three text items, sometimes
far apart in reading order. Rows put them together again: lines whose boxes share a band of the
page are joined left to right. Each row keeps where every piece came from, so a value found in a
row can still be cited with its own line and box.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from lamina.extract._document import Box, Document, Line, span_box

GAP = "  "
"""What separates two pieces of a row in its text (two spaces: a visible column gap)."""


@dataclass
class Row:
    """One visual row of a page: its pieces left to right and their joined text."""

    page: int
    pieces: list[Line]
    starts: list[int] = field(default_factory=list)
    """Where each piece starts in :attr:`text`."""
    text: str = ""
    index: int = 0
    """Position among the document's rows, top to bottom, page by page."""

    @classmethod
    def of(cls, page: int, pieces: list[Line]) -> Row:
        row = cls(page, sorted(pieces, key=lambda ln: ln.box[0] if ln.box else 0.0))
        parts: list[str] = []
        at = 0
        for piece in row.pieces:
            row.starts.append(at)
            parts.append(piece.text)
            at += len(piece.text) + len(GAP)
        row.text = GAP.join(parts)
        return row

    @property
    def box(self) -> Box | None:
        boxes = [p.box for p in self.pieces if p.box is not None]
        if not boxes:
            return None
        x0 = min(b[0] for b in boxes)
        y0 = min(b[1] for b in boxes)
        x1 = max(b[0] + b[2] for b in boxes)
        y1 = max(b[1] + b[3] for b in boxes)
        return (x0, y0, x1 - x0, y1 - y0)

    @property
    def height(self) -> float:
        heights = [p.box[3] for p in self.pieces if p.box is not None]
        return max(heights) if heights else 0.0

    def locate(self, start: int, end: int) -> list[tuple[Line, tuple[int, int], Box | None]]:
        """The pieces covering characters ``start:end`` of the row's text, each with its own
        character span and the part of its box under those characters."""
        out = []
        for piece, at in zip(self.pieces, self.starts, strict=True):
            lo, hi = max(start, at), min(end, at + len(piece.text))
            if lo < hi:
                span = (lo - at, hi - at)
                out.append((piece, span, span_box(piece, span)))
        return out


@dataclass
class Layout:
    """The rows of a document and a few page-wide measures."""

    rows: list[Row]
    body_height: float
    """The median row height: what "large type" is measured against."""

    def position(self, row: Row) -> float:
        """0 at the top of the document's first page, 1 at the bottom of its last page, by row
        order (robust to OCR pages of any size)."""
        if len(self.rows) <= 1:
            return 0.0
        return row.index / (len(self.rows) - 1)


def build_layout(doc: Document) -> Layout:
    """Group the document's lines into rows, page by page, top to bottom."""
    rows: list[Row] = []
    for number in sorted(doc.pages):
        lines = [ln for ln in doc.lines if ln.page == number]
        placed = [ln for ln in lines if ln.box is not None]
        loose = [ln for ln in lines if ln.box is None]
        for group in _bands(placed):
            rows.append(Row.of(number, group))
        rows.extend(Row.of(number, [ln]) for ln in loose)
    for i, row in enumerate(rows):
        row.index = i
    heights = [r.height for r in rows if r.height > 0]
    return Layout(rows, statistics.median(heights) if heights else 0.0)


def _bands(lines: list[Line]) -> list[list[Line]]:
    """Lines whose vertical extents overlap by at least half the smaller height share a row;
    a line never joins a row it would overlap horizontally (two lines of a column stay two)."""
    order = sorted(lines, key=lambda ln: _mid(ln))
    groups: list[list[Line]] = []
    for line in order:
        assert line.box is not None
        best: list[Line] | None = None
        for group in groups[-3:]:
            if _shares_band(group, line) and not _collides(group, line):
                best = group
        if best is None:
            groups.append([line])
        else:
            best.append(line)
    groups.sort(key=lambda g: min(_mid(ln) for ln in g))
    return groups


def _mid(line: Line) -> float:
    assert line.box is not None
    return line.box[1] + line.box[3] / 2


def _shares_band(group: list[Line], line: Line) -> bool:
    assert line.box is not None
    top = statistics.fmean(g.box[1] for g in group if g.box)
    bottom = statistics.fmean(g.box[1] + g.box[3] for g in group if g.box)
    height = min(bottom - top, line.box[3])
    overlap = min(bottom, line.box[1] + line.box[3]) - max(top, line.box[1])
    return height > 0 and overlap >= 0.5 * height


def _collides(group: list[Line], line: Line) -> bool:
    assert line.box is not None
    x0, x1 = line.box[0], line.box[0] + line.box[2]
    for other in group:
        assert other.box is not None
        ox0, ox1 = other.box[0], other.box[0] + other.box[2]
        if min(x1, ox1) - max(x0, ox0) > 0.3 * min(x1 - x0, ox1 - ox0):
            return True
    return False
