"""OCR words on generated scans: spaces the recogniser drops, word boxes, tables, line scores.

Each fixture is text drawn with a TrueType font into a page-sized image at a scan resolution
(``tests.fixtures.images.font``), so the recogniser sees small text as on a real scan, where it
drops spaces after punctuation, in bold type and between a date and a time.
"""

from __future__ import annotations

import itertools

import pytest
from PIL import Image, ImageDraw

from lamina.engine import parse_document
from lamina.types import ParseConfiguration, TableItem
from tests.fixtures import images as fx

pytest.importorskip("rapidocr_onnxruntime", reason="the 'ocr' extra is not installed")

from lamina.engine import ocr

#: (text, bold): lines whose spaces RapidOCR alone loses at 150 dpi, 9 pt.
SPACED_LINES = (
    ("Human Factors", True),
    ("S. V. Kuzmin, D. G. C. McKeon / Physics Letters B 596 (2004) 301-305", False),
    ("25/12/2018 8:13:39 PM", False),
    ("Total: 1,250.00 paid on 12.05.2019, thank you.", False),
)
TABLE = (
    ("Item", "Qty", "Price"),
    ("Coffee beans", "2", "12.50"),
    ("Green tea", "10", "3.20"),
    ("Milk", "1", "0.99"),
)


def _page(lines: tuple[tuple[str, bool], ...], dpi: int, points: float) -> Image.Image:
    """An A4 page at ``dpi`` with ``lines`` at ``points`` size, one inch in, two lines apart."""
    size = round(points * dpi / 72)
    image = Image.new("L", (round(8.27 * dpi), round(11.7 * dpi)), 255)
    draw = ImageDraw.Draw(image)
    y = dpi
    for text, bold in lines:
        draw.text((dpi, y), text, font=fx.font(size, bold), fill=0)
        y += 2 * size
    return image


@pytest.fixture(scope="module")
def spaced() -> ocr.OcrPage:
    return ocr.ocr_image(_page(SPACED_LINES, 150, 9), 72 / 150)


def test_word_spaces_are_restored_from_the_pixels(spaced: ocr.OcrPage) -> None:
    assert [line.text for line in spaced.lines] == [text for text, _ in SPACED_LINES]


def test_upright_lines_are_not_turned_over() -> None:
    """RapidOCR's per-line direction classifier read this upright line as upside down (and it
    was then dropped as unreadable): the page's orientation is decided once, for the page."""
    line = "The quick brown fox jumps over the lazy dog and more text"
    page = ocr.ocr_image(_page(((line, False), ("Short bold title", True)), 200, 9), 72 / 200)
    assert [ln.text for ln in page.lines] == [line, "Short bold title"]


def test_bold_lines_are_told_from_their_strokes() -> None:
    lines = (
        ("Results and Discussion", True),
        ("The measured values agree with the model within the error bars", False),
        ("and the remaining lines of the paragraph are set in regular type", False),
        ("as body text usually is in reports and papers of this kind.", False),
    )
    page = ocr.ocr_image(_page(lines, 200, 9), 72 / 200)
    assert [(ln.text, ln.bold) for ln in page.lines] == [(t, b) for t, b in lines]


def test_word_boxes_follow_the_words(spaced: ocr.OcrPage) -> None:
    for line in spaced.lines:
        assert line.words is not None
        assert [w[0] for w in line.words] == line.text.split()
        spans = [(x0, x1) for _, x0, x1 in line.words]
        assert all(x0 < x1 for x0, x1 in spans)
        # Left to right, not overlapping, and inside the line's box.
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
        assert line.x0 - 2 <= spans[0][0] and spans[-1][1] <= line.x1 + 2


def test_ink_gaps_of_a_drawn_line() -> None:
    """Two words 30 px apart: one gap, where they are drawn; letters of a word have none."""
    font = fx.font(28)
    image = Image.new("L", (400, 50), 255)
    draw = ImageDraw.Draw(image)
    draw.text((10, 5), "word", font=font, fill=0)
    left_end = 10 + font.getbbox("word")[2]
    draw.text((left_end + 30, 5), "gap", font=font, fill=0)
    import numpy as np

    found = ocr._ink_gaps(np.asarray(image))
    assert found is not None
    gaps, first, last, band = found.gaps, found.start, found.end, found.band
    assert len(gaps) == 1
    start, end = gaps[0]
    assert left_end - 8 <= start and end <= left_end + 32
    assert first < start and end < last and band > 15


def test_scanned_table_becomes_a_table() -> None:
    image = Image.new("L", (1240, 400), 255)
    draw = ImageDraw.Draw(image)
    for r, row in enumerate(TABLE):
        for c, text in enumerate(row):
            draw.text((100 + c * 300, 50 + r * 40), text, font=fx.font(22), fill=0)
    data = fx.image_bytes(image, "PNG")
    result = parse_document(
        data, filename="table.png", config=ParseConfiguration(tier="cost_effective")
    )
    tables = [item for item in result.pages[0].items if isinstance(item, TableItem)]
    assert len(tables) == 1
    rows = [[str(c) for c in row] for row in tables[0].rows]
    assert rows == [list(row) for row in TABLE]


