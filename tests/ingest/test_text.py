"""Text hygiene of ``lamina.ingest``: what is stripped, what counts as content, what is junk."""

from __future__ import annotations

import pytest

from lamina.ingest._text import clean_text, has_content, is_junk, unwrap_links
from lamina.types import (
    BBox,
    FooterItem,
    HeaderItem,
    HeadingItem,
    ImageItem,
    TableItem,
    TextItem,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain text", "plain text"),
        ("", ""),
        ("tab\tand\nnewline\r\n", "tab\tand\nnewline\r\n"),  # whitespace stays
        ("bell\x07 and null\x00", "bell and null"),
        ("r\x01 Item", "Item"),  # a symbol font's bullet glyph before control characters
        ("- \x02 entry", "- entry"),  # the list marker stays, the glyph goes
        ("private\ue000use", "privateuse"),
        ("caf\u00e9 \u4e2d\u6587", "caf\u00e9 \u4e2d\u6587"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
    assert clean_text(clean_text(raw)) == clean_text(raw)  # idempotent


@pytest.mark.parametrize(
    ("text", "content"),
    [
        ("a", True),
        ("7", True),
        ("\u4e2d", True),
        ("", False),
        ("--- * ---", False),
        ("![](figure.png)", False),  # an image target alone
        ("![Sales chart](figure.png)", True),  # its caption counts
        ("[](https://example.com/a1)", False),  # a link's URL does not count
        ("[docs](https://example.com)", True),
    ],
)
def test_has_content(text: str, content: bool) -> None:
    assert has_content(text) is content


BOX = [BBox(x=0, y=0, w=10, h=10)]


@pytest.mark.parametrize(
    ("item", "junk"),
    [
        (TextItem(md="Hello", value="Hello"), False),
        (TextItem(md="\x01\x02", value="\x01\x02"), True),
        (TextItem(md="", value="value only"), False),  # no markdown: the value is read
        (HeadingItem(md="# Title", value="Title", level=1), False),
        (HeaderItem(md="ACME report"), True),  # page furniture
        (FooterItem(md="Page 3"), True),
        (ImageItem(md="![](img.png)", bbox=BOX), True),  # an image with no caption
        (ImageItem(md="![Figure 1: Sales](img.png)", caption="Figure 1: Sales"), False),
        (TableItem(md="| a |", rows=[["a", "1"]], csv="a,1", html=""), False),
        (
            TableItem(md="| |", rows=[["", None], ["-", " "]], csv="", html=""),
            True,
        ),  # no cell with content
    ],
)
def test_is_junk(item: object, junk: bool) -> None:
    assert is_junk(item) is junk


def test_unwrap_links_keeps_anchor_words_and_drops_note_markers() -> None:
    text, found = unwrap_links(
        "In [2020](/wiki/2020) the [coot](/wiki/Coot_(bird)) nested.[[33]](#cite_note-33) "
        'See [notes [b]](https://example.org/n "Notes")[[a]](#n) and ![map](map.png).'
    )
    assert text == "In 2020 the coot nested. See notes [b] and ![map](map.png)."
    assert found == [
        ("2020", "/wiki/2020"),
        ("coot", "/wiki/Coot_(bird)"),
        ("[33]", "#cite_note-33"),
        ("notes [b]", "https://example.org/n"),
        ("[a]", "#n"),
    ]
    assert unwrap_links("no links here") == ("no links here", [])
