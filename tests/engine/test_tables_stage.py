"""The table finder on plain lines with word boxes (no PDF needed).

Each case gives a page as rows of cells, each cell (text, x0) in points; words are spaced as
Helvetica 9 pt roughly sets them. The regressions come from real documents (issue #17).
"""

from __future__ import annotations

from lamina.engine import tables
from lamina.engine.layout import Line

SIZE = 9.0
ADVANCE = 0.5 * SIZE  # average glyph width


def _line(cells: list[tuple[str, float]], top: float) -> Line:
    """One line holding the cells of a row (pdfium often gives a row as one line)."""
    words: list[tuple[str, float, float]] = []
    for text, x in cells:
        for word in text.split():
            words.append((word, x, x + ADVANCE * len(word)))
            x += ADVANCE * (len(word) + 1)
    text = " ".join(t for t, _ in cells)
    return Line(text, words[0][1], top, words[-1][2], top + SIZE, top + 7, SIZE, words=words)


def test_header_words_wider_than_a_code_column_do_not_merge_columns() -> None:
    """A listing of codes and names: the code column's header ("Municipality", under "Code")
    is wider than the codes and reaches into the gap before the names; every body row keeps
    that gap. The code and the name were one column ("001 Aguascalientes")."""
    xs = (40.0, 75.0, 200.0, 240.0)
    header = [
        _line([("Code", xs[0]), ("Code", xs[2])], 50),
        _line([("State", xs[0]), ("State name", 100.0), ("Municipality", 190.0)], 62),
    ]
    names = ("Aguascalientes", "Baja California", "Campeche", "Chiapas", "Chihuahua")
    body = [
        _line([(f"0{i}", xs[0]), (name, xs[1]), (f"00{i}", xs[2]), (name, xs[3])], 80 + 12 * i)
        for i, name in enumerate(names, start=1)
    ]
    (table,) = tables.find_tables([*header, *body], [])
    assert len(table.rows[0]) == 4
    assert table.rows[-1] == ["05", "Chihuahua", "005", "Chihuahua"]
    assert ["01", "Aguascalientes", "001", "Aguascalientes"] in table.rows


def test_part_with_columns_run_together_joins_the_table_below() -> None:
    """A statistics table cut by a section row ("Murder and other"): the part above it holds
    wide bold totals set so close that two columns run together there ("11,062.6 1,540.0"),
    so it came out as a table of its own with fewer columns. Its columns are those of the
    part below, some run together: one table, the part above re-cut under the columns."""
    top = [
        _line([("Offense", 40), ("Total", 160), ("Young", 203), ("Old", 262)], 50),
        _line([("Total", 40), ("11,062.6", 150), ("1,540.0", 190), ("9,522.6", 250)], 62),
        _line([("Violent", 40), ("467.9", 163.5), ("69.1", 203.5), ("398.8", 258.5)], 74),
    ]
    label = [_line([("Murder and other", 40)], 86)]
    figures = (("Robbery", "102.1", "25.5", "76.6"), ("Arson", "9.8", "4.3", "5.5"))
    below = [
        _line(
            [(name, 40), (a, 186 - ADVANCE * len(a)), (b, 221.5 - ADVANCE * len(b)), (c, 263.5)],
            98 + 12 * i,
        )
        for i, (name, a, b, c) in enumerate(figures * 2)
    ]
    (table,) = tables.find_tables([*top, *label, *below], [])
    assert table.rows[1] == ["Total", "11,062.6", "1,540.0", "9,522.6"]
    assert table.rows[3][0] == "Murder and other"
    assert table.rows[-1] == ["Arson", "9.8", "4.3", "5.5"]
    assert len(table.rows) == 8


def test_notes_under_a_table_do_not_bridge_its_columns() -> None:
    """Notes set in pieces side by side right under the last row ("X Not applicable." |
    "Except forcible rape and prostitution.") joined the table's run of rows and, wider than
    its columns, bridged every gap: the rows after the last section label were no table."""
    rows = (("Arson . . . .", "9.8", "4.3"), ("Fraud . . . .", "173.7", "5.1"))
    body = [
        _line([(name, 40), (a, 150 - ADVANCE * len(a)), (b, 200 - ADVANCE * len(b))], 50 + 8 * i)
        for i, (name, a, b) in enumerate(rows * 2)
    ]
    notes = _line([("X Not applicable.", 48), ("Except forcible rape and prostitution.", 140)], 84)
    (table,) = tables.find_tables([*body, notes], [])
    assert table.rows == [[name, a, b] for name, a, b in rows * 2]
    assert len(body) not in table.lines  # the notes stay text
