"""Layout analysis: visual lines → blocks → items (headings, lists, code, paragraphs).

This module knows nothing about PDF or pdfium: it works on :class:`Line` objects (text, a box
on the displayed page with origin top-left, and a few font facts), so any source of positioned
lines (a PDF text layer today, OCR later) shares the same rules.

The pipeline for a document is:

1. :func:`body_size` over every line: the size most characters are set in.
2. per page, :mod:`lamina.engine.columns` puts lines of multi-column pages in column order,
   then :func:`group_lines` (lines → blocks) and :func:`order_blocks` (reading order: top to
   bottom, or the column order as given).
3. :class:`HeadingLevels` ranks the heading sizes of the whole document, then
   :func:`block_items` turns each block into wire items.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from lamina.engine import furniture
from lamina.engine import markdown as mdr
from lamina.types import BBox, FooterItem, HeaderItem, Item, ListItem, TextItem

BlockKind = Literal["text", "list", "code"]

# Bullets: common glyphs, dashes, and the private-use bullets of Symbol/Wingdings fonts.
_BULLET = re.compile("^([•◦▪▫■□●○‣∙·*\\-\u2043\u2013\u2014\uf0b7\uf0a7\uf076\uf0d8])\\s+(?=\\S)")
_NUMBER = re.compile(r"^\(?(\d{1,3}|[a-z]|[ivx]{1,5})[.)]\s+(?=\S)")
# A number with no period ("1  Open the form"), as some producers draw list numbers. Alone it
# is too weak (a sentence may start with a number); see ``mark_bare_numbered``.
_BARE_NUMBER = re.compile(r"^(\d{1,2})\s+(?=\S)")
# A section number opening a heading: "2", "2.1", "2.1.3", optionally with a closing period.
_SECTION_NUMBER = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,4})\.?\s+(?=[^\W\d_])")
# A section's label alone: "Chapter 3", "Part II", "Appendix B", "Section 4.2", "12.4.1".
_SECTION_LABEL = re.compile(
    r"^(?:(?:chapter|section|part|appendix|annex|article|unit|lesson)\s+"
    r"(?:\d{1,3}(?:\.\d{1,2}){0,3}|[IVXLC]{1,6}|[A-Z])|\d{1,2}(?:\.\d{1,2}){1,4})[.:]?$",
    re.IGNORECASE,
)
# The number of a heading set only a little larger than the body: "(2) ...", "3.1 ...", "IV. ...".
_HEADING_NUMBER = re.compile(r"^(\(\d{1,2}\)|\d{1,2}(?:\.\d{1,2}){0,4}\.?|[IVX]{1,5}\.)\s+(?=\S)")
# Right-to-left scripts (Hebrew, Arabic and their presentation forms).
# A web address or e-mail address alone on its line: a link, never a heading.
_ADDRESS = re.compile(
    r"^(?:(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|[\w-]+(?:\.[\w-]+)+/\S*)$",
    re.IGNORECASE,
)
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")

_SENTENCE_END = (".", "!", "?", ":", ";")
# A line of nothing but periods (a sentence's end set apart from it, or a speck).
_STRAY_MARKS = re.compile(r"^[\s.!?]+$")

# Thresholds, in multiples of the font size unless said otherwise.
_EDGE_MARGIN = 0.08  # share of the page height at top and bottom where kickers and imprints sit
_MAX_LINE_GAP = 1.5  # baseline to baseline: more than this starts a new block
_MAX_CODE_GAP = 4.5  # code keeps its blank lines, up to about three of them
_MAX_LIST_ENTRY_GAP = 2.5  # list entries are often spaced more than the lines of one entry
_MAX_ENTRY_LINES = 4  # wrapped lines of one list entry passed over to find the next number
_INDENT = 1.0  # a first line indented this much more than the line above starts a paragraph
_HEADING_RATIO = 1.12  # size over body size that makes a short block a heading
_NUMBERED_HEADING_RATIO = 1.05  # ... and a numbered one-line block ("(1) Scope")
_SMALL_BOLD = 0.95  # a bold line smaller than this times the body size is a label, not a heading
_LABEL_RUN = 3  # this many same-style candidates in a row, nothing between: labels, not headings
_MAX_HEADING_CHARS = 150
_MAX_BOLD_HEADING_CHARS = 80
_MONO_ADVANCE = 0.6  # advance width of a monospace glyph, for code indentation


@dataclass(slots=True)
class Line:
    """One visual line of text on a page; coordinates in points, origin top-left."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    baseline: float
    size: float
    bold: bool = False
    mono: bool = False
    soft_hyphen: bool = False  # ends with a hyphen the PDF producer marked as a line break
    # (text, x0, x1) of each word, read only when tables are looked for (cost_effective+).
    words: list[tuple[str, float, float]] | None = None
    numbered: bool = False  # opens with a bare number that counts on from its neighbours
    italic: bool = False

    def bbox(self, start: int | None = None, end: int | None = None) -> BBox:
        """The line's box; ``start``/``end`` locate its text in the item's value."""
        return BBox(
            x=round(self.x0, 2),
            y=round(self.top, 2),
            w=round(self.x1 - self.x0, 2),
            h=round(self.bottom - self.top, 2),
            start_index=start,
            end_index=end,
        )


