"""Page selection: ``target_pages`` and ``max_pages``."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.engine import InvalidOptionError, parse_document
from lamina.engine.pages import parse_target_pages, select_pages
from lamina.types import PageRanges, ParseConfiguration
from tests.fixtures.documents import make_multipage_pdf


@pytest.mark.parametrize(
    ("spec", "pages"),
    [
        ("1", [1]),
        ("1,3,5-7", [1, 3, 5, 6, 7]),
        (" 2 - 3 , 1 ", [1, 2, 3]),
        ("3,3,2-4", [2, 3, 4]),
    ],
)
def test_parse_target_pages(spec: str, pages: list[int]) -> None:
    assert parse_target_pages(spec) == pages


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty"),
        ("0", "numbered from 1"),
        ("3-1", "goes backwards"),
        ("a", "not a page number"),
        ("1,,2", "not a page number"),
        ("1-2-3", "not a page number"),
        ("-1", "not a page number"),
    ],
)
def test_invalid_specs_raise_clear_errors(spec: str, message: str) -> None:
    with pytest.raises(InvalidOptionError, match=message) as info:
        parse_target_pages(spec)
    assert isinstance(info.value, ValueError)


def test_select_pages() -> None:
    assert select_pages(5, None) == [1, 2, 3, 4, 5]
    assert select_pages(5, PageRanges(max_pages=2)) == [1, 2]
    assert select_pages(5, PageRanges(target_pages="2-10")) == [2, 3, 4, 5]
    assert select_pages(5, PageRanges(target_pages="2,4,5", max_pages=2)) == [2, 4]
    with pytest.raises(InvalidOptionError, match="selects no page: the document has 5 pages"):
        select_pages(5, PageRanges(target_pages="6-8"))


def test_parse_keeps_original_page_numbers(tmp_path: Path) -> None:
    data = make_multipage_pdf(tmp_path, pages=6).read_bytes()
    config = ParseConfiguration(tier="fast", page_ranges=PageRanges(target_pages="2,4-6"))
    result = parse_document(data, config=config)
    assert result.page_count == 6
    assert [p.page_number for p in result.pages] == [2, 4, 5, 6]
    assert "This is page 4." in result.pages[1].text
    assert result.stats["pages_parsed"] == 4
    config = ParseConfiguration(tier="fast", page_ranges=PageRanges(max_pages=1))
    assert [p.page_number for p in parse_document(data, config=config).pages] == [1]


def test_text_files_validate_page_options_too() -> None:
    config = ParseConfiguration(tier="fast", page_ranges=PageRanges(target_pages="x"))
    with pytest.raises(InvalidOptionError):
        parse_document(b"hello", config=config)
