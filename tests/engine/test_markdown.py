"""Rendering helpers shared by the backends."""

from __future__ import annotations

from lamina.engine import markdown as mdr


def test_heading_md_clamps_level() -> None:
    assert mdr.heading_md("A  b\nc", 9) == "###### A b c"
    assert mdr.heading_md("x", 0) == "# x"


def test_code_fence_outgrows_backticks_inside() -> None:
    assert mdr.code_md("a ``` b") == "````\na ``` b\n````"


def test_table_renderings_escape() -> None:
    rows: list[list[str | float | None]] = [["h|1", "<b>"], ["x\ny", None], [2.0]]
    assert mdr.table_md(rows) == "| h\\|1 | <b> |\n|---|---|\n| x<br>y |  |\n| 2 |  |"
    assert mdr.table_csv(rows) == 'h|1,<b>\n"x\ny",\n2\n'
    html = mdr.table_html(rows)
    assert html.startswith("<table><thead><tr><th>h|1</th><th>&lt;b&gt;</th></tr></thead>")
    assert "<td>2</td>" in html


def test_list_md_nested_and_ordered() -> None:
    inner = mdr.list_item([mdr.text_item("c")], ordered=False)
    outer = mdr.list_item([mdr.text_item("a"), inner, mdr.text_item("b\nmore")], ordered=True)
    assert outer.md == "1. a\n  - c\n2. b\n   more"