@dataclass(slots=True)
class Block:
    """Consecutive lines that belong together: a paragraph, a list, a code block, ..."""

    kind: BlockKind
    lines: list[Line] = field(default_factory=list)
    heading_size: float | None = None  # set when the block is a heading candidate
    bold_heading: bool = False
    section_depth: int = 0  # numbering depth of a bold numbered heading ("2.1 ..." → 2)
    furniture: Literal["header", "footer"] | None = None

    @property
    def top(self) -> float:
        return min(line.top for line in self.lines)

    @property
    def x0(self) -> float:
        return min(line.x0 for line in self.lines)

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines)


def body_size(lines: Iterable[Line]) -> float:
    """The font size carrying the most characters (rounded to half points); 10 if no text."""
    weights: Counter[float] = Counter()
    for line in lines:
        weights[round(line.size * 2) / 2] += len(line.text)
    return weights.most_common(1)[0][0] if weights else 10.0


def section_label(text: str) -> bool:
    """Whether ``text`` is only the label a section title follows: "Chapter 3", "Part II.",
    "Appendix B:", "12.4.1" (set apart from the title on its line, it still belongs to it)."""
    return _SECTION_LABEL.match(text.strip()) is not None


def list_marker(text: str) -> re.Match[str] | None:
    """The bullet or number that opens a list entry, if ``text`` starts with one."""
    return _BULLET.match(text) or _NUMBER.match(text)


def line_marker(line: Line) -> re.Match[str] | None:
    """The list marker opening ``line``, bare numbers included where they count 1, 2, 3."""
    marker = list_marker(line.text)
    if marker is None and line.numbered:
        marker = _BARE_NUMBER.match(line.text)
    return marker


def mark_bare_numbered(lines: Sequence[Line]) -> None:
    """Flag lines that open with bare numbers counting up by one at the same indent.

    "1 Open the form / 2 Fill it in / 3 Send it" is a numbered list even without periods; a
    single line starting with a number, or numbers that do not count on, is not.
    """
    numbers = [_number_of(line.text) for line in lines]
    for i in range(len(lines)):
        if numbers[i] is None or not _BARE_NUMBER.match(lines[i].text):
            continue
        for j in (_next_at_indent(lines, i, -1), _next_at_indent(lines, i, 1)):
            if j is None or numbers[j] is None:
                continue
            a, b = (i, j) if i < j else (j, i)
            if numbers[b] - numbers[a] == 1:  # type: ignore[operator]
                lines[i].numbered = True


def _number_of(text: str) -> int | None:
    """The number opening ``text`` as a list number (``2``, ``2.``, ``2)``), if any."""
    match = _BARE_NUMBER.match(text) or _NUMBER.match(text)
    if match is None or not match.group(1).isdigit():
        return None
    return int(match.group(1))


def _next_at_indent(lines: Sequence[Line], i: int, step: int) -> int | None:
    """The nearest line before (``step`` -1) or after (+1) line ``i`` that starts at its indent,
    passing over at most :data:`_MAX_ENTRY_LINES` lines indented further (the wrapped lines of
    a list entry set with a hanging indent)."""
    line = lines[i]
    j = i + step
    for _ in range(_MAX_ENTRY_LINES + 1):
        if not 0 <= j < len(lines):
            return None
        other = lines[j]
        size = max(line.size, other.size)
        if abs(other.x0 - line.x0) <= 0.5 * size:
            return j
        if other.x0 < line.x0:
            return None
        j += step
    return None


def group_lines(lines: Sequence[Line]) -> list[Block]:
    """Group lines, in the order the page gives them, into blocks."""
    mark_bare_numbered(lines)
    blocks: list[Block] = []
    for line in lines:
        if blocks and _continues(blocks[-1], line):
            blocks[-1].lines.append(line)
            continue
        kind: BlockKind = "code" if line.mono else "list" if line_marker(line) else "text"
        blocks.append(Block(kind=kind, lines=[line]))
    return blocks


def order_blocks(blocks: list[Block], columns: bool = False) -> list[Block]:
    """Blocks in reading order: top to bottom, then left to right (single column).

    With ``columns`` the blocks come from lines already put in column order
    (:func:`lamina.engine.columns.order_lines`) and keep their order.
    """
    if columns:
        return list(blocks)
    return sorted(blocks, key=lambda b: (round(b.top, 1), b.x0))


