"""Heading rules of the layout stage, on plain lines (no PDF needed).

Each case is a page as a list of lines (text, top, size, bold); the body text is set at 10 pt
unless the case says otherwise. The regressions come from real documents (issue #17): numbered
headings set barely larger than the body, small bold figure labels, and a cover's or a
drawing's stacked labels.
"""

from __future__ import annotations

import pytest

from lamina.engine import layout
from lamina.engine.layout import Line
from lamina.engine.pdf_text import unreverse_lam_alef

BODY = "This sentence is body text and runs the whole width of the column, as body text does."


def _line(text: str, top: float, size: float = 10.0, bold: bool = False, x0: float = 72.0) -> Line:
    width = 0.5 * size * len(text)
    italic = text.startswith("_")
    text = text.strip("_")
    return Line(text, x0, top, x0 + width, top + size, top + 0.8 * size, size, bold, italic=italic)


def _page(spec: list[tuple[str, float, float, bool]]) -> list[layout.Block]:
    """Lines (text, top, size, bold) from the left margin; ``_text_`` is set in italic."""
    lines = [_line(text, top, size, bold) for text, top, size, bold in spec]
    blocks = layout.order_blocks(layout.group_lines(lines))
    body = layout.body_size(lines)
    layout.mark_heading_candidates(blocks, body, body)
    return blocks


def _headings(blocks: list[layout.Block]) -> list[str]:
    return [b.text for b in blocks if b.heading_size is not None or b.bold_heading]


