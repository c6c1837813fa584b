"""The column stage on plain lines (no PDF): ``order_lines`` reads a page's columns in turn."""

from __future__ import annotations

import pytest

from lamina.engine.columns import order_lines
from lamina.engine.layout import Line
from tests.engine._lines import line, texts

LEFT = [line(f"Left column line {i} with some prose words", 72, 100 + 14 * i) for i in range(6)]
RIGHT = [line(f"Right column line {i} with more prose words", 320, 100 + 14 * i) for i in range(6)]
THIRD = [line(f"Third column line {i} with prose words", 560, 100 + 14 * i) for i in range(6)]
TITLE = line("A title that spans both of the columns of this page here", 72, 70)
SINGLE = [
    line(f"One column line {i} of a page with plain prose", 72, 100 + 14 * i) for i in range(8)
]
SHORT = [
    piece
    for i in range(6)
    for piece in (line(f"Key {i}", 72, 100 + 14 * i), line(f"{i}.00", 320, 100 + 14 * i))
]


def _interleaved(*columns: list[Line]) -> list[Line]:
    """Lines in content-stream order that crosses the columns at each height."""
    return [ln for row in zip(*columns, strict=True) for ln in row]


@pytest.mark.parametrize(
    ("lines", "order", "found"),
    [
        pytest.param(_interleaved(LEFT, RIGHT), LEFT + RIGHT, True, id="two columns"),
        pytest.param(
            [TITLE, *_interleaved(LEFT, RIGHT)],
            [TITLE, *LEFT, *RIGHT],
            True,
            id="a spanning title first",
        ),
        pytest.param(
            _interleaved(LEFT, RIGHT, THIRD), LEFT + RIGHT + THIRD, True, id="three columns"
        ),
        pytest.param(SINGLE, SINGLE, False, id="one column keeps its order"),
        pytest.param(SHORT, SHORT, False, id="short cells are a table, not columns"),
        pytest.param(
            _interleaved(LEFT[:2], RIGHT[:2]),
            _interleaved(LEFT[:2], RIGHT[:2]),
            False,
            id="too few lines side by side",
        ),
        pytest.param([], [], False, id="no lines"),
    ],
)
def test_reading_order(lines: list[Line], order: list[Line], found: bool) -> None:
    ordered, columns = order_lines(lines)
    assert texts(ordered) == texts(order)
    assert columns is found


def test_every_line_is_kept_once() -> None:
    lines = [TITLE, *_interleaved(LEFT, RIGHT, THIRD)]
    ordered, _ = order_lines(lines)
    assert sorted(map(id, ordered)) == sorted(map(id, lines))