def mark_page_furniture(blocks: list[Block], page_height: float) -> None:
    """Mark one-line blocks that are a bare page number in the top or bottom margin as
    header/footer: the rule of :func:`lamina.engine.furniture.detect` (its margin, its page
    number forms) for the numbers it leaves on the page, set larger than the body text or
    further from the edge than the lines it compares across pages."""
    if page_height <= 0:
        return
    for block in blocks:
        if len(block.lines) != 1 or furniture.page_number_of(block.lines[0].text) is None:
            continue
        line = block.lines[0]
        if line.top >= page_height * (1 - furniture.MARGIN):
            block.furniture = "footer"
        elif line.bottom <= page_height * furniture.MARGIN:
            block.furniture = "header"


def mark_heading_candidates(
    blocks: list[Block], body: float, page_body: float | None = None
) -> None:
    """Flag short blocks set larger than the body text, or short bold lines, as headings.

    A large heading wrapped onto a line that starts further right is joined into one block
    (:func:`_join_wrapped_headings`), so ``blocks`` may lose entries.

    A one-line block opening with a section number ("(2) Scope", "3.1 Methods") needs only a
    little more size than the body. A bold line set smaller than the body text (of the
    document and of its page, ``page_body``) is a figure label or a note, not a heading; and
    a run of same-style candidates with nothing between them (labels of a drawing, a cover's
    list of names or topics) is demoted (:func:`_demote_label_runs`).
    """
    small = _SMALL_BOLD * min(body, page_body or body)
    for i, block in enumerate(blocks):
        if block.kind == "code" or block.furniture or len(block.lines) > 3:
            continue
        text = block.text.strip()
        if not any(ch.isalpha() for ch in text) or len(text) > _MAX_HEADING_CHARS:
            continue
        if _ADDRESS.match(text) or text.endswith(":"):
            continue  # a link, or a lead-in to what follows ("For more information:")
        if block.kind == "list" and len(block.lines) > 1:
            continue
        size = max(line.size for line in block.lines)
        one_line = len(block.lines) == 1
        larger = size >= body * _HEADING_RATIO and size >= body + 1.0
        numbered = (
            one_line
            and size >= body * _NUMBERED_HEADING_RATIO
            and size >= body + 0.5
            and _HEADING_NUMBER.match(text) is not None
            and not text.endswith(_SENTENCE_END)
        )
        if larger or numbered:
            block.heading_size = round(size * 2) / 2
        elif (
            one_line
            and block.lines[0].bold
            and size >= small
            and len(text) <= _MAX_BOLD_HEADING_CHARS
            and not text.endswith((".", ",", ";"))
        ):
            block.bold_heading = True
            section = _SECTION_NUMBER.match(text)
            if section:
                block.section_depth = section.group(1).count(".") + 1
        elif (
            one_line
            and block.lines[0].italic
            and small <= size < body * _HEADING_RATIO
            and len(text) <= _MAX_BOLD_HEADING_CHARS
            and text[:1].isupper()
            and not text.endswith((*_SENTENCE_END, ","))
            and _introduces_text(block, blocks[i + 1] if i + 1 < len(blocks) else None)
        ):
            block.bold_heading = True  # an italic heading ranks with the bold ones
    _demote_label_runs(blocks)
    _join_wrapped_headings(blocks)


def _join_wrapped_headings(blocks: list[Block]) -> None:
    """Join a large heading's wrapped line that the grouping rules left apart because it
    starts further right (a centred title, or a title after a small "Chapter 1." run that
    shares its first line): the next block, one line in the same size and weight, right
    under it (at most ``_MAX_LINE_GAP`` sizes, baseline to baseline) and within its width."""
    i = 0
    while i + 1 < len(blocks):
        a, b = blocks[i], blocks[i + 1]
        last, line = a.lines[-1], b.lines[0]
        gap = line.baseline - last.baseline
        if (
            a.heading_size is not None
            and b.heading_size == a.heading_size
            and len(a.lines) < 3
            and len(b.lines) == 1
            and line.bold == last.bold
            and 0.3 * line.size < gap <= _MAX_LINE_GAP * line.size
            and line.x0 >= last.x0 - line.size
            and line.x1 <= last.x1 + line.size
            and not last.text.rstrip().endswith(_SENTENCE_END)
        ):
            a.lines.extend(b.lines)
            del blocks[i + 1]
            continue
        i += 1


def _introduces_text(block: Block, after: Block | None) -> bool:
    """Whether ``after`` is a paragraph of body-like text starting just below ``block``: what
    an italic heading at body size needs (an italic line alone is often a quote or a name)."""
    if after is None or after.kind != "text" or len(after.lines) < 2:
        return False
    line, first = block.lines[-1], after.lines[0]
    gap = first.top - line.bottom
    return (
        not first.italic
        and abs(first.size - line.size) <= 0.05 * line.size
        and 0 <= gap <= 2 * line.size
        and first.x1 > line.x1
    )


