"""Plain text and markdown backends."""

from __future__ import annotations

from pathlib import Path

from lamina.engine import parse_document
from lamina.types import CodeItem, HeadingItem, ListItem, TableItem, TextItem
from tests.fixtures.documents import make_markdown_file, make_text_file


def test_plain_text_paragraphs(tmp_path: Path) -> None:
    result = parse_document(make_text_file(tmp_path).read_bytes(), filename="notes.txt")
    assert result.file_type == "txt" and result.page_count == 1
    page = result.pages[0]
    assert [type(i) for i in page.items] == [TextItem, TextItem]
    assert page.items[0].md == "First paragraph line one.\nStill the first paragraph."
    assert page.items[1].md == "Second paragraph."
    assert page.page_width == 0 and page.page_height == 0
    assert page.metadata is not None and page.metadata.confidence == 1.0


def test_plain_text_encodings() -> None:
    for data in ("Grüße\r\n\r\nzwei".encode("utf-16"), "\ufeffGrüße\n\nzwei".encode()):
        page = parse_document(data, filename="x.txt").pages[0]
        assert [i.md for i in page.items] == ["Grüße", "zwei"]


def test_markdown_structure(tmp_path: Path) -> None:
    result = parse_document(make_markdown_file(tmp_path).read_bytes(), filename="guide.md")
    assert result.file_type == "md"
    items = result.pages[0].items
    kinds = [type(i) for i in items]
    assert kinds == [HeadingItem, TextItem, HeadingItem, ListItem, CodeItem, TableItem]
    h1, intro, h2, steps, code, table = items
    assert isinstance(h1, HeadingItem) and (h1.value, h1.level) == ("Guide", 1)
    assert isinstance(h2, HeadingItem) and h2.level == 2
    assert isinstance(intro, TextItem)
    assert intro.value == "Intro paragraph with bold and a link."
    assert intro.md == "Intro paragraph with **bold** and a [link](https://example.com)."
    assert isinstance(steps, ListItem) and steps.ordered
    assert steps.md == "1. Download\n2. Install\n  - with pip\n  - or with uv"
    nested = steps.items[2]
    assert isinstance(nested, ListItem) and not nested.ordered
    assert isinstance(code, CodeItem) and code.language == "python"
    assert code.value == 'print("hi")' and code.md == '```python\nprint("hi")\n```'
    assert isinstance(table, TableItem)
    assert table.rows == [["Name", "Value"], ["a | b", "1"], ["<tag>", "2"]]
    assert table.md.splitlines() == [
        "| Name | Value |",
        "|---|---|",
        "| a \\| b | 1 |",
        "| <tag> | 2 |",
    ]
    assert "<td>&lt;tag&gt;</td>" in table.html
    assert table.csv == "Name,Value\na | b,1\n<tag>,2\n"
    assert result.pages[0].markdown == "\n\n".join(i.md for i in items)


def test_markdown_setext_heading_and_unclosed_fence() -> None:
    page = parse_document(b"Title\n=====\n\ntext\n\n```\nno end", filename="a.md").pages[0]
    assert [i.md for i in page.items] == ["# Title", "text", "```\nno end\n```"]
