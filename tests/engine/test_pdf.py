"""The PDF backend on real generated files: structure, boxes, sizes, failures."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest

from lamina.engine import (
    EncryptedDocumentError,
    InvalidDocumentError,
    ParseResult,
    parse_document,
)
from lamina.types import (
    BBox,
    CodeItem,
    FooterItem,
    HeadingItem,
    ListItem,
    ParseConfiguration,
    TextItem,
)
from tests.fixtures import documents as docs


def _parse(path: Path) -> ParseResult:
    return parse_document(path.read_bytes(), filename=path.name)


@pytest.fixture(scope="module")
def layout_result(tmp_path_factory: pytest.TempPathFactory) -> ParseResult:
    return _parse(docs.make_headings_lists_pdf(tmp_path_factory.mktemp("layout")))


def test_headings_and_levels(layout_result: ParseResult) -> None:
    headings = [
        (i.value, i.level) for i in layout_result.pages[0].items if isinstance(i, HeadingItem)
    ]
    assert headings == [
        (docs.HEADINGS_TITLE, 1),
        (docs.HEADINGS_SECTIONS[0], 2),
        (docs.HEADINGS_SUBSECTION, 3),
        (docs.HEADINGS_SECTIONS[1], 2),
    ]
    assert f"# {docs.HEADINGS_TITLE}\n\n## {docs.HEADINGS_SECTIONS[0]}" in (
        layout_result.pages[0].markdown
    )


def test_wrapped_paragraph_is_joined_and_dehyphenated(layout_result: ParseResult) -> None:
    texts = [i for i in layout_result.pages[0].items if isinstance(i, TextItem)]
    paragraph = next(t for t in texts if t.value.startswith("This paragraph"))
    assert paragraph.value == docs.WRAPPED_PARAGRAPH
    assert paragraph.md == docs.WRAPPED_PARAGRAPH
    # One box per line, each pointing at its part of the value.
    assert paragraph.bbox is not None and len(paragraph.bbox) == 3
    spans = [paragraph.value[b.start_index : b.end_index] for b in paragraph.bbox]
    assert spans[0] == "This paragraph is long enough to wrap over three lines of text,"
    assert spans[2] == "ser can join it again into a single word."


def test_unordered_list_with_nesting(layout_result: ParseResult) -> None:
    lists = [i for i in layout_result.pages[0].items if isinstance(i, ListItem)]
    bullets = lists[0]
    assert bullets.ordered is False
    assert [e.value for e in bullets.items if isinstance(e, TextItem)] == list(docs.BULLETS)
    nested = bullets.items[1]
    assert isinstance(nested, ListItem)
    assert [e.value for e in nested.items if isinstance(e, TextItem)] == list(docs.NESTED_BULLETS)
    assert bullets.md.splitlines()[:3] == [
        f"- {docs.BULLETS[0]}",
        f"  - {docs.NESTED_BULLETS[0]}",
        f"  - {docs.NESTED_BULLETS[1]}",
    ]


def test_ordered_list(layout_result: ParseResult) -> None:
    lists = [i for i in layout_result.pages[0].items if isinstance(i, ListItem)]
    numbered = lists[1]
    assert numbered.ordered is True
    assert [e.value for e in numbered.items if isinstance(e, TextItem)] == list(docs.NUMBERED)
    assert numbered.md == "\n".join(f"{n}. {t}" for n, t in enumerate(docs.NUMBERED, 1))


def test_code_block_keeps_indentation(layout_result: ParseResult) -> None:
    code = next(i for i in layout_result.pages[0].items if isinstance(i, CodeItem))
    assert code.value == "\n".join(docs.CODE_LINES)
    assert code.md == "```\n" + "\n".join(docs.CODE_LINES) + "\n```"


def test_reading_order_and_page_text(layout_result: ParseResult) -> None:
    page = layout_result.pages[0]
    assert page.items[0].md == f"# {docs.HEADINGS_TITLE}"
    assert isinstance(page.items[-1], TextItem) and page.items[-1].value == "The end."
    assert page.markdown == "\n\n".join(i.md for i in page.items)
    # Text keeps the lines as they are on the page, blocks separated by blank lines.
    assert page.text.startswith(f"{docs.HEADINGS_TITLE}\n\n{docs.HEADINGS_SECTIONS[0]}\n\n")
    assert "of a line so the par-\nser can join" in page.text


def _all_boxes(items: list) -> list[BBox]:  # type: ignore[type-arg]
    boxes: list[BBox] = []
    for item in items:
        boxes.extend(item.bbox or [])
    return boxes


def test_boxes_lie_within_the_page(layout_result: ParseResult) -> None:
    page = layout_result.pages[0]
    boxes = _all_boxes(page.items)
    assert boxes
    for b in boxes:
        assert b.x >= 0 and b.x + b.w <= page.page_width
        assert b.y >= 0 and b.y + b.h <= page.page_height
        assert b.w > 0 and b.h > 0


def test_boxes_match_pdfplumber_words(tmp_path: Path) -> None:
    path = docs.make_headings_lists_pdf(tmp_path)
    result = _parse(path)
    with pdfplumber.open(path) as pdf:
        words = pdf.pages[0].extract_words()
    lines: dict[float, list[dict]] = {}  # type: ignore[type-arg]
    for w in words:
        lines.setdefault(round(w["bottom"]), []).append(w)
    checked = 0
    for item in result.pages[0].items:
        if not isinstance(item, HeadingItem | TextItem):
            continue
        for box in item.bbox or []:
            # The pdfplumber line with the same first word position.
            row = min(
                lines.values(), key=lambda ws: abs(ws[0]["top"] - box.y) + abs(ws[0]["x0"] - box.x)
            )
            assert abs(row[0]["x0"] - box.x) <= 2
            assert abs(row[-1]["x1"] - (box.x + box.w)) <= 2
            assert abs(row[0]["top"] - box.y) <= 2
            assert row[0]["top"] - 2 <= box.y + box.h <= row[0]["bottom"] + 2
            checked += 1
    assert checked >= 8


def test_title_is_near_the_top(tmp_path: Path) -> None:
    result = _parse(docs.make_simple_pdf(tmp_path))
    title = result.pages[0].items[0]
    assert isinstance(title, HeadingItem) and title.value == docs.SIMPLE_TITLE
    assert title.bbox is not None
    assert 50 < title.bbox[0].y < 80  # drawn at 770pt from the bottom of an 842pt page
    assert result.pages[0].items[1].md == docs.SIMPLE_PARAGRAPH


def test_page_sizes_and_rotation(tmp_path: Path) -> None:
    path = docs.make_rotated_pdf(tmp_path)
    result = _parse(path)
    sizes = [(round(p.page_width), round(p.page_height)) for p in result.pages]
    assert sizes == [(595, 842), (842, 595), (842, 595)]
    angles = [p.metadata.original_orientation_angle for p in result.pages if p.metadata]
    assert angles == [0, 0, 90]
    with pdfplumber.open(path) as pdf:
        for page, plumber in zip(result.pages, pdf.pages, strict=True):
            item = page.items[0]
            first = plumber.extract_words()[0]
            assert item.bbox is not None
            box = item.bbox[0]
            assert abs(box.x - first["x0"]) <= 2 and abs(box.y - first["top"]) <= 2
            assert box.x + box.w <= page.page_width and box.y + box.h <= page.page_height
    assert [p.items[0].md for p in result.pages] == [
        "Portrait page",
        "Landscape page",
        "Rotated page",
    ]


def test_page_number_footer_is_furniture(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[2] / "examples" / "sample.pdf"
    result = _parse(sample)
    page = result.pages[0]
    assert page.footer == "Page 1"
    assert isinstance(page.items[-1], FooterItem)
    assert "Page 1" not in page.markdown
    assert page.text.endswith("Page 1")


def test_metadata_and_stats(tmp_path: Path) -> None:
    result = _parse(docs.make_multipage_pdf(tmp_path, pages=3))
    assert result.file_type == "pdf" and result.page_count == 3
    assert result.stats["pages_parsed"] == 3 and result.stats["file_type"] == "pdf"
    assert result.stats["parse_seconds"] >= 0
    for page in result.pages:
        assert page.metadata is not None
        assert page.metadata.page_number == page.page_number
        assert page.metadata.confidence == 1.0


def test_corrupt_pdf_raises_invalid_document(tmp_path: Path) -> None:
    data = docs.make_corrupt_pdf(tmp_path).read_bytes()
    with pytest.raises(InvalidDocumentError, match=r"^Not a valid PDF: "):
        parse_document(data, filename="corrupt.pdf")


def test_truncated_pdf_raises_or_recovers(tmp_path: Path) -> None:
    data = docs.make_truncated_pdf(tmp_path).read_bytes()
    try:
        result = parse_document(data)
    except InvalidDocumentError as exc:
        assert "Not a valid PDF" in str(exc)
    else:  # pdfium may rebuild what it can: then the pages it kept are well formed
        assert result.page_count == len(result.pages)


def test_encrypted_pdf_raises(tmp_path: Path) -> None:
    data = docs.make_encrypted_pdf(tmp_path).read_bytes()
    with pytest.raises(EncryptedDocumentError, match="password-protected"):
        parse_document(data)


def test_tiers_fast_and_cost_effective_agree(tmp_path: Path) -> None:
    data = docs.make_simple_pdf(tmp_path).read_bytes()
    fast = parse_document(data, config=ParseConfiguration(tier="fast"))
    cheap = parse_document(data, config=ParseConfiguration(tier="cost_effective"))
    assert [p.markdown for p in fast.pages] == [p.markdown for p in cheap.pages]


def test_many_pages_parse(tmp_path: Path) -> None:
    result = _parse(docs.make_multipage_pdf(tmp_path, pages=40))
    assert len(result.pages) == 40
    assert all(p.ok for p in result.pages)
    assert result.pages[39].items[0].md == "# Section 40"