def _style(block: Block) -> tuple[float, bool, bool]:
    size = block.heading_size or round(max(line.size for line in block.lines) * 2) / 2
    return size, block.lines[0].bold, block.lines[0].italic


def _demote_label_runs(blocks: Sequence[Block]) -> None:
    """Unflag runs of at least ``_LABEL_RUN`` candidates of one style that follow each other
    in reading order with no other text between: a heading introduces text, while labels in a
    drawing, names on a cover or a list of topics set in bold stand together."""
    run: list[Block] = []
    for block in [*blocks, None]:
        if block is not None and block.furniture:
            continue
        candidate = block is not None and (block.heading_size is not None or block.bold_heading)
        if candidate and (not run or _style(run[0]) == _style(block)):  # type: ignore[arg-type]
            run.append(block)  # type: ignore[arg-type]
            continue
        if len(run) >= _LABEL_RUN:
            for label in run:
                _unflag(label)
        run = [block] if candidate else []  # type: ignore[list-item]


def demote_table_rows(blocks: Sequence[Block], columns: bool = False) -> None:
    """Take the heading flag off candidates that are rows of a table the page still shows as
    text (the ``fast`` tier, or a table the table finder missed).

    A heading stands alone on its band of the page. A candidate line that shares its band with
    a short cell-like line (a few words, or mostly figures) is a row label when that cell lines
    up (left or right edge) with another cell-like line on a nearby row, and that row has a
    line lined up with the candidate: two rows of two columns of a table. A sidebar beside a
    heading does not line up with it. On a page read in ``columns``, the text of the other
    column lines up with itself, so there both cells must be short (a few words, or mostly
    figures); on a one-column page any text lined up that way is a table's.
    """
    candidates = [b for b in blocks if b.heading_size is not None or b.bold_heading]
    if not candidates:
        return
    lines = [line for b in blocks if not b.furniture for line in b.lines]
    labels: list[tuple[Block, Line, Line]] = []  # (candidate, its line, a cell beside it)
    for block in candidates:
        own = {id(line) for line in block.lines}
        others = [ln for ln in lines if id(ln) not in own]
        if (
            any(
                _row_partner(line, others, columns) or _one_of_cells(line, others)
                for line in block.lines
            )
            or _between_rows(block, others)
            or (block.heading_size is None and _over_figure_rows(block, others))
            or any(_vertical(line) for line in block.lines)
        ):
            _unflag(block)
            continue
        labels.extend(
            (block, line, cell)
            for line in block.lines
            for cell in others
            if _same_band(line, cell) and _cell_like(cell)
        )
    # Rows of a form further apart than a table's (a value cell of several lines between
    # them): two candidates lined up, each with a short cell beside it, the cells in one
    # column, are two labels of one form.
    for (a, line_a, cell_a), (b, line_b, cell_b) in itertools.combinations(labels, 2):
        if a is b or line_a.top == line_b.top or not _aligned(line_a, line_b):
            continue
        if _aligned(cell_a, cell_b) or _under(cell_a, cell_b):
            _unflag(a)
            _unflag(b)
    if not columns:  # in columns, the other column's text shares every band
        _demote_more_form_labels(candidates, lines)
    # The wrapped last line of a label (set a little apart, so a block of its own) goes with it.
    demoted = [b for b in candidates if b.heading_size is None and not b.bold_heading]
    for block in candidates:
        if block.heading_size is None and not block.bold_heading:
            continue
        first = block.lines[0]
        if any(
            _style(label) == _style(block)
            and 0 < first.top - label.lines[-1].bottom <= 2 * first.size
            and _aligned(label.lines[-1], first)
            for label in demoted
        ):
            _unflag(block)


def _demote_more_form_labels(candidates: Sequence[Block], lines: Sequence[Line]) -> None:
    """The other labels of a table or form whose row labels the rules above found: a
    candidate in the style of a demoted label and lined up with it (left or right edge)
    that shares its band with text (a value too long to look like a cell: a sentence, a
    wrapped name) is a label too. A heading has no text beside it; one that does (hung in
    the margin) is kept unless the page has a table or form in that style on that edge.
    Repeats until nothing changes, so labels lined up only with such a label follow."""
    found = [b for b in candidates if b.heading_size is None and not b.bold_heading]
    changed = bool(found)
    while changed:
        changed = False
        for block in candidates:
            if block.heading_size is None and not block.bold_heading:
                continue
            style = _style(block)
            first = block.lines[0]
            beside = any(
                _same_band(first, other)
                for other in lines
                if all(other is not ln for ln in block.lines)
            )
            if not beside:
                continue
            if any(
                _style(label) == style
                and (
                    abs(label.lines[0].x0 - first.x0) <= _ALIGN
                    or abs(label.lines[0].x1 - first.x1) <= _ALIGN
                )
                for label in found
            ):
                _unflag(block)
                found.append(block)
                changed = True


