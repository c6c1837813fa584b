"""The table stage on plain lines and ruling segments (no PDF): ``find_tables``."""

from __future__ import annotations

import pytest

from lamina.engine.tables import Segment, find_tables
from tests.engine._lines import cells, line

PRICES = [
    [("Item", 72), ("Qty", 250), ("Price", 400)],
    [("Apples", 72), ("3", 250), ("1.20", 400)],
    [("Pears", 72), ("12", 250), ("4.80", 400)],
    [("Plums", 72), ("7", 250), ("2.10", 400)],
]
SCORES = [[("Name", 70), ("Score", 210)], [("Ann", 70), ("9", 210)], [("Bob", 70), ("7", 210)]]
# A 2 x 3 grid of rules around SCORES (rows 20 points apart from y=95).
GRID: list[Segment] = [(60, y, 340, y) for y in (90, 110, 130, 150)] + [
    (x, 90, x, 150) for x in (60, 200, 340)
]


def _rows(parts: list[list[tuple[str, float]]], top: float = 100, pitch: float = 14) -> list:
    return [cells(row, top + pitch * i) for i, row in enumerate(parts)]


@pytest.mark.parametrize(
    ("lines", "segments", "rows", "ruled"),
    [
        pytest.param(
            _rows(PRICES),
            [],
            [
                ["Item", "Qty", "Price"],
                ["Apples", "3", "1.20"],
                ["Pears", "12", "4.80"],
                ["Plums", "7", "2.10"],
            ],
            False,
            id="aligned columns, no rules",
        ),
        pytest.param(
            _rows(SCORES, top=95, pitch=20),
            GRID,
            [["Name", "Score"], ["Ann", "9"], ["Bob", "7"]],
            True,
            id="ruled grid",
        ),
    ],
)
def test_a_table_is_found(lines: list, segments: list[Segment], rows: list, ruled: bool) -> None:
    (table,) = find_tables(lines, segments)
    assert table.rows == rows
    assert table.ruled is ruled
    assert table.lines == set(range(len(lines)))  # its lines leave the paragraphs
    x0, top, x1, bottom = table.bbox
    assert x0 <= min(ln.x0 for ln in lines) and x1 >= max(ln.x1 for ln in lines)
    assert top <= lines[0].top and bottom >= lines[-1].bottom


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param(
            [
                line("This is a sentence of ordinary prose that runs on.", 72, 100 + 14 * i)
                for i in range(5)
            ],
            id="prose",
        ),
        pytest.param(_rows(PRICES[:2]), id="two rows are too few without rules"),
        pytest.param(
            [
                cells(
                    [
                        ("a very long cell of running text here", 72),
                        ("and another long cell of running text", 330),
                    ],
                    100 + 14 * i,
                )
                for i in range(4)
            ],
            id="two columns of prose",
        ),
        pytest.param([], id="no lines"),
    ],
)
def test_no_table_is_found(lines: list) -> None:
    assert find_tables(lines, []) == []


def test_lines_without_word_boxes_are_left_out() -> None:
    lines = _rows(PRICES)
    for ln in lines:
        ln.words = None  # the fast tier reads no word boxes
    assert find_tables(lines, []) == []


def test_the_rules_of_a_grid_do_not_make_a_table_of_empty_cells() -> None:
    assert find_tables([], GRID) == []


# Arabic words (logical order, as pdfium gives them): "jeremy", "my name", "in", "English".
JEREMY, MY_NAME, IN = "\u062c\u0631\u0645\u064a", "\u0627\u0633\u0645\u064a", "\u0641\u064a"
ENGLISH = "\u0627\u0644\u0627\u0646\u062c\u0644\u064a\u0632\u064a\u0629"


def test_a_cell_reads_in_the_direction_of_most_of_its_letters() -> None:
    """Words come in page order (left to right); a mostly Arabic cell is read from the right,
    a Latin sentence with one Arabic word is not (it once came out as "Arabic in ... Jeremy")."""
    rows = [
        [("Name", 70), ("Note", 210)],
        [("Ann", 70), (f"Jeremy is {JEREMY} in Arabic", 210)],
        [("Bob", 70), (f"{ENGLISH} {IN} Jeremy {MY_NAME}", 210)],
    ]
    (table,) = find_tables(_rows(rows, top=95, pitch=20), GRID)
    assert table.rows == [
        ["Name", "Note"],
        ["Ann", f"Jeremy is {JEREMY} in Arabic"],
        ["Bob", f"{MY_NAME} Jeremy {IN} {ENGLISH}"],
    ]  # one right-to-left cell of six: the columns keep their page order
