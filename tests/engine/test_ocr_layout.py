"""OCR lines as the layout needs them, on generated scans: columns with a narrow gutter, bullets
the detector leaves out, section numbers set apart from their headings, bold lead-ins.

Each page is text drawn with a TrueType font (``tests.fixtures.images.font``) at a scan
resolution, so the detector and recogniser see what they see on a real scan.
"""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from lamina.engine import parse_document
from lamina.engine.layout import Line, group_lines
from lamina.types import ParseConfiguration, TextItem
from tests.fixtures import images as fx

pytest.importorskip("rapidocr_onnxruntime", reason="the 'ocr' extra is not installed")

from lamina.engine import ocr

DPI = 200
PX = 9 * DPI // 72  # 9 pt type

LEFT = (
    "the inspection found no serious problems",
    "at any of the three plants visited during",
    "the spring and the summer of this year so",
    "the report recommends no further action.",
)
RIGHT = (
    "several machines were replaced in March",
    "after the old ones had been in service for",
    "more than twenty years and were worn out",
    "beyond any reasonable hope of a repair.",
)


def _page(
    width_in: float = 8.27, height_in: float = 4.0
) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (round(width_in * DPI), round(height_in * DPI)), 255)
    return image, ImageDraw.Draw(image)


def _parse(image: Image.Image) -> list[object]:
    result = parse_document(
        fx.image_bytes(image, "PNG"),
        filename="scan.png",
        config=ParseConfiguration(tier="cost_effective"),
    )
    return list(result.pages[0].items)