def demote_page_edge_and_figure_text(
    blocks: Sequence[Block], page_height: float, body: float, columns: bool = False
) -> None:
    """Take the heading flag off candidates that are not headings for where they stand.

    - In the top margin (``_EDGE_MARGIN`` of the page height), above a larger candidate
      on the same page: a running label or a cover's kicker ("Front cover"), not the title.
    - Reaching into the bottom margin with no text below it: a heading introduces the text
      under it, so this is a logo or a cover's imprint.
    - Text of a drawing: on a one-column page, a candidate with text set smaller than the body
      close beside it on an offset baseline (:func:`_staggered`): labels scattered in two
      dimensions, as in a diagram; with two such on the page, the notes of its other labels
      may stand further off. A heading stands alone on its band, or has body text
      beside it (a heading hung in the margin); a table row shares its band
      (:func:`demote_table_rows`).
    """
    candidates = [b for b in blocks if b.heading_size is not None or b.bold_heading]
    if not candidates:
        return
    lines = [line for b in blocks if not b.furniture for line in b.lines]
    top_edge = page_height * _EDGE_MARGIN
    bottom_edge = page_height * (1 - _EDGE_MARGIN)
    largest = max(_style(b)[0] for b in candidates)
    small = [o for o in lines if o.size < _SMALL_BOLD * body]
    labels: list[Block] = []
    for block in candidates:
        last = block.lines[-1]
        if page_height > 0 and last.bottom <= top_edge and _style(block)[0] < largest:
            _unflag(block)
            continue
        if (
            page_height > 0
            and last.bottom >= bottom_edge
            and not any(o.top >= last.bottom - 1 for o in lines if o not in block.lines)
        ):
            _unflag(block)
            continue
        if not columns and any(_staggered(line, small) for line in block.lines):
            labels.append(block)
    if len(labels) >= 2:
        # A drawing on the page: its other labels may stand further from their notes.
        labels += [
            b
            for b in candidates
            if b not in labels and any(_staggered(ln, small, loose=True) for ln in b.lines)
        ]
    for block in labels:
        _unflag(block)


def _staggered(line: Line, lines: Sequence[Line], loose: bool = False) -> bool:
    """Whether a smaller line on a baseline offset from ``line``'s by more than half a line
    stands close beside it (within a line's height of its band), or starts far into its
    width right above or below it: the labels of a drawing, scattered in two dimensions.
    ``loose``: beside it at any distance (on a page that has such labels already)."""
    for other in lines:
        if other is line or other.size >= line.size:
            continue
        if abs(other.baseline - line.baseline) <= 0.5 * line.size:
            continue
        apart = max(line.top - other.bottom, other.top - line.bottom)  # < 0: overlapping
        gap = max(other.x0 - line.x1, line.x0 - other.x1)
        inside = other.x0 > line.x0 + max(0.5 * (line.x1 - line.x0), 3 * line.size)
        if gap >= 0 and (loose or gap <= 2 * line.size) and apart <= line.size:
            return True
        if gap < 0 and inside and other.x0 < line.x1 and apart <= 1.5 * line.size:
            return True
    return False


def _one_of_cells(line: Line, others: Sequence[Line]) -> bool:
    """Whether ``line`` is one of several cells on one baseline: at least two short cell-like
    lines (a few words, or figures) share its baseline, apart from it and from each other.
    The row of a table, however far its rows are apart; the ``fast`` tier sees it too."""
    row = [
        o
        for o in others
        if _same_band(line, o) and abs(o.baseline - line.baseline) <= 0.25 * line.size
    ]
    return len(row) >= 2 and all(_cell_like(o) for o in row)


def _vertical(line: Line) -> bool:
    """Whether ``line`` is set vertically (a column header turned on its side): its box is
    much taller than wide and than its font."""
    height, width = line.bottom - line.top, line.x1 - line.x0
    return len(line.text.strip()) > 1 and height > 3 * line.size and height > 2 * width


def _row_band(line: Line, others: Sequence[Line], below: bool) -> list[Line]:
    """The lines of the nearest band right above (or below) ``line``, as far away as rows of
    a table can be (``_ROW_REACH`` font sizes, baseline to baseline)."""
    reach = _ROW_REACH * line.size
    if below:
        near = [o for o in others if 0 < o.top - line.top <= reach and o.top >= line.bottom - 1]
        key = min(near, key=lambda o: o.top, default=None)
    else:
        near = [o for o in others if 0 < line.top - o.top <= reach and o.bottom <= line.top + 1]
        key = max(near, key=lambda o: o.bottom, default=None)
    if key is None:
        return []
    return [key, *(o for o in others if o is not key and _same_band(key, o))]


