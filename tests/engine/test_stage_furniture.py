"""The furniture stage on plain lines (no PDF): running headers, footers, page numbers."""

from __future__ import annotations

import pytest

from lamina.engine.furniture import detect, normalise, page_number_of
from lamina.engine.layout import Line
from tests.engine._lines import line

HEIGHT = 800.0


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("7", "7"),
        ("- 7 -", "7"),
        ("\u2013 12 \u2013", "12"),
        ("Page 7 of 9", "7"),
        ("page 3", "3"),
        ("p. 4", "4"),
        ("7/9", "7"),
        ("vii", "vii"),
        ("XII", "XII"),
        ("Chapter 7", None),
        ("2023 results", None),
        ("", None),
        ("Page", None),
    ],
)
def test_a_bare_page_number(text: str, number: str | None) -> None:
    assert page_number_of(text) == number


@pytest.mark.parametrize(
    ("a", "b"),
    [("Page 3", "Page 4"), ("Annual Report  2023", "annual report 2024"), ("ii", "iv")],
)
def test_texts_that_differ_only_in_numbers_compare_equal(a: str, b: str) -> None:
    assert normalise(a) == normalise(b)


def _page(n: int, header: str | None, footer: str | None, size: float = 9.0) -> list[Line]:
    lines = [line(f"Body text of page {n}, long enough to be prose.", 72, 300, 10.0)]
    if header is not None:
        lines.insert(0, line(header, 72, 30, size))
    if footer is not None:
        lines.append(line(footer, 300, 760, size))
    return lines


def test_a_running_header_and_page_numbers_across_pages() -> None:
    pages = [(HEIGHT, _page(n, "ACME Annual Report", str(n))) for n in (1, 2, 3)]
    found = detect(pages, body_size=10.0)
    assert [f.header for f in found] == [[0], [0], [0]]
    assert [f.footer for f in found] == [[2], [2], [2]]
    assert [f.printed_page_number for f in found] == ["1", "2", "3"]
    assert (
        found[0].kind(0) == "header" and found[0].kind(1) is None and found[0].kind(2) == "footer"
    )


@pytest.mark.parametrize(
    ("pages", "header", "footer", "numbers"),
    [
        pytest.param(
            [_page(n, "Report", None) for n in (1, 2)],
            [[0], [0]],
            [[], []],
            [None, None],
            id="two pages: a header seen twice repeats",
        ),
        pytest.param(
            [_page(n, "Report" if n < 3 else None, None) for n in (1, 2, 3, 4)],
            [[], [], [], []],
            [[], [], [], []],
            [None] * 4,
            id="four pages: a header seen twice does not",
        ),
        pytest.param(
            [_page(n, None, f"Annual report {n}") for n in (1, 2, 3)],
            [[], [], []],
            [[1], [1], [1]],
            ["1", "2", "3"],
            id="the number at the end of a running footer",
        ),
        pytest.param(
            [_page(n, f"Section {n}", None, size=14.0) for n in (1, 2, 3)],
            [[], [], []],
            [[], [], []],
            [None] * 3,
            id="a repeated line larger than the body is a heading",
        ),
        pytest.param(
            [[line("12", 300, 400), line("Body text in the middle of the page.", 72, 420)]],
            [[]],
            [[]],
            [None],
            id="a bare number mid-page is body text",
        ),
        pytest.param([_page(1, None, "- 1 -")], [[]], [[1]], ["1"], id="one page"),
    ],
)
def test_furniture(
    pages: list[list[Line]], header: list, footer: list, numbers: list[str | None]
) -> None:
    found = detect([(HEIGHT, lines) for lines in pages], body_size=10.0)
    assert [f.header for f in found] == header
    assert [f.footer for f in found] == footer
    assert [f.printed_page_number for f in found] == numbers


def test_a_page_without_height_or_lines_has_no_furniture() -> None:
    found = detect([(0.0, _page(1, "Report", "1")), (HEIGHT, [])])
    assert [(f.header, f.footer, f.printed_page_number) for f in found] == [
        ([], [], None),
        ([], [], None),
    ]
