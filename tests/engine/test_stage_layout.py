"""The layout stage on plain lines (no PDF): blocks, list numbering, body size, page numbers
at the page's edges, heading candidates."""

from __future__ import annotations

import pytest

from lamina.engine import layout
from lamina.engine.layout import Block, Line
from tests.engine._lines import line

HEIGHT = 800.0


@pytest.mark.parametrize(
    ("lines", "kinds"),
    [
        pytest.param(
            [
                line("A paragraph that goes on for", 72, 100),
                line("a second line and then ends.", 72, 112),
            ],
            [("text", 2)],
            id="a paragraph",
        ),
        pytest.param(
            [
                line("1 Open the form", 72, 100),
                line("2 Fill it in", 72, 114),
                line("3 Send it", 72, 128),
            ],
            [("list", 3)],
            id="bare numbers counting up make a list",
        ),
        pytest.param(
            [line("- one", 72, 100), line("- two", 72, 112), line("def f(x):", 72, 140, mono=True)],
            [("list", 2), ("code", 1)],
            id="a bulleted list, then code",
        ),
        pytest.param([], [], id="no lines"),
    ],
)
def test_lines_group_into_blocks(lines: list[Line], kinds: list[tuple[str, int]]) -> None:
    blocks = layout.group_lines(lines)
    assert [(b.kind, len(b.lines)) for b in blocks] == kinds
    assert [ln for b in blocks for ln in b.lines] == lines


@pytest.mark.parametrize(
    ("texts", "x0s", "numbered"),
    [
        (["1 Open", "2 Fill", "3 Send"], [72, 72, 72], [True, True, True]),
        (["1 Open", "5 Fill"], [72, 72], [False, False]),
        (["7 Open"], [72], [False]),
        (["1 Open", "2 Fill"], [72, 200], [False, False]),  # not at the same indent
        (["Open 1", "Fill 2"], [72, 72], [False, False]),
    ],
)
def test_bare_numbered_lines(texts: list[str], x0s: list[float], numbered: list[bool]) -> None:
    lines = [line(t, x, 100 + 14 * i) for i, (t, x) in enumerate(zip(texts, x0s, strict=True))]
    layout.mark_bare_numbered(lines)
    assert [ln.numbered for ln in lines] == numbered


@pytest.mark.parametrize(
    ("sizes", "body"),
    [([10.0, 10.0, 18.0], 10.0), ([9.2, 9.2, 14.0], 9.0), ([], 10.0)],
)
def test_body_size_carries_the_most_characters(sizes: list[float], body: float) -> None:
    lines = [line("Some words of text", 72, 100 + 20 * i, s) for i, s in enumerate(sizes)]
    assert layout.body_size(lines) == body


@pytest.mark.parametrize(
    ("text", "top", "height", "furniture"),
    [
        ("7", 780.0, HEIGHT, "footer"),
        ("Page 7", 10.0, HEIGHT, "header"),
        ("7", 400.0, HEIGHT, None),
        ("Results for 2023", 780.0, HEIGHT, None),
        ("7", 780.0, 0.0, None),  # no page height: nothing is marked
        # The margin and the forms of furniture.detect: 9% from the top, a roman numeral.
        ("12", 0.09 * HEIGHT - 10, HEIGHT, "header"),
        ("xii", 780.0, HEIGHT, "footer"),
    ],
)
def test_page_numbers_at_the_edges(
    text: str, top: float, height: float, furniture: str | None
) -> None:
    blocks = [Block(kind="text", lines=[line(text, 300, top)])]
    layout.mark_page_furniture(blocks, height)
    assert blocks[0].furniture == furniture


@pytest.mark.parametrize(
    ("block", "heading_size", "bold"),
    [
        (Block(kind="text", lines=[line("Introduction", 72, 100, 16.0)]), 16.0, False),
        (Block(kind="text", lines=[line("Scope", 72, 100, bold=True)]), None, True),
        (
            Block(kind="text", lines=[line("Ends with a full stop.", 72, 100, bold=True)]),
            None,
            False,
        ),
        (Block(kind="text", lines=[line("Body text", 72, 100)]), None, False),
        (Block(kind="code", lines=[line("MAIN", 72, 100, 16.0)]), None, False),
        (Block(kind="text", lines=[line("2024", 72, 100, 16.0)]), None, False),  # no letters
    ],
)
def test_heading_candidates(block: Block, heading_size: float | None, bold: bool) -> None:
    layout.mark_heading_candidates([block], body=10.0)
    assert block.heading_size == heading_size
    assert block.bold_heading is bold