def _between_rows(block: Block, others: Sequence[Line]) -> bool:
    """Whether ``block`` is a section label inside a table shown as text: alone on its band,
    with table rows right above and right below it (a label, however long, then short cells
    or figures side by side), and the two rows' cells past the labels lined up in a column."""
    above = _row_band(block.lines[0], others, below=False)
    below = _row_band(block.lines[-1], others, below=True)
    if _figure_row(above) and _figure_row(below):
        return True  # rows pdfium read as one line each: "Other 71.1 48.8 28.2 ..."
    if len(above) < 2 or len(below) < 2:
        return False
    first = min(min(o.x0 for o in above), min(o.x0 for o in below))
    cells_above = [o for o in above if o.x0 > first + _ALIGN]
    cells_below = [o for o in below if o.x0 > first + _ALIGN]
    if not cells_above or not cells_below:
        return False
    if not all(_cell_like(line) for line in (*cells_above, *cells_below)):
        return False
    return any(_aligned(a, b) or _under(a, b) for a in cells_above for b in cells_below)


def _over_figure_rows(block: Block, others: Sequence[Line]) -> bool:
    """Whether ``block`` (a bold line at body size) labels rows of a table shown as text: the
    next two bands under it each hold a label and figure cells (figures, dashes, amounts in
    brackets), the figures of the two rows lined up in a column. A heading introduces text;
    a label at body size over rows of figures is the table's ("Class A", "Totals")."""
    line = block.lines[-1]
    figures: list[list[Line]] = []
    for _ in range(2):
        band = _row_band(line, others, below=True)
        cells = [o for o in band if _figure_cell(o)]
        if not cells or len(cells) == len(band):
            return False
        figures.append(cells)
        line = band[0]
    return any(_aligned(a, b) for a in figures[0] for b in figures[1])


def _figure_cell(line: Line) -> bool:
    tokens = line.text.split()
    return bool(tokens) and all(_cell_like_figure(t) for t in tokens)


def _figure_row(band: Sequence[Line]) -> bool:
    """Whether a band reads as a table row of figures: a label, then at least
    ``_ROW_FIGURES`` figures and nothing but figures."""
    tokens = " ".join(line.text for line in sorted(band, key=lambda ln: ln.x0)).split()
    figures = [t for t in tokens if any(ch.isdigit() for ch in t) and _cell_like_figure(t)]
    if len(figures) < _ROW_FIGURES:
        return False
    first = next(i for i, t in enumerate(tokens) if t in figures)
    return all(t in figures for t in tokens[first:])


def _cell_like_figure(token: str) -> bool:
    return all(ch.isdigit() or ch in _FIGURE_MARKS for ch in token)


def _unflag(block: Block) -> None:
    block.heading_size = None
    block.bold_heading = False
    block.section_depth = 0


_FIGURE_MARKS = ".,%()+-$\u2013\u2212\u20ac\u00a3"  # signs, separators, dashes, currencies
_CELL_WORDS = 4  # a cell-like line has at most this many words (or is mostly figures)
_ALIGN = 2.0  # points: column edges this close line up
_ROW_REACH = 3.0  # font sizes: how far above or below the row another row of the table is
_ROW_FIGURES = 3  # figures on a line that make it a table row read as one line


def _cell_like(line: Line) -> bool:
    text = line.text.strip()
    if not text:
        return False
    if len(text.split()) <= _CELL_WORDS:
        return True
    figures = sum(ch.isdigit() or ch in _FIGURE_MARKS for ch in text if not ch.isspace())
    return figures * 2 >= len(text.replace(" ", ""))


def _same_band(a: Line, b: Line) -> bool:
    overlap = min(a.bottom, b.bottom) - max(a.top, b.top)
    return overlap >= 0.5 * min(a.bottom - a.top, b.bottom - b.top) and (
        b.x0 >= a.x1 or b.x1 <= a.x0
    )


def _aligned(a: Line, b: Line) -> bool:
    """Whether two lines line up as cells of one column: left, right or centre."""
    return (
        abs(a.x0 - b.x0) <= _ALIGN
        or abs(a.x1 - b.x1) <= _ALIGN
        or abs(a.x0 + a.x1 - b.x0 - b.x1) <= 2 * _ALIGN
    )


def _under(a: Line, b: Line) -> bool:
    """Whether ``a`` and ``b`` share some of their horizontal extent: cells of one column
    whose text is neither left, right nor centre aligned (or that pdfium joined with their
    neighbour cell into one line)."""
    return min(a.x1, b.x1) > max(a.x0, b.x0)


def _row_partner(line: Line, others: Sequence[Line], strict: bool) -> bool:
    """Whether ``line`` shares its band with a table cell that has a column below or above."""
    reach = _ROW_REACH * max(line.size, 1.0)
    for cell in others:
        if not _same_band(line, cell) or (strict and not _cell_like(cell)):
            continue
        for other in others:
            if other is cell or _same_band(line, other) or other.top == cell.top:
                continue
            if abs(other.top - cell.top) > reach or (strict and not _cell_like(other)):
                continue
            if not _aligned(other, cell):
                continue
            # ... and that other row has a cell under this line too: a grid of two by two.
            if any(
                label is not line
                and _same_band(other, label)
                and (_aligned(label, line) or _under(label, line))
                for label in others
            ):
                return True
    return False


