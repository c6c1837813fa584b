"""Tables from positioned words and ruling lines: ruled grids and aligned text columns.

Format-independent like :mod:`lamina.engine.layout`: the input is a page's
:class:`~lamina.engine.layout.Line` objects (with word boxes, ``Line.words``) and its
horizontal/vertical ruling segments (from the PDF's vector paths), all in points with origin
top-left. The output is :class:`FoundTable` objects: rows of cell text (header first), the
table's box, and which lines the table used (they leave the paragraphs).

Three sources of evidence, strongest first:

1. **Ruled grids.** Segments are snapped (same y or x within ``_SNAP``), joined where they touch
   and grouped into connected components. A component with at least three distinct vertical
   and three distinct horizontal rules is a grid: its rules are the cell borders, words go to
   the cell under their centre; a word in a merged cell (a rule missing) stays in the first
   cell of the span.
2. **Partly ruled tables** (booktabs style: top, middle and bottom rules only; or just a frame).
   Rules of the same extent bound a region; columns come from whitespace gaps between the
   words of the region (step 3's column finder) and rows from text lines. Accepted only with
   at least two columns and two rows.
3. **Unruled tables.** Runs of at least ``_MIN_ROWS`` consecutive lines that each break into
   two or more chunks at wide gaps, whose chunks line up in common columns (every column
   boundary is a gap no word of the run crosses), with short cells (not prose) and not a list.
   Right-to-left lines are left out (justified Arabic has wide gaps inside sentences).

``parse_concerns`` carry ``inconsistent_row_cell_count`` when rows fill very different numbers
of cells.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lamina.engine.layout import Line

Segment = tuple[float, float, float, float]  # x0, y0, x1, y1 on the displayed page
Box = tuple[float, float, float, float]  # x0, top, x1, bottom

_SNAP = 2.0  # points: rules this close are the same rule
_MIN_RULE = 4.0  # points: shorter segments are glyph pieces or ticks
_MAX_SEGMENTS = 4000  # pages with more are drawings (charts, maps): no ruled tables
_GAP_EM = 0.75  # a gap this wide (times the font size) separates cells, not words
_MIN_GAP = 4.0  # points
_FRAME_SHARE = 3  # a grid with fewer cells than a third of its slots is a frame around text
_MIN_ROWS = 3  # unruled tables need at least this many rows
_MAX_MEAN_CELL_CHARS = 30  # longer cells are prose in columns, not a table
_PROSE_CELL_CHARS = 20  # columns whose median cell is this long hold running text
_MAX_ROW_GAP_EM = 2.6  # rows of one unruled table are at most this far apart
_MAX_HEADER_ROWS = 3  # header rows whose words may bridge the body's column gaps
# Right-to-left scripts: justified Arabic/Hebrew lines have wide gaps that are not cells.
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


@dataclass(slots=True)
class FoundTable:
    """A table on a page: rows (header first), its box, and the indices of the lines used."""

    rows: list[list[str]]
    bbox: tuple[float, float, float, float]  # x0, top, x1, bottom
    lines: set[int] = field(default_factory=set)
    concerns: list[tuple[str, str]] = field(default_factory=list)
    # Per cell of ``rows``: the union of its words' boxes (x0, top, x1, bottom), None if empty.
    cells: list[list[Box | None]] = field(default_factory=list)
    ruled: bool = False  # drawn as a grid of rules (not stitched with its neighbours)
    banded: bool = False  # rows between horizontal rules only (no column rules)


@dataclass(slots=True)
class _Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    line: int

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2


def find_tables(lines: Sequence[Line], segments: Sequence[Segment]) -> list[FoundTable]:
    """Tables on one page, in top-to-bottom order; lines without words are ignored."""
    words = [
        _Word(text, x0, x1, ln.top, ln.bottom, i)
        for i, ln in enumerate(lines)
        if not ln.mono
        for text, x0, x1 in (ln.words or ())
    ]
    found: list[FoundTable] = []
    used: set[int] = set()
    if segments and len(segments) <= _MAX_SEGMENTS:
        # Smallest first: a table drawn inside a cell of a ruled layout frame keeps its own
        # grid, and the frame (whose lines it then shares) is left to the paragraphs.
        ruled = sorted(_ruled_tables(lines, words, segments), key=_area)
        for table in ruled:
            if not table.lines & used:
                found.append(table)
                used |= table.lines
    for table in _unruled_tables(lines, used):
        found.append(table)
        used |= table.lines
    found.sort(key=lambda t: t.bbox[1])
    return _stitch_sections(found, lines, used)


def _area(table: FoundTable) -> float:
    x0, top, x1, bottom = table.bbox
    return (x1 - x0) * (bottom - top)


# --- ruled tables ------------------------------------------------------------------------


def _merge_rules(
    segs: list[tuple[float, float, float]],
) -> list[tuple[float, float, float]]:
    """(position, start, end) rules merged: same position within _SNAP, touching extents."""
    segs.sort()
    groups: list[list[tuple[float, float, float]]] = []
    for seg in segs:
        if groups and seg[0] - groups[-1][0][0] <= _SNAP:
            groups[-1].append(seg)
        else:
            groups.append([seg])
    out: list[tuple[float, float, float]] = []
    for group in groups:
        pos = statistics.fmean(s[0] for s in group)
        spans = sorted((s[1], s[2]) for s in group)
        start, end = spans[0]
        for a, b in spans[1:]:
            if a <= end + _SNAP:
                end = max(end, b)
            else:
                out.append((pos, start, end))
                start, end = a, b
        out.append((pos, start, end))
    return out


def _rules(segments: Sequence[Segment]) -> tuple[list[tuple[float, float, float]], ...]:
    """Horizontal rules (y, x0, x1) and vertical rules (x, y0, y1)."""
    hs: list[tuple[float, float, float]] = []
    vs: list[tuple[float, float, float]] = []
    for x0, y0, x1, y1 in segments:
        if abs(y1 - y0) <= _SNAP and abs(x1 - x0) >= _MIN_RULE:
            hs.append(((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
        elif abs(x1 - x0) <= _SNAP and abs(y1 - y0) >= _MIN_RULE:
            vs.append(((x0 + x1) / 2, min(y0, y1), max(y0, y1)))
    return _merge_rules(hs), _merge_rules(vs)


def _ruled_tables(
    lines: Sequence[Line], words: list[_Word], segments: Sequence[Segment]
) -> list[FoundTable]:
    hs, vs = _rules(segments)
    if len(hs) < 2:
        return []
    # Connected components of rules (a horizontal and a vertical rule touching).
    n = len(hs) + len(vs)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (y, hx0, hx1) in enumerate(hs):
        for j, (x, vy0, vy1) in enumerate(vs):
            if hx0 - _SNAP <= x <= hx1 + _SNAP and vy0 - _SNAP <= y <= vy1 + _SNAP:
                parent[find(i)] = find(len(hs) + j)
    # Horizontal rules of the same extent (booktabs) belong together too.
    for i in range(len(hs)):
        for j in range(i + 1, len(hs)):
            if abs(hs[i][1] - hs[j][1]) <= 3 * _SNAP and abs(hs[i][2] - hs[j][2]) <= 3 * _SNAP:
                parent[find(i)] = find(j)
    components: dict[int, tuple[list[int], list[int]]] = {}
    for i in range(len(hs)):
        components.setdefault(find(i), ([], []))[0].append(i)
    for j in range(len(vs)):
        root = find(len(hs) + j)
        if root in components:
            components[root][1].append(j)
    out: list[FoundTable] = []
    for h_ids, v_ids in components.values():
        if len(h_ids) < 2:
            continue
        ys = _distinct(hs[i][0] for i in h_ids)
        for piece, piece_vs in _vertical_pieces(ys, [vs[j] for j in v_ids]):
            table = _ruled_piece(lines, words, piece, piece_vs, [hs[i] for i in h_ids], hs, vs)
            if table is not None:
                out.append(table)
    return out


def _vertical_pieces(
    ys: list[float], vs: list[tuple[float, float, float]]
) -> list[tuple[list[float], list[tuple[float, float, float]]]]:
    """The rows of a rule component cut where no column rule runs: two same-width tables one
    above the other (or a table and a footer rule) share their horizontal rules' extent, but
    each has its own column rules. Without column rules the component is one piece."""
    if not vs:
        return [(ys, [])]
    spans: list[list[float]] = []
    for _, a, b in sorted(vs, key=lambda v: v[1]):
        if spans and a <= spans[-1][1] + 2 * _SNAP:
            spans[-1][1] = max(spans[-1][1], b)
        else:
            spans.append([a, b])
    pieces = []
    for a, b in spans:
        inner = [y for y in ys if a - 2 * _SNAP <= y <= b + 2 * _SNAP]
        own = [v for v in vs if v[1] >= a - 2 * _SNAP and v[2] <= b + 2 * _SNAP]
        if len(inner) >= 2:
            pieces.append((inner, own))
    return pieces


def _ruled_piece(
    lines: Sequence[Line],
    words: list[_Word],
    ys: list[float],
    piece_vs: list[tuple[float, float, float]],
    piece_hs: list[tuple[float, float, float]],
    hs: list[tuple[float, float, float]],
    vs: list[tuple[float, float, float]],
) -> FoundTable | None:
    """The table between the rules at ``ys`` (and its column rules), or None."""
    xs = _distinct(v[0] for v in piece_vs)
    top, bottom = ys[0], ys[-1]
    within = [h for h in piece_hs if top - _SNAP <= h[0] <= bottom + _SNAP]
    x0 = min(h[1] for h in within)
    x1 = max(h[2] for h in within)
    if bottom - top < 5 or x1 - x0 < 20:
        return None
    inside = [w for w in words if x0 - 1 <= w.cx <= x1 + 1 and top <= w.cy <= bottom]
    if not inside:
        return None
    if len(xs) >= 2 and len(ys) >= 3:
        # Tables often leave out the outer vertical borders: the rules' ends stand in.
        xs = _distinct([x0, *xs, x1])
        table = _grid_table(inside, xs, ys, hs, vs)
    else:
        table = _aligned_table(inside, lines, min_rows=2, header_rule=ys[1:-1])
        if table is not None:
            table.banded = True
    if table is None:
        return None
    table.bbox = (x0, top, x1, bottom)
    table.lines = _used_lines(lines, inside)
    table.ruled = True
    return table


def _distinct(values: Iterable[float]) -> list[float]:
    """Sorted values with near-duplicates (within _SNAP) merged."""
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > _SNAP:
            out.append(v)
    return out


def _used_lines(lines: Sequence[Line], inside: list[_Word]) -> set[int]:
    """Lines most of whose words are in the table."""
    counts: dict[int, int] = {}
    for w in inside:
        counts[w.line] = counts.get(w.line, 0) + 1
    return {i for i, c in counts.items() if c * 2 >= len(lines[i].words or ())}


def _grid_table(
    words: list[_Word],
    xs: list[float],
    ys: list[float],
    hs: list[tuple[float, float, float]],
    vs: list[tuple[float, float, float]],
) -> FoundTable | None:
    """Words into the cells of a grid; a cell whose border rule is missing spans into its
    neighbour. A header span's text is repeated in every cell it covers (so header cells are
    never lost); other spans keep it in their first cell. Empty rows and columns are dropped.
    None when the rules frame text rather than cells (fewer than four filled cells, or fewer
    cells than a third of the grid's slots)."""
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    cells: list[list[list[_Word]]] = [[[] for _ in range(n_cols)] for _ in range(n_rows)]
    for w in words:
        r = _slot(ys, w.cy)
        c = _slot(xs, w.cx)
        if r is not None and c is not None:
            cells[r][c].append(w)
    parent = list(range(n_rows * n_cols))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(n_rows):
        cy = (ys[r] + ys[r + 1]) / 2
        for c in range(n_cols):
            cx = (xs[c] + xs[c + 1]) / 2
            if r + 1 < n_rows and not _covered(hs, ys[r + 1], cx):
                parent[find(r * n_cols + c)] = find((r + 1) * n_cols + c)
            if c + 1 < n_cols and not _covered(vs, xs[c + 1], cy):
                parent[find(r * n_cols + c)] = find(r * n_cols + c + 1)
    spans: dict[int, list[_Word]] = {}
    first: dict[int, tuple[int, int]] = {}  # each span's top-left cell
    sizes: dict[int, int] = {}
    for r in range(n_rows):
        for c in range(n_cols):
            root = find(r * n_cols + c)
            spans.setdefault(root, []).extend(cells[r][c])
            first.setdefault(root, (r, c))
            sizes[root] = sizes.get(root, 0) + 1
    if _unruled_rows_inside(spans, first, n_cols):
        return None
    texts = {root: _cell_text(ws) for root, ws in spans.items()}
    span_boxes = {root: _words_box(ws) for root, ws in spans.items()}
    # A frame has few cells, each covering much of the grid; a table with many spans still
    # has many cells (a column of row labels alone gives one per row).
    if sum(1 for t in texts.values() if t) < 4 or len(spans) * _FRAME_SHARE < n_rows * n_cols:
        return None  # a frame or decoration around text, not a grid of cells
    rows = []
    boxes: list[list[Box | None]] = []
    for r in range(n_rows):
        row = []
        box_row: list[Box | None] = []
        for c in range(n_cols):
            root = find(r * n_cols + c)
            # Header spans are repeated in every cell they cover; body spans keep their
            # text in their first cell only.
            keep = first[root][0] == 0 or first[root] == (r, c)
            row.append(texts[root] if keep else "")
            box_row.append(span_boxes[root] if keep and texts[root] else None)
        rows.append(row)
        boxes.append(box_row)
    rows, boxes = _dedupe(rows, boxes)
    if sum(1 for row in rows for cell in row if _right_to_left(cell)) * 2 > len(rows):
        rows = [row[::-1] for row in rows]  # right-to-left table: first column on the right
        boxes = [row[::-1] for row in boxes]
    if len(rows) < 2 or len(rows[0]) < 2:
        return None
    return FoundTable(
        rows=rows, bbox=(xs[0], ys[0], xs[-1], ys[-1]), concerns=_concerns(rows), cells=boxes
    )


_MANY_LINES = 4  # a cell with this many lines of text, beside another: rows without rules


def _unruled_rows_inside(
    spans: dict[int, list[_Word]], first: dict[int, tuple[int, int]], n_cols: int
) -> bool:
    """Whether a grid row holds, side by side, several cells of many text lines each: the
    rules draw only a header or a frame, and the body's rows are set without rules (the
    aligned-columns finder reads those)."""
    tall: dict[int, int] = {}
    for root, ws in spans.items():
        if ws and len(_row_groups(ws)) >= _MANY_LINES:
            row = first[root][0]
            tall[row] = tall.get(row, 0) + 1
    return any(count >= 2 for count in tall.values()) and n_cols >= 2


def _covered(rules: list[tuple[float, float, float]], pos: float, at: float) -> bool:
    """Whether a rule at ``pos`` runs through ``at`` (a cell border is drawn there)."""
    return any(abs(p - pos) <= _SNAP and a - _SNAP <= at <= b + _SNAP for p, a, b in rules)


def _dedupe(
    rows: list[list[str]], boxes: list[list[Box | None]]
) -> tuple[list[list[str]], list[list[Box | None]]]:
    """Drop empty rows and columns, and rows or columns that repeat their neighbour (cells
    split by rules that carry no text of their own); ``boxes`` (parallel to ``rows``) follow,
    a dropped repeat's boxes joined into the one kept."""
    kept_rows: list[list[str]] = []
    kept_boxes: list[list[Box | None]] = []
    for i, row in enumerate(rows):
        if not any(row):
            continue
        if i > 0 and row == rows[i - 1]:
            if kept_rows and kept_rows[-1] == row:
                kept_boxes[-1] = [
                    _join(a, b) for a, b in zip(kept_boxes[-1], boxes[i], strict=True)
                ]
            continue
        kept_rows.append(row)
        kept_boxes.append(list(boxes[i]))
    if not kept_rows:
        return kept_rows, kept_boxes
    cols = list(zip(*kept_rows, strict=True))
    keep: list[int] = []
    for c in range(len(cols)):
        if not any(cols[c]):
            continue
        if c > 0 and cols[c] == cols[c - 1]:
            for brow in kept_boxes:  # a repeat of the last column kept: boxes joined into it
                brow[keep[-1]] = _join(brow[keep[-1]], brow[c])
            continue
        keep.append(c)
    return (
        [[row[c] for c in keep] for row in kept_rows],
        [[brow[c] for c in keep] for brow in kept_boxes],
    )


def _join(a: Box | None, b: Box | None) -> Box | None:
    """The union of two boxes (either may be None)."""
    if a is None or b is None:
        return a or b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _words_box(words: Sequence[_Word]) -> Box | None:
    """The union of the words' boxes; None without words."""
    if not words:
        return None
    return (
        min(w.x0 for w in words),
        min(w.top for w in words),
        max(w.x1 for w in words),
        max(w.bottom for w in words),
    )


def _slot(bounds: list[float], v: float) -> int | None:
    for i in range(len(bounds) - 1):
        if bounds[i] - 1 <= v <= bounds[i + 1] + 1:
            return i
    return None


def _right_to_left(text: str) -> bool:
    """Whether ``text`` reads right to left: most of its letters are in a right-to-left
    script (``Jeremy is جرمي in Arabic`` is a left-to-right sentence with one Arabic word)."""
    rtl = len(_RTL.findall(text))
    return rtl > 0 and rtl * 2 > sum(ch.isalpha() for ch in text)


def _cell_text(words: list[_Word]) -> str:
    """A cell's words in reading order: line by line (by vertical overlap), left to right
    (right to left when the cell is in a right-to-left script)."""
    rtl = _right_to_left("".join(w.text for w in words))
    return " ".join(
        w.text
        for row in _row_groups(words)
        for w in sorted(row, key=lambda w: -w.x1 if rtl else w.x0)
    )


# --- aligned text columns ------------------------------------------------------------------


def _column_bounds(words: list[_Word], min_gap: float) -> list[float]:
    """x positions between columns: centres of gaps at least ``min_gap`` wide that no word
    crosses."""
    spans = sorted((w.x0, w.x1) for w in words)
    cuts: list[float] = []
    end = spans[0][1]
    for a, b in spans[1:]:
        if a - end >= min_gap:
            cuts.append((a + end) / 2)
        end = max(end, b)
    return cuts


def _row_groups(words: list[_Word]) -> list[list[_Word]]:
    """Words grouped into rows by vertical overlap, top to bottom."""
    rows: list[list[_Word]] = []
    bottom = float("-inf")
    for w in sorted(words, key=lambda w: (w.top, w.x0)):
        height = w.bottom - w.top
        if rows and w.top < bottom - 0.4 * height:
            rows[-1].append(w)
            bottom = max(bottom, w.bottom)
        else:
            rows.append([w])
            bottom = w.bottom
    return rows


def _aligned_table(
    words: list[_Word],
    lines: Sequence[Line],
    *,
    min_rows: int,
    header_rule: Sequence[float] = (),
) -> FoundTable | None:
    """Rows of words cut into columns at the gaps they share; None without table evidence."""
    sizes = [lines[w.line].size for w in words]
    size = statistics.median(sizes) if sizes else 10.0
    gap = max(_MIN_GAP, _GAP_EM * size)
    groups = _row_groups(words)
    cuts = _column_bounds(words, gap)
    # Header words wider than their column's body (a long label over a column of codes) can
    # bridge a gap every body row keeps: cut where the rows under the first one to three
    # (at least twice as many rows) leave a gap; the header words go by their centres.
    for head in range(1, min(_MAX_HEADER_ROWS, (len(groups) - 1) // 3) + 1):
        body_cuts = _column_bounds([w for g in groups[head:] for w in g], gap)
        if len(body_cuts) > len(cuts):
            cuts = body_cuts
    if not cuts:
        return None
    if len(groups) < min_rows:
        return None
    rows: list[list[str]] = []
    boxes: list[list[Box | None]] = []
    for group in groups:
        cells: list[list[_Word]] = [[] for _ in range(len(cuts) + 1)]
        for w in group:
            cells[sum(1 for c in cuts if w.cx > c)].append(w)
        rows.append([_cell_text(c) for c in cells])
        boxes.append([_words_box(c) for c in cells])
    rows, boxes = _merge_header_rows(rows, boxes, groups, header_rule)
    rows, boxes = _join_wrapped_rows(rows, boxes, groups[len(groups) - len(rows) :], size)
    filled = [sum(1 for c in row if c) for row in rows]
    if sum(1 for f in filled if f >= 2) < min(min_rows, len(rows)):
        return None
    if min_rows < _MIN_ROWS and (
        sum(1 for f in filled if f >= 2) * 2 < len(rows) or (not header_rule and len(rows) < 3)
    ):
        # A frame around text: most lines fill one cell (a callout or a page border), or
        # two labelled lines in a box (a figure), not a table.
        return None
    x0 = min(w.x0 for w in words)
    x1 = max(w.x1 for w in words)
    top = min(w.top for w in words)
    bottom = max(w.bottom for w in words)
    return FoundTable(rows=rows, bbox=(x0, top, x1, bottom), concerns=_concerns(rows), cells=boxes)


def _join_wrapped_rows(
    rows: list[list[str]], boxes: list[list[Box | None]], groups: list[list[_Word]], size: float
) -> tuple[list[list[str]], list[list[Box | None]]]:
    """Rows that continue a cell of the row above (wrapped text) joined into it.

    A text row is a continuation when it fills only columns the row above fills too, fewer
    of them than that row, and either sits closer to it than table rows sit to each other
    (line spacing within a cell) or leaves the first (key) column empty while the table's
    key column is filled, and adds text to fewer value columns than the row above."""
    if len(rows) < 3 or len(groups) != len(rows):
        return rows, boxes
    tops = [min(w.top for w in g) for g in groups]
    pitches = [b - a for a, b in itertools.pairwise(tops)]
    pitch = statistics.median(pitches)
    spread = max(pitches) - min(pitches)
    split = (max(pitches) + min(pitches)) / 2
    keyed = sum(1 for row in rows if row[0]) / len(rows)
    out = [list(rows[0])]
    out_boxes = [list(boxes[0])]
    for i in range(1, len(rows)):
        row, prev = rows[i], out[-1]
        filled = [c for c, text in enumerate(row) if text]
        prev_filled = [c for c, text in enumerate(prev) if text]
        subset = bool(filled) and all(prev[c] for c in filled) and len(filled) < len(prev_filled)
        gap = pitches[i - 1]
        # Two kinds of spacing (lines within a cell, rows): the gap is of the smaller kind.
        tight = gap <= 1.5 * size and spread > 0.3 * size and gap < split
        keyless = (
            not row[0]
            and bool(prev[0])
            and keyed >= 0.6
            and gap <= 1.05 * pitch
            and len(filled) < len(prev_filled) - 1
        )
        if i > 1 and subset and (tight or keyless):
            for c in filled:
                prev[c] = f"{prev[c]} {row[c]}"
                out_boxes[-1][c] = _join(out_boxes[-1][c], boxes[i][c])
            continue
        out.append(list(row))
        out_boxes.append(list(boxes[i]))
    return out, out_boxes


def _merge_header_rows(
    rows: list[list[str]],
    boxes: list[list[Box | None]],
    groups: list[list[_Word]],
    header_rule: Sequence[float],
) -> tuple[list[list[str]], list[list[Box | None]]]:
    """Text rows above the first inner rule are one header row: join them per column."""
    if not header_rule or len(rows) < 3:
        return rows, boxes
    rule = header_rule[0]
    n_head = sum(1 for g in groups if max(w.bottom for w in g) <= rule + 1)
    if n_head < 2 or n_head >= len(rows):
        return rows, boxes
    head = [" ".join(filter(None, col)) for col in zip(*rows[:n_head], strict=True)]
    head_boxes: list[Box | None] = []
    for col in zip(*boxes[:n_head], strict=True):
        joined: Box | None = None
        for box in col:
            joined = _join(joined, box)
        head_boxes.append(joined)
    return [head, *rows[n_head:]], [head_boxes, *boxes[n_head:]]


def _concerns(rows: list[list[str]]) -> list[tuple[str, str]]:
    filled = [sum(1 for c in row if c) for row in rows]
    width = len(rows[0]) if rows else 0
    sparse = sum(1 for f in filled if f * 2 < width)
    if rows and sparse * 3 > len(rows):
        return [
            (
                "inconsistent_row_cell_count",
                f"{sparse} of {len(rows)} rows fill fewer than half of the {width} columns",
            )
        ]
    return []


def _chunks(line: Line) -> list[tuple[str, float, float]]:
    """The line's words merged into chunks at gaps narrower than a cell gap."""
    gap = max(_MIN_GAP, _GAP_EM * line.size)
    out: list[tuple[str, float, float]] = []
    for text, x0, x1 in line.words or ():
        if out and x0 - out[-1][2] < gap:
            t, a, _ = out[-1]
            out[-1] = (f"{t} {text}", a, x1)
        else:
            out.append((text, x0, x1))
    return out


def _unruled_tables(lines: Sequence[Line], used: set[int]) -> list[FoundTable]:
    from lamina.engine.layout import list_marker

    order = sorted(
        (
            i
            for i, ln in enumerate(lines)
            if i not in used and ln.words and not ln.mono and not _RTL.search(ln.text)
        ),
        key=lambda i: (lines[i].top, lines[i].x0),
    )
    # Visual rows: lines that overlap vertically (pdfium may give each cell its own line).
    rows: list[list[int]] = []
    for i in order:
        ln = lines[i]
        if rows and ln.top < max(lines[k].bottom for k in rows[-1]) - 0.3 * ln.size:
            rows[-1].append(i)
        else:
            rows.append([i])
    runs: list[list[int]] = []
    run: list[int] = []
    prev: list[int] = []
    for row in rows:
        size = max(lines[k].size for k in row)
        multi = sum(len(_chunks(lines[k])) for k in row) >= 2
        top = min(lines[k].top for k in row)
        near = bool(prev) and top - max(lines[k].bottom for k in prev) <= _MAX_ROW_GAP_EM * size
        if run and near and multi:
            run.extend(row)
        else:
            if len({lines[k].top // 1 for k in run}) >= _MIN_ROWS:
                runs.append(run)
            run = list(row) if multi else []
        prev = row
    if run:
        runs.append(run)
    out: list[FoundTable] = []
    for run in map(lambda r: _without_notes(r, lines), runs):
        if not run:
            continue
        chunks = [c for i in run for c in _chunks(lines[i])]
        if statistics.fmean(len(c[0]) for c in chunks) > _MAX_MEAN_CELL_CHARS:
            continue
        words = [
            _Word(text, x0, x1, lines[i].top, lines[i].bottom, i)
            for i in run
            for text, x0, x1 in lines[i].words or ()
        ]
        table = _aligned_table(words, lines, min_rows=_MIN_ROWS)
        if table is None or len(table.rows[0]) < 2:
            continue
        medians = [
            statistics.median(len(c) for c in col if c) if any(col) else 0
            for col in zip(*table.rows, strict=True)
        ]
        if sum(1 for m in medians if m >= _PROSE_CELL_CHARS) >= 2:
            continue  # two columns of running text side by side
        first_col = [row[0] for row in table.rows if row[0]]
        if first_col and all(list_marker(c + " x") for c in first_col):
            continue  # bullets or numbers in front of text: a list
        if len(table.rows[0]) == 2 and _counts_up(first_col):
            continue  # "1 | text", "2 | text": a numbered list drawn without periods
        table.lines = set(run)
        out.append(table)
    return out


_DOT_LEADER = re.compile(r"(\s*\.){2,}\s*$")
_SENTENCE = re.compile(r"[^\W\d_]{2,}[.!?](\s|$)")


def _without_notes(run: list[int], lines: Sequence[Line]) -> list[int]:
    """The run without its last rows while they hold a sentence: notes under a table ("X Not
    applicable. Except forcible rape.") set in pieces side by side, which would bridge every
    column gap. Dot leaders ("Arson . . . .") are no sentence."""
    while run:
        last = max(lines[i].top for i in run)
        band = [i for i in run if lines[i].top > last - 0.5 * lines[i].size]
        texts = [_DOT_LEADER.sub("", c[0]) for i in band for c in _chunks(lines[i])]
        if not any(len(t.split()) >= 3 and _SENTENCE.search(t) for t in texts):
            break
        run = [i for i in run if i not in band]
    return run


# --- section rows: one table cut by its own label rows -----------------------------------

_DIGIT = re.compile(r"\d")
_MAX_SECTION_BANDS = 5  # label (and short label/value) rows between two parts of one table
_MAX_SECTION_WORDS = 8  # words of a line in such a row
_SECTION_PITCHES = 3.0  # rows of one table are at most this many row pitches apart
_CAPTION = re.compile(r"^(table|tab\.|figure|fig\.|chart|source|note)\b", re.IGNORECASE)


def _stitch_sections(
    found: list[FoundTable], lines: Sequence[Line], used: set[int]
) -> list[FoundTable]:
    """Join unruled tables that are parts of one table cut by section rows.

    Statistics tables group their rows under labels ("Class A", "Wealth index") set on a
    line of their own; the aligned-columns finder stops at such a line, so one table comes
    out as several, and the labels as headings. Two tables one above the other are joined
    when they have the same columns over the same width, and what lies between them is a
    few short rows (no sentence, no caption) spaced like the table's rows; those rows
    become rows of the joined table, their text put in the column it sits under.
    """
    if not found:
        return found
    out = [found[0]]
    stitched: set[int] = set()
    for table in found[1:]:
        joined = _joined(out[-1], table, lines, used) or _with_header_band(out[-1], table, lines)
        if joined is None:
            out.append(table)
        else:
            used |= joined.lines
            out[-1] = joined
            stitched.add(len(out) - 1)
    for k, table in enumerate(out):
        if not table.ruled:
            out[k] = _with_rows_above(table, lines, used, label=k in stitched)
            used |= out[k].lines
    return out


def _with_header_band(
    head: FoundTable, body: FoundTable, lines: Sequence[Line]
) -> FoundTable | None:
    """A header (set between rules, or as loose text: words, few figures) right over an
    unruled body with more columns, as one table: the header's words re-cut into the body's
    columns.

    The whitespace between header words is no guide to the columns (header cells wrap and
    span), so the header comes out with too few columns of its own; under the body's columns
    each header word lands in the column it stands over."""
    if (head.ruled and not head.banded) or body.ruled or not head.rows or not body.rows:
        return None
    cells = [c for row in head.rows for c in row if c]
    if sum(1 for c in cells if _DIGIT.search(c)) * 5 > len(cells):
        return None  # figures, dates, codes: a table of its own, not a header
    if len(head.rows[0]) >= len(body.rows[0]):
        return None
    hx0, htop, hx1, hbottom = head.bbox
    bx0, btop, bx1, bbottom = body.bbox
    narrower = min(hx1 - hx0, bx1 - bx0)
    pitch = _row_pitch(body)
    spans = _columns(body)
    if spans is None or not pitch or narrower <= 0:
        return None
    if min(hx1, bx1) - max(hx0, bx0) < 0.8 * narrower or not 0 <= btop - hbottom <= 2 * pitch:
        return None
    rows, boxes = _recut(head.lines, spans, lines)
    all_rows = rows + body.rows
    return FoundTable(
        rows=all_rows,
        bbox=(min(hx0, bx0), htop, max(hx1, bx1), bbottom),
        lines=head.lines | body.lines,
        concerns=_concerns(all_rows),
        cells=boxes + body.cells,
    )


def _recut(
    line_ids: Iterable[int], spans: list[tuple[float, float]], lines: Sequence[Line]
) -> tuple[list[list[str]], list[list[Box | None]]]:
    """Rows of the given lines (one per visual band), each word in the column it stands
    over."""
    bands: list[list[int]] = []
    for i in sorted(line_ids, key=lambda i: lines[i].top):
        if bands and lines[i].top < max(lines[k].bottom for k in bands[-1]) - 0.3 * lines[i].size:
            bands[-1].append(i)
        else:
            bands.append([i])
    rows: list[list[str]] = []
    boxes: list[list[Box | None]] = []
    for band in bands:
        texts: list[list[str]] = [[] for _ in spans]
        cell_boxes: list[Box | None] = [None] * len(spans)
        words = [(w, lines[k]) for k in band for w in lines[k].words or ()]
        for (text, wx0, wx1), ln in sorted(words, key=lambda item: item[0][1]):
            col = _best_column(spans, wx0, wx1)
            texts[col].append(text)
            cell_boxes[col] = _join(cell_boxes[col], (wx0, ln.top, wx1, ln.bottom))
        rows.append([" ".join(t) for t in texts])
        boxes.append(cell_boxes)
    return rows, boxes


def _coarser(cols_a: list[tuple[float, float]], cols_b: list[tuple[float, float]]) -> bool:
    """Whether every gap between ``cols_a``'s columns falls in a gap between ``cols_b``'s:
    the same columns, some of them run together (two figures set close, so too narrow a gap
    for the part that holds them)."""
    gaps_b = [(p[1], q[0]) for p, q in itertools.pairwise(cols_b)]
    for p, q in itertools.pairwise(cols_a):
        mid = (p[1] + q[0]) / 2
        if not any(g0 - _SNAP <= mid <= g1 + _SNAP for g0, g1 in gaps_b):
            return False
    return True


def _short_row_line(line: Line) -> bool:
    """A line that can be a row of a table set as text: a few words, no sentence, no caption."""
    text = line.text.strip()
    return not (
        len(text.split()) > _MAX_SECTION_WORDS or text.endswith(".") or _CAPTION.match(text)
    )


def _band_row(
    band: list[int], spans: list[tuple[float, float]], lines: Sequence[Line]
) -> tuple[list[str], list[Box | None]]:
    """One visual row of loose lines as table cells: each chunk under its column."""
    texts: list[list[str]] = [[] for _ in spans]
    cell_boxes: list[Box | None] = [None] * len(spans)
    for k in sorted(band, key=lambda k: lines[k].x0):
        ln = lines[k]
        for text, cx0, cx1 in _chunks(ln) if ln.words else [(ln.text, ln.x0, ln.x1)]:
            col = _best_column(spans, cx0, cx1)
            texts[col].append(text)
            cell_boxes[col] = _join(cell_boxes[col], (cx0, ln.top, cx1, ln.bottom))
    return [" ".join(t) for t in texts], cell_boxes


def _with_rows_above(
    table: FoundTable, lines: Sequence[Line], used: set[int], label: bool
) -> FoundTable:
    """An unruled table with the rows set as loose lines just above it: header rows (text
    over its value columns) and, for a table of sections (``label``), its first section's
    label."""
    spans = _columns(table)
    pitch = _row_pitch(table)
    if spans is None or not pitch:
        return table
    x0, top, x1, bottom = table.bbox
    above = sorted(
        (
            i
            for i, ln in enumerate(lines)
            if i not in used
            and ln.bottom <= top + 0.3 * ln.size
            and ln.x1 >= x0 - pitch
            and ln.x0 <= x1 + pitch
        ),
        key=lambda i: -lines[i].bottom,
    )
    bands: list[list[int]] = []
    for i in above:
        if bands and lines[i].bottom > min(lines[k].top for k in bands[-1]) + 0.3 * lines[i].size:
            bands[-1].append(i)
        else:
            bands.append([i])
    rows: list[list[str]] = []
    boxes: list[list[Box | None]] = []
    taken: set[int] = set()
    edge = top
    for n, band in enumerate(bands):
        if edge - max(lines[k].bottom for k in band) > _SECTION_PITCHES * pitch:
            break
        if any(
            not _short_row_line(lines[k]) or lines[k].x0 < x0 - pitch or lines[k].x1 > x1 + pitch
            for k in band
        ):
            break
        row, row_boxes = _band_row(band, spans, lines)
        if not any(row[1:]) and (n > 0 or not label):
            break  # only the first section's label; above it a title, not a row
        rows.insert(0, row)
        boxes.insert(0, row_boxes)
        taken.update(band)
        edge = min(lines[k].top for k in band)
    if not rows:
        return table
    all_rows = rows + table.rows
    return FoundTable(
        rows=all_rows,
        bbox=(x0, edge, x1, bottom),
        lines=table.lines | taken,
        concerns=_concerns(all_rows),
        cells=boxes + table.cells,
    )


def _columns(table: FoundTable) -> list[tuple[float, float]] | None:
    """(x0, x1) of each column of a table, from its cells' boxes."""
    width = len(table.rows[0]) if table.rows else 0
    spans: list[tuple[float, float]] = []
    for c in range(width):
        boxes = [row[c] for row in table.cells if c < len(row) and row[c] is not None]
        if not boxes:
            return None
        spans.append((min(b[0] for b in boxes), max(b[2] for b in boxes)))  # type: ignore[index]
    return spans


def _row_pitch(table: FoundTable) -> float | None:
    tops = sorted(
        {round(min(b[1] for b in row if b is not None), 1) for row in table.cells if any(row)}
    )
    steps = [b - a for a, b in itertools.pairwise(tops) if b > a]
    return statistics.median(steps) if steps else None


def _joined(
    a: FoundTable, b: FoundTable, lines: Sequence[Line], used: set[int]
) -> FoundTable | None:
    if a.ruled or b.ruled or not a.rows or not b.rows or len(a.rows[0]) > len(b.rows[0]):
        return None
    # The part above with fewer columns: the same columns with some run together.
    recut = len(a.rows[0]) < len(b.rows[0])
    ax0, atop, ax1, abottom = a.bbox
    bx0, btop, bx1, bbottom = b.bbox
    if btop <= abottom:
        return None
    narrower = min(ax1 - ax0, bx1 - bx0)
    if narrower <= 0 or min(ax1, bx1) - max(ax0, bx0) < 0.8 * narrower:
        return None
    cols_a, cols_b = _columns(a), _columns(b)
    pitch = max(_row_pitch(a) or 0.0, _row_pitch(b) or 0.0)
    if cols_a is None or cols_b is None or pitch <= 0:
        return None
    if recut and not _coarser(cols_a, cols_b):
        return None
    x0, x1 = min(ax0, bx0), max(ax1, bx1)
    tol = pitch
    between: list[int] = []
    for i, ln in enumerate(lines):
        centre = (ln.top + ln.bottom) / 2
        if i in used or not abottom < centre < btop or ln.x1 < x0 - tol or ln.x0 > x1 + tol:
            continue
        if ln.x0 < x0 - tol or ln.x1 > x1 + tol or not _short_row_line(ln):
            return None  # a paragraph, caption or note between two tables
        between.append(i)
    bands: list[list[int]] = []
    for i in sorted(between, key=lambda i: lines[i].top):
        if bands and lines[i].top < max(lines[k].bottom for k in bands[-1]) - 0.3 * lines[i].size:
            bands[-1].append(i)
        else:
            bands.append([i])
    if not bands or len(bands) > _MAX_SECTION_BANDS:
        return None
    edges = [abottom]
    for band in bands:
        edges += [min(lines[k].top for k in band), max(lines[k].bottom for k in band)]
    edges.append(btop)
    if any(edges[k + 1] - edges[k] > _SECTION_PITCHES * pitch for k in range(0, len(edges), 2)):
        return None
    if recut:
        spans = cols_b
        a_rows, a_cells = _recut(a.lines, spans, lines)
    else:
        spans = [(min(p[0], q[0]), max(p[1], q[1])) for p, q in zip(cols_a, cols_b, strict=True)]
        a_rows, a_cells = a.rows, a.cells
    rows: list[list[str]] = []
    boxes: list[list[Box | None]] = []
    for band in bands:
        row, row_boxes = _band_row(band, spans, lines)
        rows.append(row)
        boxes.append(row_boxes)
    all_rows = a_rows + rows + b.rows
    return FoundTable(
        rows=all_rows,
        bbox=(x0, atop, x1, bbottom),
        lines=a.lines | b.lines | set(between),
        concerns=_concerns(all_rows),
        cells=a_cells + boxes + b.cells,
    )


def _best_column(spans: list[tuple[float, float]], x0: float, x1: float) -> int:
    """The column a piece of text from x0 to x1 sits under: most overlap, else nearest."""

    def overlap(c: int) -> float:
        return min(x1, spans[c][1]) - max(x0, spans[c][0])

    best = max(range(len(spans)), key=overlap)
    if overlap(best) > 0:
        return best
    centre = (x0 + x1) / 2
    return min(range(len(spans)), key=lambda c: abs((spans[c][0] + spans[c][1]) / 2 - centre))


def _counts_up(cells: Sequence[str]) -> bool:
    """Whether ``cells`` are the integers n, n+1, n+2, ... (list numbering)."""
    if len(cells) < 2 or not all(c.isdigit() for c in cells):
        return False
    numbers = [int(c) for c in cells]
    return all(b - a == 1 for a, b in itertools.pairwise(numbers))