CASES = {
    # A numbered heading at 10.8 pt over 10 pt body text: too small for the size rule alone,
    # but its number and its one line make it a heading, and it does not swallow the text
    # under it.
    "numbered heading a little larger": (
        [("(1) Scope of the rules", 100, 10.8, False)]
        + [(BODY, 118 + 12 * i, 10.0, False) for i in range(4)],
        ["(1) Scope of the rules"],
    ),
    # The same size without a number is not enough.
    "unnumbered line a little larger": (
        [("Scope of the rules", 100, 10.8, False)]
        + [(BODY, 118 + 12 * i, 10.0, False) for i in range(4)],
        [],
    ),
    # A larger numbered line that ends like a sentence is text.
    "numbered sentence": (
        [("2. The rules apply to all members.", 100, 10.8, False)]
        + [(BODY, 118 + 12 * i, 10.0, False) for i in range(4)],
        [],
    ),
    # A bold label in a figure, smaller than the body text: not a heading.
    "small bold figure label": (
        [(BODY, 100 + 12 * i, 10.0, False) for i in range(4)]
        + [("Tightened nut", 200, 8.0, True)]
        + [(BODY, 240 + 12 * i, 10.0, False) for i in range(4)],
        [],
    ),
    # A bold heading at body size stays one.
    "bold heading at body size": (
        [("Elastic Stop Nut", 100, 10.0, True)]
        + [(BODY, 114 + 12 * i, 10.0, False) for i in range(4)],
        ["Elastic Stop Nut"],
    ),
    # Three bold lines of one style stacked with nothing between (a cover's topics, a
    # drawing's labels): labels. The heading of a different size above them stays.
    "stacked same-style labels": (
        [("Access control in practice", 60, 18.0, True)]
        + [(t, 100 + 30 * i, 12.0, True) for i, t in enumerate(("Roles", "Row rules", "Masks"))]
        + [(BODY, 200 + 12 * i, 10.0, False) for i in range(4)],
        ["Access control in practice"],
    ),
    # Two same-style headings with text between them are both headings.
    "headings with text between": (
        [("First part", 100, 12.0, True)]
        + [(BODY, 120 + 12 * i, 10.0, False) for i in range(3)]
        + [("Second part", 180, 12.0, True)]
        + [(BODY, 200 + 12 * i, 10.0, False) for i in range(3)]
        + [("Third part", 260, 12.0, True)]
        + [(BODY, 280 + 12 * i, 10.0, False) for i in range(3)],
        ["First part", "Second part", "Third part"],
    ),
    # An italic line at body size standing over a paragraph: a heading (a handbook's).
    "italic heading over a paragraph": (
        [(BODY, 100 + 12 * i, 10.0, False) for i in range(3)]
        + [("_Elastic Stop Nut_", 150, 10.0, False)]
        + [(BODY, 164 + 12 * i, 10.0, False) for i in range(3)],
        ["Elastic Stop Nut"],
    ),
    # An italic line with no paragraph right under it (a quote, a name): text.
    "italic line alone": (
        [(BODY, 100 + 12 * i, 10.0, False) for i in range(3)]
        + [("_Ars longa, vita brevis_", 150, 10.0, False)]
        + [(BODY, 200 + 12 * i, 10.0, False) for i in range(3)],
        [],
    ),
    # A line ending with a colon leads in to what follows: not a heading, however set.
    "lead-in with a colon": (
        [("For more information:", 100, 12.0, True), ("Note:", 130, 10.0, True)]
        + [(BODY, 160 + 12 * i, 10.0, False) for i in range(4)],
        [],
    ),
    # A web address set large on a cover or a back page is a link, not a heading.
    "web address": (
        [("ibm.com/redbooks", 100, 15.0, False), ("www.example.org", 130, 15.0, True)]
        + [(BODY, 160 + 12 * i, 10.0, False) for i in range(4)],
        [],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_heading_candidates(name: str) -> None:
    spec, expected = CASES[name]
    assert _headings(_page(spec)) == expected


def test_numbered_heading_does_not_take_the_text_under_it() -> None:
    blocks = _page(CASES["numbered heading a little larger"][0])
    assert [len(b.lines) for b in blocks] == [1, 4]


# pdfium's text of a lam-alef ligature glyph comes out alef-first; both letters share the
# glyph's box. Indices whose boxes are equal stand for one glyph.
ALEF, ALEF_HAMZA_BELOW, LAM, NOON = "\u0627", "\u0625", "\u0644", "\u0646"


@pytest.mark.parametrize(
    ("text", "one_glyph", "expected"),
    [
        # "al-intaj..." read as alef, (alef-hamza, lam) from one glyph → alef, lam, alef-hamza
        (ALEF + ALEF_HAMZA_BELOW + LAM + NOON, {(1, 2)}, ALEF + LAM + ALEF_HAMZA_BELOW + NOON),
        # the article "al" drawn as two glyphs stays as it is
        (ALEF + LAM + NOON, set(), ALEF + LAM + NOON),
        # text without the pair is untouched
        ("plain text", set(), "plain text"),
    ],
)
def test_unreverse_lam_alef(text: str, one_glyph: set[tuple[int, int]], expected: str) -> None:
    glyph_of = {i: i for i in range(len(text))}
    for a, b in one_glyph:
        glyph_of[b] = a

    def box(index: int) -> tuple[float, ...]:
        g = glyph_of[index]
        return (10.0 * g, 0.0, 10.0 * g + 8.0, 12.0)

    assert unreverse_lam_alef(text, box) == expected


def test_form_labels_far_apart_are_not_headings() -> None:
    """A form: bold labels on the right, values in a column on the left, the rows further
    apart than a table's (values of several lines between them). A real bold heading above
    the form stays one. Right-to-left text, as in the Persian form this comes from."""
    alef, beh, seen = "\u0627", "\u0628", "\u0633"
    label_a, label_b = f"{alef}{seen} {beh}{alef}", f"{beh}{seen} {alef}{beh}{seen}"
    value = f"{seen}{alef} {beh}"

    def rtl(text: str, top: float, x1: float, bold: bool, size: float = 12.0) -> Line:
        x0 = x1 - 0.5 * size * len(text)
        return Line(text, x0, top, x1, top + size, top + 0.8 * size, size, bold)

    lines = [
        rtl(f"{beh}{alef}{seen}", 60, 520, True, 16.0),  # a heading over the form
        rtl(label_a, 100, 520, True),
        rtl(value, 100, 260, False),
        *[rtl(BODY[:40], 118 + 18 * i, 260, False) for i in range(3)],
        rtl(label_b, 180, 520, True),
        rtl(value, 180, 255, False),
        rtl(f"{alef}{beh}", 210, 520, True),  # the wrapped end of the second label
        *[rtl(BODY, 240 + 18 * i, 520, False) for i in range(4)],
    ]
    lines.sort(key=lambda ln: ln.top)
    blocks = layout.order_blocks(layout.group_lines(lines))
    body = layout.body_size(lines)
    layout.mark_heading_candidates(blocks, body, body)
    layout.demote_table_rows(blocks)
    assert _headings(blocks) == [f"{beh}{alef}{seen}"]


def test_right_to_left_paragraph_lines_indent_from_the_right() -> None:
    """Right-aligned right-to-left lines of one paragraph (ragged on the left) are one block."""
    arabic = "\u0627\u0644\u0633\u0644\u0627\u0645 \u0639\u0644\u064a\u0643\u0645 "
    widths = (300, 180, 260)
    lines = [
        Line(arabic * 3, 520 - w, 100 + 16 * i, 520, 112 + 16 * i, 110 + 16 * i, 12.0)
        for i, w in enumerate(widths)
    ]
    assert [len(b.lines) for b in layout.group_lines(lines)] == [3]


def test_section_label_inside_a_table_shown_as_text_is_no_heading() -> None:
    """The ``fast`` tier shows tables as text: a bold section label on a row of its own
    ("Wealth index") between rows of labels and figures was a heading. A bold heading over a
    paragraph on the same page stays one."""

    def row(label: str, figures: tuple[str, ...], top: float) -> list[Line]:
        cells = [_line(label, top)]
        cells += [_line(f, top, x0=250.0 + 60 * k) for k, f in enumerate(figures)]
        return cells

    lines = [
        _line("Results by group", 40, bold=True),
        *[_line(BODY, 56 + 12 * i) for i in range(3)],
        *row("Scheduled caste", ("74.8", "55.8", "42.9"), 110),
        *row("Other", ("71.1", "48.8", "28.2"), 122),
        _line("Wealth index", 134, bold=True),
        *row("Lowest", ("64.5", "48.6", "34.3"), 146),
        *row("Second", ("68.5", "50.4", "36.2"), 158),
    ]
    blocks = layout.order_blocks(layout.group_lines(lines))
    body = layout.body_size(lines)
    layout.mark_heading_candidates(blocks, body, body)
    layout.demote_table_rows(blocks)
    assert _headings(blocks) == ["Results by group"]


def _edge_page(lines: list[Line], height: float = 792.0) -> list[str]:
    blocks = layout.order_blocks(layout.group_lines(lines))
    body = layout.body_size(lines)
    layout.mark_heading_candidates(blocks, body, body)
    layout.demote_page_edge_and_figure_text(blocks, height, body)
    return _headings(blocks)


def test_cover_kicker_and_imprint_are_no_headings() -> None:
    """A cover: a bold kicker in the top margin above the (larger) title, and a large
    wordmark at the foot of the page with nothing under it. Only the title is a heading."""
    lines = [
        _line("Front cover", 30, 24.0, bold=True, x0=290.0),
        _line("Access Control in Practice", 90, 40.0, bold=True),
        *[_line(BODY, 200 + 12 * i) for i in range(4)],
        _line("Redpaper", 712, 60.0, bold=True, x0=300.0),
    ]
    assert _edge_page(lines) == ["Access Control in Practice"]


def test_heading_at_the_top_of_a_page_over_text_stays() -> None:
    """A section heading in the top margin is a heading when nothing larger is on the page,
    and one near the foot of the page stays when text follows it."""
    lines = [
        _line("Methods", 40, 14.0, bold=True),
        *[_line(BODY, 60 + 12 * i) for i in range(50)],
        _line("Results", 690, 14.0, bold=True),
        *[_line(BODY, 710 + 12 * i) for i in range(4)],
    ]
    assert _edge_page(lines) == ["Methods", "Results"]


def test_labels_of_a_drawing_are_no_headings() -> None:
    """A syntax diagram: clauses at 11.5 pt, each with a 9 pt note beside it on an offset
    baseline, close by or (once the page has such labels) far off. A heading hung in the
    margin, with body text beside it, stays."""
    lines = [
        _line("Permissions", 60, 16.0, bold=True, x0=40.0),
        _line(BODY, 80, x0=140.0),
        *[_line(BODY, 92 + 12 * i) for i in range(3)],
    ]
    for k, clause in enumerate(("CREATE PERMISSION <name>", "ON <table name>", "FOR ROWS")):
        top = 160 + 40 * k
        lines.append(_line(clause, top, 11.5, bold=k == 2, x0=150.0))
        lines.append(_line("Names what the clause does", top - 16, 9.0, x0=lines[-1].x1 + 8))
    # Two more clauses whose notes stand far to the right (joined to them by drawn lines).
    for k, clause in enumerate(("ENABLE", "DISABLE;")):
        top = 280 + 30 * k
        lines.append(_line(clause, top, 11.5, bold=True, x0=150.0))
        lines.append(_line("Says what the clause does", top - 16, 9.0, x0=320.0))
    lines += [_line(BODY, 350 + 12 * i) for i in range(4)]
    assert _edge_page(lines) == ["Permissions"]


def _table_page(lines: list[Line]) -> list[str]:
    blocks = layout.order_blocks(layout.group_lines(lines))
    body = layout.body_size(lines)
    layout.mark_heading_candidates(blocks, body, body)
    layout.demote_table_rows(blocks)
    return _headings(blocks)


def test_row_label_with_cells_on_its_baseline_is_no_heading() -> None:
    """The ``fast`` tier: a bold "Totals" row of a table whose rows are far apart (no row
    within reach to line up with) still shares its baseline with several figure cells."""
    lines = [
        _line("Election results", 40, 14.0, bold=True),
        *[_line(BODY, 60 + 12 * i) for i in range(3)],
        _line("Totals", 140, bold=True),
        *[_line(f, 140, x0=200.0 + 70 * k) for k, f in enumerate(("371 373", "317 1102", "835"))],
    ]
    assert _table_page(lines) == ["Election results"]


def test_heading_with_one_note_on_its_line_stays() -> None:
    """A heading with a single short text on its baseline (a date, a page number) is not a
    row of cells."""
    lines = [
        _line("Election results", 40, bold=True),
        _line("2018", 40, x0=400.0),
        *[_line(BODY, 56 + 12 * i) for i in range(3)],
    ]
    assert _table_page(lines) == ["Election results"]


def test_vertical_column_header_is_no_heading() -> None:
    """A column header set on its side: a box far taller than its font and than it is wide."""
    turned = Line("Poll Book Totals", 121.0, 165.0, 129.0, 250.0, 129.0, 11.0, True)
    lines = [
        _line("Election results", 40, 14.0, bold=True),
        *[_line(BODY, 60 + 12 * i) for i in range(3)],
        turned,
        *[_line(BODY, 260 + 12 * i) for i in range(3)],
    ]
    assert _table_page(lines) == ["Election results"]


def test_section_label_between_rows_read_as_one_line_is_no_heading() -> None:
    """pdfium may read a whole table row as one line ("Other 71.1 48.8 28.2"): a bold label
    alone between two such rows is still a section label of the table."""
    lines = [
        _line("Results by group", 40, bold=True),
        *[_line(BODY, 56 + 12 * i) for i in range(3)],
        _line("Other 71.1 48.8 28.2 0.8 13.3", 110),
        _line("Wealth index", 122, bold=True),
        _line("Lowest", 134),
        _line("64.5 48.6 34.3 0.5 10.5", 134, x0=200.0),
    ]
    assert _table_page(lines) == ["Results by group"]


def test_form_label_beside_a_long_value_is_no_heading() -> None:
    """The ``fast`` tier on a form: two bold labels with short values lined up in a column
    are labels (the rule above); a third label in their style and on their edge, whose value
    beside it is a long wrapped sentence (not cell-like), is a label too. The bold heading
    over the form, with nothing beside it, stays one."""

    def right(text: str, top: float, x1: float, bold: bool, size: float = 12.0) -> Line:
        x0 = x1 - 0.5 * size * len(text)
        return Line(text, x0, top, x1, top + size, top + 0.8 * size, size, bold)

    long_value = "Cast billets made by the continuous process, as the annex says"
    lines = [
        right("Product standard", 60, 520, True, 16.0),
        right("Standard name", 100, 520, True),
        right(long_value, 100, 420, False),
        right(long_value[:30], 118, 420, False),
        right("Mandatory", 160, 520, True),
        right("Yes", 160, 300, False),
        right("Issued by", 200, 520, True),
        right("National body", 200, 300, False),
        *[right(BODY, 260 + 14 * i, 520, False) for i in range(4)],
    ]
    lines.sort(key=lambda ln: ln.top)
    assert _table_page(lines) == ["Product standard"]


def test_centred_title_lines_are_one_heading() -> None:
    """A large title centred over two lines (the second starts well right of the first) is
    one heading; a same-size heading further down, after body text, stays its own."""
    lines = [
        _line("Annual Review of Coastal Shipping", 60, 24.0, x0=72.0),
        _line("and Harbour Works", 90, 24.0, x0=170.0),
        *[_line(BODY, 130 + 12 * i) for i in range(4)],
        _line("Outlook for the Year", 200, 24.0, x0=72.0),
        *[_line(BODY, 240 + 12 * i) for i in range(4)],
    ]
    blocks = layout.order_blocks(layout.group_lines(lines))
    layout.mark_heading_candidates(blocks, 10.0, 10.0)
    assert _headings(blocks) == [
        "Annual Review of Coastal Shipping and Harbour Works",
        "Outlook for the Year",
    ]


def test_lone_period_line_ends_its_paragraph() -> None:
    """A paragraph's closing period set on a line of its own (the producer placed it a
    little lower) ends the paragraph: the italic run-in heading under it is not swallowed
    into the paragraph, and stays a heading over the text it introduces."""
    lines = [
        *[_line(BODY, 100 + 12 * i) for i in range(3)],
        _line(".", 134, x0=72.0),
        _line("_Stainless Steel Locking Nut_", 146),
        *[_line(BODY, 160 + 12 * i) for i in range(3)],
    ]
    blocks = layout.order_blocks(layout.group_lines(lines))
    layout.mark_heading_candidates(blocks, 10.0, 10.0)
    assert _headings(blocks) == ["Stainless Steel Locking Nut"]
    assert blocks[0].text.endswith(".") and "Stainless" not in blocks[0].text


def test_bold_label_over_rows_of_figures_is_no_heading() -> None:
    """The ``fast`` tier on a key-figures table shown as text: bold group labels at body size
    ("Class A") over rows of a label and a right-aligned amount, the rows further apart
    than their labels are long. The bold heading over a paragraph stays one."""

    def amount(text: str, top: float) -> Line:
        return _line(text, top, x0=530.0 - 5.0 * len(text))

    lines = [_line("Summary of the year", 40, bold=True)]
    lines += [_line(BODY, 56 + 12 * i) for i in range(3)]
    top = 110.0
    for group, values in (("Class A", ("5,111,372", "(49,136)")), ("Class B", ("-", "471"))):
        lines.append(_line(group, top, bold=True))
        for k, (label, value) in enumerate(
            zip(("Net value", "Units in issue"), values, strict=True)
        ):
            lines += [_line(label, top + 22 * (k + 1)), amount(value, top + 22 * (k + 1))]
        top += 100
    assert _table_page(lines) == ["Summary of the year"]


def test_title_repeated_at_the_top_of_every_page_is_kept_once() -> None:
    """A report title set large at the same height on every page is a running title: the
    first copy stays a heading, the later ones do not; a heading that differs per page, and
    one that repeats lower down on a page, stay headings."""
    pages = []
    for n, (part, top) in enumerate((("Part one", 80), ("Part two", 80), ("Summary", 300))):
        lines = [
            _line("PRIMARY ELECTION RESULTS", 40, 16.0),
            _line(part, top, 12.0, bold=True),
            *[_line(BODY, top + 20 + 12 * i) for i in range(4)],
        ]
        if n == 2:
            lines.insert(1, _line("Part one", 80, 12.0, bold=True))
            lines.insert(2, _line(BODY, 100))
        blocks = layout.order_blocks(layout.group_lines(lines))
        layout.mark_heading_candidates(blocks, 10.0, 10.0)
        pages.append(blocks)
    layout.demote_repeated_headings(pages)
    assert [_headings(blocks) for blocks in pages] == [
        ["PRIMARY ELECTION RESULTS", "Part one"],
        ["Part two"],
        ["Part one", "Summary"],
    ]