def demote_repeated_headings(pages: Sequence[Sequence[Block]]) -> None:
    """Keep only the first of a heading repeated at one place on many pages: the same text
    (case and spacing aside) at about the same height (within half its size) on at least
    ``_REPEATS`` pages is a running title set large, which the furniture rules leave alone
    (they take only lines no larger than the body); later copies stay on the page as text."""
    seen: dict[str, list[Block]] = {}
    for blocks in pages:
        for block in blocks:
            if block.heading_size is None and not block.bold_heading:
                continue
            key = " ".join(block.text.lower().split())
            seen.setdefault(key, []).append(block)
    for copies in seen.values():
        if len(copies) < _REPEATS:
            continue
        first = copies[0]
        size = first.lines[0].size
        same_place = [b for b in copies[1:] if abs(b.top - first.top) <= 0.5 * size]
        if len(same_place) + 1 >= _REPEATS:
            for block in same_place:
                _unflag(block)


_REPEATS = 3  # pages a heading repeats on, at one height, to be a running title


class HeadingLevels:
    """Heading levels from the document's distinct heading sizes: biggest is level 1.

    Bold headings at body size come after every larger size, except numbered ones ("2.1
    Methods"), whose level is their numbering depth. Levels stop at 6.
    """

    def __init__(self, sizes: Iterable[float]) -> None:
        ranked = sorted(set(sizes), reverse=True)
        self._levels = {size: min(i + 1, 6) for i, size in enumerate(ranked)}
        self._bold_level = min(len(ranked) + 1, 6)

    def level(self, block: Block) -> int:
        if block.heading_size is not None:
            return self._levels.get(block.heading_size, 1)
        if block.section_depth:
            return min(block.section_depth, 6)
        return self._bold_level


def block_items(block: Block, levels: HeadingLevels) -> list[Item]:
    """The wire items of one block (a list block can yield a heading and a list)."""
    if block.furniture:
        inner = _paragraph(block.lines)
        cls = FooterItem if block.furniture == "footer" else HeaderItem
        return [cls(items=[inner], md=inner.md, bbox=inner.bbox)]
    if block.heading_size is not None or block.bold_heading:
        value = " ".join(line.text.strip() for line in block.lines)
        boxes = _line_boxes(block.lines, [line.text.strip() for line in block.lines], " ")
        return [mdr.heading_item(value, levels.level(block), boxes)]
    if block.kind == "code":
        return [_code(block.lines)]
    if block.kind == "list":
        return [_list(block.lines)]
    return [_paragraph(block.lines)]


def block_text(block: Block) -> str:
    """The plain text of a block for the page's ``text``: its lines, one per row."""
    if block.kind == "code" and not block.furniture:
        return _code_text(block.lines)
    return "\n".join(line.text for line in block.lines)


# --- grouping rules ------------------------------------------------------------------------


def _continues(block: Block, line: Line) -> bool:
    """Whether ``line`` belongs to ``block`` (whose last line is just above it)."""
    prev = block.lines[-1]
    if line.mono != prev.mono:
        return False
    if _STRAY_MARKS.match(prev.text):
        return False  # a lone period ends its paragraph; a lone speck starts none
    size = max(prev.size, line.size)
    if abs(line.size - prev.size) > 0.1 * size:
        return False
    if (
        len(block.lines) == 1
        and prev.size >= line.size * _NUMBERED_HEADING_RATIO
        and _HEADING_NUMBER.match(prev.text)
    ):
        return False  # a numbered line set larger than the text under it: a heading
    gap = line.baseline - prev.baseline
    marker = line_marker(line)
    limit = _MAX_LINE_GAP
    if block.kind == "code":
        limit = _MAX_CODE_GAP
    elif block.kind == "list" and marker is not None:
        limit = _MAX_LIST_ENTRY_GAP
    if gap <= 0.3 * size or gap > limit * size:
        return False
    if block.kind == "code":
        return line.x0 >= block.x0 - size
    if line.x1 < prev.x0 or line.x0 > prev.x1:
        return False
    if line.bold != prev.bold:
        return False
    if len(block.lines) == 1 and prev.italic and not line.italic and prev.x1 < line.x1 - 2 * size:
        return False  # a short italic line over roman text: a heading
    if block.kind == "list":
        first = block.lines[0]
        if marker is None:
            # A continuation line: indented past the first marker (hanging indent), or
            # wrapped back to the margin in the middle of a sentence.
            mid_sentence = line.text[:1].islower() or not prev.text.endswith(_SENTENCE_END)
            return line.x0 > first.x0 + 0.5 * size or mid_sentence
        # A switch between bullets and numbers at the same indent starts another list.
        same_indent = abs(line.x0 - first.x0) <= 0.5 * size
        return not same_indent or _is_ordered(marker) == _is_ordered(line_marker(first))
    if marker is not None:
        return False
    if _RTL.search(line.text) and _RTL.search(prev.text):
        return prev.x1 - line.x1 <= _INDENT * size  # right-to-left lines indent from the right
    return line.x0 - prev.x0 <= _INDENT * size


