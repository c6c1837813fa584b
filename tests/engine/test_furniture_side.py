"""Page numbers in a side margin (furniture stage, plain lines)."""

from __future__ import annotations

import pytest

from lamina.engine import furniture
from lamina.engine.layout import Line

WIDTH = 792.0  # a page read turned: landscape


def _line(text: str, x0: float, top: float) -> Line:
    return Line(text, x0, top, x0 + 5.0 * len(text), top + 10, top + 8, 10.0)


TABLE = [_line("Scheduled caste   74.8   55.8   42.9", 90.0, 100 + 12 * i) for i in range(5)]

CASES = {
    # The page number of a portrait page printed sideways sits at the left edge, mid-height.
    "page number at the left edge": ([_line("54", 42.0, 300.0), *TABLE], 0),
    "page number at the right edge": ([*TABLE, _line("7", 760.0, 300.0)], 5),
    # Line numbers down the margin: several numbers, none is the page number.
    "line numbers": ([_line(str(n), 30.0, 100 + 12 * n) for n in range(1, 6)], None),
    # A word in the margin is no page number, nor is a number inside the text area.
    "margin note": ([_line("Note", 20.0, 300.0), *TABLE], None),
    "number in the text area": ([_line("54", 300.0, 300.0), *TABLE], None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_side_page_number(name: str) -> None:
    lines, expected = CASES[name]
    assert furniture.side_page_number(WIDTH, lines) == expected