def test_columns_with_a_narrow_gutter_are_read_one_after_the_other() -> None:
    """Two columns a little over a word space apart (as in a dense handbook): each column's
    lines make one paragraph; no line joins the left column's text to the right one's."""
    image, draw = _page()
    font = fx.font(PX)
    width = max(font.getbbox(t)[2] for t in LEFT)
    gutter = round(1.2 * PX)  # about a line height: the detector's boxes nearly touch
    for i, (left, right) in enumerate(zip(LEFT, RIGHT, strict=True)):
        y = DPI // 2 + i * round(1.3 * PX)
        draw.text((DPI // 2, y), left, font=font, fill=0)
        draw.text((DPI // 2 + width + gutter, y), right, font=font, fill=0)
    texts = [item.value for item in _parse(image) if isinstance(item, TextItem)]
    assert len(texts) == 2, texts
    first, second = texts
    assert first.startswith("the inspection") and first.endswith("further action.")
    assert second.startswith("several machines") and second.endswith("of a repair.")


def test_a_dot_after_text_or_a_letter_before_it_is_no_bullet() -> None:
    """Only a lone solid dot before a line's first letter is a bullet: a line that ends in a
    full stop and the line right of it on the same row, or a line starting near the edge of
    the page, get none."""
    image, draw = _page(height_in=2.0)
    font = fx.font(PX)
    draw.text((DPI // 2, DPI // 2), "Total paid.", font=font, fill=0)
    left_end = DPI // 2 + font.getbbox("Total paid.")[2]
    draw.text((left_end + 4 * PX, DPI // 2), "Thank you for your order", font=font, fill=0)
    draw.text((4, DPI), "Printed on recycled paper", font=font, fill=0)
    page = ocr.ocr_image(image, 72 / DPI)
    assert page.lines
    assert not any(line.text.startswith("\u2022") for line in page.lines)


def test_section_number_set_apart_joins_its_heading() -> None:
    """``5.2`` an em and more before its heading's words is one line with them."""
    image, draw = _page(height_in=2.0)
    bold = fx.font(PX, bold=True)
    draw.text((DPI // 2, DPI // 2), "5.2", font=bold, fill=0)
    draw.text((DPI // 2 + 3 * PX, DPI // 2), "Quantitative Results", font=bold, fill=0)
    page = ocr.ocr_image(image, 72 / DPI)
    assert [line.text for line in page.lines] == ["5.2 Quantitative Results"]


def test_a_bold_lead_in_does_not_make_the_line_bold() -> None:
    """A list entry opening with a bold term is regular type; a line all in bold is bold."""
    image, draw = _page(height_in=3.0)
    regular, bold = fx.font(PX), fx.font(PX, bold=True)
    x, y = DPI // 2, DPI // 2
    draw.text((x, y), "Templates:", font=bold, fill=0)
    lead = bold.getbbox("Templates: ")[2]
    rest = "formats for resumes, letters and invoices helped users save a lot of time"
    draw.text((x + lead, y), rest, font=regular, fill=0)
    rows = (
        "Word processors changed how offices worked in the eighties and",
        "nineties, as the typewriter gave way to the personal computer",
    )
    for i, text in enumerate(rows):
        draw.text((x, y + (i + 2) * 2 * PX), text, font=regular, fill=0)
    draw.text((x, y + 6 * 2 * PX), "Key Features That Changed Writing", font=bold, fill=0)
    page = ocr.ocr_image(image, 72 / DPI)
    by_start = {line.text.split()[0]: line.bold for line in page.lines}
    assert by_start["Templates:"] is False
    assert by_start["Key"] is True
    assert by_start["Word"] is False


def _line(text: str, x0: float, top: float) -> Line:
    return Line(text, x0, top, x0 + 300, top + 10, top + 8, 10.0)


def test_bare_list_numbers_count_across_wrapped_lines() -> None:
    """``1 …`` / wrapped line / ``2 …`` / wrapped line: a numbered list whose numbers lost their
    periods (as OCR reads them) is still one, its wrapped lines set with a hanging indent."""
    lines = [
        _line("1 Undo and redo made experiments easy and", 72, 100),
        _line("mistakes cheap to correct.", 86, 112),
        _line("2 Spell checking became standard, helping", 72, 124),
        _line("users to spot errors.", 86, 136),
        _line("3 Templates saved time.", 72, 148),
    ]
    blocks = group_lines(lines)
    assert [b.kind for b in blocks] == ["list"]
    assert [line.numbered for line in lines] == [True, False, True, False, True]


def test_a_number_opening_a_sentence_is_no_list() -> None:
    lines = [
        _line("12 people came to the meeting, which was held", 72, 100),
        _line("in the old town hall on a rainy afternoon.", 72, 112),
        _line("3 of them spoke.", 72, 124),
    ]
    blocks = group_lines(lines)
    assert not any(line.numbered for line in lines)
    assert [b.kind for b in blocks] == ["text"]


def _dotted(dot: bool = True, square: bool = False, ring: bool = False) -> Image.Image:
    """A strip with a dot (or a ring) 40 px before a 30 px tall line's box starting at x=100."""
    image = Image.new("L", (400, 60), 255)
    draw = ImageDraw.Draw(image)
    box = (52, 25, 62, 35)
    if ring:
        draw.ellipse(box, outline=0, width=2)
    elif square:
        draw.rectangle(box, fill=0)
    elif dot:
        draw.ellipse(box, fill=0)
    draw.rectangle((100, 15, 380, 45), fill=0)  # stands for the line's letters
    return image


def _ocr_line() -> ocr.OcrLine:
    line = ocr.OcrLine("Keep the receipts", 100, 10, 380, 40, 34, 30)
    line.words = [("Keep", 100, 160), ("the", 170, 220), ("receipts", 230, 380)]
    return line


@pytest.mark.parametrize("square", [False, True])
def test_a_lone_dot_before_a_line_is_its_bullet(square: bool) -> None:
    import numpy as np

    line = _ocr_line()
    ocr.mark_bullets(np.asarray(_dotted(square=square)), [line], 1.0)
    assert line.text == "\u2022 Keep the receipts"
    assert line.words is not None and line.words[0][0] == "\u2022"
    assert 50 <= line.x0 <= 54 and line.words[0][1] == line.x0


@pytest.mark.parametrize("options", [{"dot": False}, {"ring": True}])
def test_no_dot_no_bullet(options: dict[str, bool]) -> None:
    import numpy as np

    line = _ocr_line()
    ocr.mark_bullets(np.asarray(_dotted(**options)), [line], 1.0)
    assert line.text == "Keep the receipts" and line.x0 == 100