# --- items ---------------------------------------------------------------------------------


def _join(texts: Sequence[str], soft: Sequence[bool]) -> tuple[str, list[tuple[int, int]]]:
    """Join wrapped lines into one paragraph, undoing hyphenation at line ends.

    Returns the text and each line's (start, end) offsets in it.
    """
    value = ""
    spans: list[tuple[int, int]] = []
    for i, raw in enumerate(texts):
        text = raw.strip()
        if i > 0 and value:
            hyphen = value.endswith("-") and (soft[i - 1] or value[-2:-1].isalpha())
            if hyphen and text[:1].islower():
                value = value[:-1]
                start, _ = spans[-1]
                spans[-1] = (start, len(value))
            else:
                value += " "
        start = len(value)
        value += text
        spans.append((start, len(value)))
    return value, spans


def _line_boxes(lines: Sequence[Line], texts: Sequence[str], sep: str) -> list[BBox]:
    boxes = []
    pos = 0
    for line, text in zip(lines, texts, strict=True):
        boxes.append(line.bbox(pos, pos + len(text)))
        pos += len(text) + len(sep)
    return boxes


def _paragraph(lines: Sequence[Line]) -> TextItem:
    value, spans = _join([line.text for line in lines], [line.soft_hyphen for line in lines])
    boxes = [line.bbox(a, b) for line, (a, b) in zip(lines, spans, strict=True)]
    return mdr.text_item(value, boxes)


def _code_text(lines: Sequence[Line]) -> str:
    """Code lines with their indentation and blank lines restored from positions."""
    left = min(line.x0 for line in lines)
    gaps = [b.baseline - a.baseline for a, b in itertools.pairwise(lines)]
    pitch = min(gaps) if gaps else 0.0
    out: list[str] = []
    for i, line in enumerate(lines):
        if i > 0 and pitch > 0:
            out.extend([""] * max(0, round(gaps[i - 1] / pitch) - 1))
        indent = round((line.x0 - left) / (_MONO_ADVANCE * line.size)) if line.size else 0
        out.append(" " * indent + line.text.strip())
    return "\n".join(out)


def _code(lines: Sequence[Line]) -> Item:
    return mdr.code_item(_code_text(lines), None, [line.bbox() for line in lines])


@dataclass(slots=True)
class _Entry:
    level: int
    ordered: bool
    lines: list[Line]
    texts: list[str]


def _list(lines: Sequence[Line]) -> ListItem:
    """A list block → a (nested) ListItem; nesting follows the markers' indentation."""
    entries: list[_Entry] = []
    for line in lines:
        marker = line_marker(line)
        if marker is None and entries:
            entries[-1].lines.append(line)
            entries[-1].texts.append(line.text)
            continue
        text = line.text[marker.end() :] if marker else line.text
        ordered = _is_ordered(marker)
        entries.append(_Entry(0, ordered, [line], [text]))
    _assign_levels(entries)
    item, _ = _build_list(entries, 0, entries[0].level)
    return item


def _is_ordered(marker: re.Match[str] | None) -> bool:
    return marker is not None and marker.re in (_NUMBER, _BARE_NUMBER)


def _assign_levels(entries: list[_Entry]) -> None:
    """Nesting level of each entry from its marker's x, clustered within half a font size."""
    starts: list[float] = []
    for entry in entries:
        x, tol = entry.lines[0].x0, 0.5 * entry.lines[0].size
        if not any(abs(x - s) <= tol for s in starts):
            starts.append(x)
    starts.sort()
    for entry in entries:
        x, tol = entry.lines[0].x0, 0.5 * entry.lines[0].size
        entry.level = next(i for i, s in enumerate(starts) if abs(x - s) <= tol)


def _build_list(entries: list[_Entry], i: int, level: int) -> tuple[ListItem, int]:
    out: list[TextItem | ListItem] = []
    boxes: list[BBox] = []
    ordered = entries[i].ordered
    while i < len(entries) and entries[i].level >= level:
        entry = entries[i]
        if entry.level > level:
            sub, i = _build_list(entries, i, entry.level)
            out.append(sub)
            boxes.extend(sub.bbox or [])
            continue
        value, spans = _join(entry.texts, [line.soft_hyphen for line in entry.lines])
        entry_boxes = [ln.bbox(a, b) for ln, (a, b) in zip(entry.lines, spans, strict=True)]
        out.append(mdr.text_item(value, entry_boxes))
        boxes.extend(ln.bbox() for ln in entry.lines)
        i += 1
    return mdr.list_item(out, ordered, boxes), i
