"""DOCX, HTML, XLSX, CSV/TSV and PPTX backends, on documents generated in ``tests/fixtures``."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from lamina.engine import InvalidDocumentError, InvalidOptionError, office, parse_document
from lamina.types import (
    CodeItem,
    FooterItem,
    HeaderItem,
    HeadingItem,
    ImageItem,
    LinkItem,
    ListItem,
    PageRanges,
    ParseConfiguration,
    TableItem,
    TextItem,
)
from tests.fixtures import office as fx


def _config(**kwargs: object) -> ParseConfiguration:
    return ParseConfiguration.model_validate({"tier": "fast", **kwargs})


def _of(items: list, kind: type) -> list:
    return [i for i in items if isinstance(i, kind)]


# --- DOCX ----------------------------------------------------------------------------------


def test_docx_structure(tmp_path: Path) -> None:
    result = parse_document(fx.make_docx(tmp_path).read_bytes(), filename="report.docx")
    assert result.file_type == "docx" and result.page_count == 1
    page = result.pages[0]
    assert (page.page_width, page.page_height) == (612.0, 792.0)  # Letter, python-docx default
    assert page.metadata is not None and page.metadata.confidence == 1.0
    headings = [(h.value, h.level) for h in _of(page.items, HeadingItem)]
    # A Title style is level 1, so "Heading N" is N + 1 below it.
    assert headings == [
        (fx.DOCX_TITLE, 1),
        (fx.DOCX_SECTIONS[0], 2),
        (fx.DOCX_SECTIONS[1], 2),
        (fx.DOCX_SUBSECTION, 3),
    ]
    paragraph = next(i for i in page.items if isinstance(i, TextItem))
    assert paragraph.value == fx.DOCX_PARAGRAPH
    assert paragraph.md == "The year went **well**."

    bullets, numbered = _of(page.items, ListItem)
    assert not bullets.ordered and numbered.ordered
    assert bullets.md == "- Apples\n- Pears\n  - Green pears\n  - Red pears"
    nested = bullets.items[2]
    assert isinstance(nested, ListItem) and [e.md for e in nested.items] == list(fx.DOCX_NESTED)
    assert numbered.md == "1. Plan\n2. Build\n3. Ship"

    (code,) = _of(page.items, CodeItem)
    assert code.value == "\n".join(fx.DOCX_CODE)

    (table,) = _of(page.items, TableItem)
    assert table.rows[0] == [fx.DOCX_MERGED_HEADER] * 3  # the merged header is kept in every cell
    assert [list(r) for r in table.rows[1:]] == [list(r) for r in fx.DOCX_TABLE]
    assert table.csv.splitlines()[1] == "Region,Q1,Q2"
    assert f"<th>{fx.DOCX_MERGED_HEADER}</th>" in table.html

    assert any(isinstance(i, TextItem) and i.value == fx.DOCX_TEXTBOX for i in page.items)
    assert isinstance(page.items[0], HeaderItem) and isinstance(page.items[-1], FooterItem)
    assert page.header == fx.DOCX_HEADER and page.footer == fx.DOCX_FOOTER
    assert fx.DOCX_HEADER not in page.markdown and fx.DOCX_HEADER not in page.text
    assert page.markdown.startswith(f"# {fx.DOCX_TITLE}\n\n## Summary")
    assert "The year went well." in page.text  # plain text: no markdown emphasis


def test_docx_named_pdf_is_parsed_as_docx(tmp_path: Path) -> None:
    data = fx.make_docx(tmp_path).read_bytes()
    result = parse_document(data, filename="report.pdf")
    assert result.file_type == "docx"


def test_docx_page_selection(tmp_path: Path) -> None:
    data = fx.make_docx(tmp_path).read_bytes()
    with pytest.raises(InvalidOptionError):
        parse_document(data, config=_config(page_ranges={"target_pages": "2"}))
    assert len(parse_document(data, config=_config(page_ranges={"max_pages": 1})).pages) == 1


# --- package errors ------------------------------------------------------------------------


def test_truncated_docx_is_a_clear_error(tmp_path: Path) -> None:
    data = fx.make_docx(tmp_path).read_bytes()
    with pytest.raises(InvalidDocumentError, match="Not a valid DOCX file"):
        parse_document(data[: len(data) // 2], filename="report.docx")


def test_package_missing_its_parts_is_a_clear_error() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")  # no [Content_Types].xml, no rels
    with pytest.raises(InvalidDocumentError, match="Not a valid DOCX file"):
        parse_document(buf.getvalue(), filename="x.docx")


def test_zip_bomb_over_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office, "MAX_UNCOMPRESSED_BYTES", 2 * 1024 * 1024)
    bomb = fx.make_zip_bomb(tmp_path, "word/document.xml", 4 * 1024 * 1024)
    with pytest.raises(InvalidDocumentError, match="looks like a zip bomb"):
        parse_document(bomb.read_bytes(), filename="bomb.docx")


def test_zip_bomb_by_compression_ratio(tmp_path: Path) -> None:
    bomb = fx.make_zip_bomb(tmp_path, "xl/workbook.xml", 32 * 1024 * 1024, name="bomb.xlsx")
    assert bomb.stat().st_size < 100_000
    with pytest.raises(InvalidDocumentError, match="XLSX file looks like a zip bomb"):
        parse_document(bomb.read_bytes())


# --- HTML ----------------------------------------------------------------------------------


def test_html_structure(tmp_path: Path) -> None:
    result = parse_document(fx.make_html(tmp_path).read_bytes(), filename="page.html")
    assert result.file_type == "html" and result.page_count == 1
    items = result.pages[0].items
    headings = [(h.value, h.level) for h in _of(items, HeadingItem)]
    assert headings == [("Page title", 1), ("Section one", 2), ("Sub heading", 3)]
    paragraph = next(i for i in items if isinstance(i, TextItem))
    assert paragraph.value == "Some bold text and a link."
    assert paragraph.md == "Some **bold** text and a [link](https://example.com/doc)."
    links = _of(items, LinkItem)
    assert ("Just a link", "https://example.com/only") in [(li.text, li.url) for li in links]

    bullets, numbered = _of(items, ListItem)
    assert bullets.md == "- Fruit\n  - Apple\n  - Pear\n- Vegetables"
    assert numbered.ordered and numbered.md == "1. One\n2. Two"

    (table,) = _of(items, TableItem)
    assert table.rows == [["Name", "Name", "Age"], ["Smith", "Ann", "31"], ["Smith", "Bob", "42"]]

    (code,) = _of(items, CodeItem)
    assert code.language == "python" and code.value == "def f():\n    return 1"
    (image,) = _of(items, ImageItem)
    assert (image.caption, image.url) == ("A cat", "https://example.com/cat.png")

    text = result.pages[0].text
    assert "script text" not in text and "color: red" not in text and "Hidden text" not in text
    assert "Loose text in a div\n\nand a paragraph" in text


def test_html_options_and_title_only_without_h1(tmp_path: Path) -> None:
    data = fx.make_html(tmp_path).read_bytes()
    config = _config(
        input_options={
            "html": {"remove_navigation_elements": True, "make_all_elements_visible": True}
        }
    )
    text = parse_document(data, config=config).pages[0].text
    assert "Home" not in text and "Hidden text" in text
    page = parse_document(b"<html><title>T</title><h1>Real</h1><p>x</p></html>").pages[0]
    assert [h.value for h in _of(page.items, HeadingItem)] == ["Real"]


def test_html_named_txt_is_html() -> None:
    data = b"<!doctype html><html><body><h1>Hello</h1></body></html>"
    assert parse_document(data, filename="notes.txt").file_type == "html"
    fragment = b"<div><p>Just a fragment</p></div>"
    assert parse_document(fragment, filename="frag.html").file_type == "html"
    assert parse_document(fragment, filename="frag.txt").file_type == "txt"


# --- XLSX, CSV -----------------------------------------------------------------------------


def test_xlsx_sheets(tmp_path: Path) -> None:
    result = parse_document(fx.make_xlsx(tmp_path).read_bytes(), filename="book.xlsx")
    assert result.file_type == "xlsx" and result.page_count == 3
    sales, notes = result.pages
    assert (sales.page_number, notes.page_number) == (1, 3)  # the hidden sheet 2 is skipped
    heading, title, table = sales.items
    assert isinstance(heading, HeadingItem) and (heading.value, heading.level) == ("Sales", 1)
    assert isinstance(title, TextItem) and title.value == fx.XLSX_TITLE
    assert isinstance(table, TableItem)
    assert table.rows[0] == list(fx.XLSX_HEADER)
    assert table.rows[1] == ["North", 10.0, "2024-01-31", "TRUE"]
    assert table.rows[2] == ["South", 7.5, "2024-02-01T13:30:00", "FALSE"]
    assert table.rows[3][0] == table.rows[4][0] == "East"  # merged A6:A7
    assert "| North | 10 | 2024-01-31 | TRUE |" in table.md
    assert sales.metadata is not None and sales.metadata.confidence == 1.0
    assert len(_of(notes.items, TableItem)) == 2  # two blocks side by side


def test_xlsx_hidden_sheets_and_page_selection(tmp_path: Path) -> None:
    data = fx.make_xlsx(tmp_path).read_bytes()
    config = _config(input_options={"spreadsheet": {"include_hidden_sheets": True}})
    pages = parse_document(data, config=config).pages
    assert [p.page_number for p in pages] == [1, 2, 3]
    assert "invisible" in pages[1].text
    pages = parse_document(data, config=_config(page_ranges={"target_pages": "3"})).pages
    assert [p.page_number for p in pages] == [3]


def test_csv_and_tsv() -> None:
    data = b'name;qty\napple;3\n"pear; green";007\n'
    result = parse_document(data, filename="fruit.csv")
    assert result.file_type == "csv"
    (table,) = result.pages[0].items
    assert isinstance(table, TableItem)
    assert table.rows == [["name", "qty"], ["apple", "3"], ["pear; green", "007"]]
    tsv = parse_document(b"a\tb\n1\t2\n", filename="x.tsv")
    assert tsv.file_type == "tsv" and tsv.pages[0].items[0].rows == [["a", "b"], ["1", "2"]]
    assert parse_document(b"a,b\n1,2\n", filename="x.txt").file_type == "txt"


# --- PPTX ----------------------------------------------------------------------------------


def test_pptx_slides(tmp_path: Path) -> None:
    result = parse_document(fx.make_pptx(tmp_path).read_bytes(), filename="deck.pptx")
    assert result.file_type == "pptx" and result.page_count == 4
    pages = result.pages
    assert [p.page_number for p in pages] == [1, 2, 4]  # slide 3 is hidden
    assert all((p.page_width, p.page_height) == (720.0, 540.0) for p in pages)
    first, agenda, results = pages
    assert first.metadata is not None and first.metadata.speaker_notes == fx.PPTX_NOTES
    assert first.metadata.slide_section_name == "Intro"
    assert agenda.metadata is not None and agenda.metadata.slide_section_name == "Main"
    assert agenda.metadata.speaker_notes is None
    title, bullets = agenda.items
    assert isinstance(title, HeadingItem) and (title.value, title.level) == ("Agenda", 1)
    assert title.bbox and title.bbox[0].w > 0 and title.bbox[0].x >= 0
    assert isinstance(bullets, ListItem)
    assert bullets.md == "- First point\n  - A detail\n- Second point"
    (table,) = _of(results.items, TableItem)
    assert table.rows == [[fx.PPTX_MERGED] * 2, list(fx.PPTX_TABLE[0]), list(fx.PPTX_TABLE[1])]
    assert table.bbox is not None
    assert (table.bbox[0].x, table.bbox[0].y, table.bbox[0].w) == (72.0, 144.0, 432.0)
    assert results.markdown.startswith("# Results\n\n| Summary | Summary |")


def test_pptx_hidden_slides_and_page_selection(tmp_path: Path) -> None:
    data = fx.make_pptx(tmp_path).read_bytes()
    config = _config(input_options={"presentation": {"include_hidden_slides": True}})
    assert [p.page_number for p in parse_document(data, config=config).pages] == [1, 2, 3, 4]
    pages = parse_document(data, config=_config(page_ranges=PageRanges(target_pages="2-3")))
    assert [p.page_number for p in pages.pages] == [2]
    assert pages.stats["pages_parsed"] == 1