def test_item_boxes_carry_the_line_scores() -> None:
    data = fx.image_bytes(fx.text_image("Receipt number 4711"), "PNG")
    result = parse_document(
        data, filename="line.png", config=ParseConfiguration(tier="cost_effective")
    )
    boxes = [b for item in result.pages[0].items for b in (getattr(item, "bbox", None) or [])]
    assert boxes
    assert all(b.confidence is not None and 0.5 < b.confidence <= 1.0 for b in boxes)


def _ruled_grid() -> Image.Image:
    """A ruled 4 x 3 table: rules 3 px wide, columns at 80/480/830/1180 px, rows 60 px."""
    image = Image.new("L", (1400, 400), 255)
    draw = ImageDraw.Draw(image)
    xs, top, pitch = (80, 480, 830, 1180), 60, 60
    for r, row in enumerate(RULED):
        for c, text in enumerate(row):
            draw.text((xs[c] + 15, top + r * pitch + 15), text, font=fx.font(24), fill=0)
    for r in range(len(RULED) + 1):
        draw.line((xs[0], top + r * pitch, xs[-1], top + r * pitch), fill=0, width=3)
    for x in xs:
        draw.line((x, top, x, top + len(RULED) * pitch), fill=0, width=3)
    return image


RULED = (
    ("Region", "Sales 2023", "Sales 2024"),
    ("North and east", "1,200", "1,350"),
    ("South", "980", "1,020"),
    ("West coast", "1,410", "1,505"),
)


def test_rulings_of_a_drawn_grid() -> None:
    import numpy as np

    segments = ocr.rulings(np.asarray(_ruled_grid()))
    horizontal = sorted(round(y0) for x0, y0, x1, y1 in segments if y0 == y1)
    vertical = sorted(round(x0) for x0, y0, x1, y1 in segments if x0 == x1)
    assert horizontal == pytest.approx([61, 121, 181, 241, 301], abs=2)
    assert vertical == pytest.approx([81, 481, 831, 1181], abs=2)


def test_ruled_scanned_table_becomes_a_table() -> None:
    data = fx.image_bytes(_ruled_grid(), "PNG")
    result = parse_document(
        data, filename="grid.png", config=ParseConfiguration(tier="cost_effective")
    )
    tables = [item for item in result.pages[0].items if isinstance(item, TableItem)]
    assert len(tables) == 1
    assert [[str(c) for c in row] for row in tables[0].rows] == [list(row) for row in RULED]


#: Receipt lines in fixed-width type with tracking, as thermal printers set them.
FIXED_WIDTH_LINES = (
    "Invoice number 6",
    "35.10 litre Pump 02",
    "given Relief under Section",
    "Points Awarded 35",
    "Thank You Please Come Again",
    "Total Gross Amount",
)


def test_fixed_width_type_keeps_its_words() -> None:
    """Narrow letters (``i``, ``l``) of fixed-width type leave blanks as wide as a word gap of
    proportional type: the pitch, not the x-height, tells the word gaps (was ``l i t r e``)."""
    mono = fx.font(24, mono=True)
    pitch = mono.getlength("M") + 4
    image = Image.new("L", (900, 40 + 48 * len(FIXED_WIDTH_LINES)), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(FIXED_WIDTH_LINES):
        for k, ch in enumerate(line):
            draw.text((30 + k * pitch, 20 + 48 * i), ch, font=mono, fill=0)
    page = ocr.ocr_image(image, 72 / 200)
    assert [ln.text for ln in page.lines] == list(FIXED_WIDTH_LINES)


def test_label_and_value_rows_on_a_scan_are_not_a_table() -> None:
    """Two loose columns (a receipt's labels and amounts) line up by chance: no table without
    rules or three filled columns, and the lines stay text."""
    rows = (("Date: 25/12/2018", "Time: 20:13"), ("TOTAL AMOUNT", "60.31"), ("CASH", "70.30"))
    rows += (("CHANGE", "10.00"),)
    image = Image.new("L", (1000, 300), 255)
    draw = ImageDraw.Draw(image)
    for r, (label, value) in enumerate(rows):
        draw.text((60, 40 + r * 50), label, font=fx.font(24), fill=0)
        draw.text((600, 40 + r * 50), value, font=fx.font(24), fill=0)
    result = parse_document(
        fx.image_bytes(image, "PNG"),
        filename="receipt.png",
        config=ParseConfiguration(tier="cost_effective"),
    )
    items = result.pages[0].items
    assert not [item for item in items if isinstance(item, TableItem)]
    markdown = result.pages[0].markdown
    assert all(text in markdown for row in rows for text in row)
