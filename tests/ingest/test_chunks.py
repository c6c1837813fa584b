"""The chunker of ``lamina.ingest`` on plain pages (markdown or items, no parse): the limits
and guarantees its module docstring states."""

from __future__ import annotations

import pytest

from lamina.ingest._chunks import Chunk, Chunker, ChunkPage, units_from_items, units_from_markdown
from lamina.types import BBox, HeadingItem, ItemsPage, LinkItem, TextItem

GUIDE = """# Guide

## Setup

Install the package. Then run it. It works well on most machines.

| name | size |
|---|---|
| a | 1 |
| b | 2 |
| c | 3 |

- one
- two

```
code here
```
"""


def _page(markdown: str, number: int = 1) -> ChunkPage:
    return ChunkPage(number, markdown, units_from_markdown(markdown))


def _chunks(markdown: str, **options: object) -> list[Chunk]:
    return Chunker(**options).chunk([_page(markdown)])  # type: ignore[arg-type]


def test_markdown_blocks_become_units() -> None:
    units = units_from_markdown(GUIDE + "\nTable 3: Sales by region\n\n\x01\x02\n")
    assert [(u.kind, u.level, u.title) for u in units] == [
        ("heading", 1, "Guide"),
        ("heading", 2, "Setup"),
        ("text", 0, ""),
        ("table", 0, ""),
        ("list", 0, ""),
        ("code", 0, ""),
        ("caption", 0, ""),  # the junk paragraph of control characters is no unit
    ]
    assert [u.index for u in units] == list(range(len(units)))


def test_without_a_size_every_item_is_a_chunk_with_its_section() -> None:
    chunks = _chunks(GUIDE)
    assert [c.item_type for c in chunks] == ["text", "table", "list", "code"]
    assert all(c.part == 0 for c in chunks)  # never split
    assert {c.header_path for c in chunks} == {"/Guide/Setup/"}
    assert chunks[0].text.startswith("# Guide\n\n## Setup\n\nInstall")  # headings carried in
    for chunk in chunks[1:]:  # located in the page's markdown
        assert chunk.start is not None and chunk.end is not None
        assert GUIDE[chunk.start : chunk.end] == chunk.text


@pytest.mark.parametrize(
    "size",
    [
        pytest.param(
            25,
            marks=pytest.mark.xfail(
                strict=True,
                reason="a table whose header row is longer than the limit: every piece repeats "
                "the header and is over it, and its rows are cut to single characters",
            ),
        ),
        40,
        60,
        120,
        400,
    ],
)
def test_chunk_size_is_a_maximum_in_characters(size: int) -> None:
    chunks = _chunks(GUIDE, chunk_size=size)
    assert chunks and all(len(c.text) <= size for c in chunks)
    words = [w for c in chunks for w in c.text.split()]
    for word in ("Install", "machines.", "two", "code"):
        assert word in words  # nothing is lost


def test_chunk_size_in_tokens_with_a_tokenizer() -> None:
    chunks = _chunks(GUIDE, chunk_size=9, tokenizer=str.split)
    assert all(len(c.text.split()) <= 9 for c in chunks)
    assert max(len(c.text) for c in chunks) > 9  # characters are not what is counted


def test_a_split_table_repeats_its_header_row() -> None:
    table = "| name | size |\n|---|---|\n" + "".join(f"| row{i} | {i} |\n" for i in range(12))
    chunks = [c for c in _chunks(table, chunk_size=60) if c.item_type == "table"]
    assert len(chunks) > 1
    assert [c.part for c in chunks] == list(range(len(chunks)))
    assert all(c.text.startswith("| name | size |\n|---|---|\n") for c in chunks)
    rows = [ln for c in chunks for ln in c.text.splitlines()[2:]]
    assert rows == [f"| row{i} | {i} |" for i in range(12)]  # each row once, in order


def test_headings_never_stand_alone_across_a_page_break() -> None:
    first = _page("Intro text on page one.\n\n## Results", 1)
    second = _page("The results are good.", 2)
    chunks = Chunker(chunk_size=200).chunk([first, second])
    assert [c.page.page_number for c in chunks] == [1, 2]
    assert chunks[1].text == "## Results\n\nThe results are good."
    assert chunks[1].header_path == "/Results/"


def test_trailing_headings_still_make_a_chunk() -> None:
    chunks = _chunks("# Only a title")
    assert [c.text for c in chunks] == ["# Only a title"]


def test_section_in_text_names_the_section_on_the_first_line() -> None:
    chunks = _chunks(GUIDE, chunk_size=200, section_in_text=True)
    assert chunks[0].text.startswith("# Guide")  # its headings are already at its head
    assert all(c.text.startswith("Guide > Setup\n\n") for c in chunks[1:])


@pytest.mark.parametrize("size", [0, -5])
def test_a_size_below_one_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        Chunker(chunk_size=size)


def test_items_become_units_and_links_go_to_the_chunk_they_overlap() -> None:
    box = BBox(x=72, y=100, w=200, h=12)
    page = ItemsPage(
        page_number=1,
        success=True,
        page_width=612,
        page_height=792,
        items=[
            HeadingItem(md="# Links", value="Links", level=1),
            TextItem(md="See the docs for more.", value="See the docs for more.", bbox=[box]),
            LinkItem(md="", text="the docs", url="https://example.com/docs", bbox=[box]),
            TextItem(md="\x01", value="\x01"),  # junk
        ],
    )
    units, links = units_from_items(page)
    assert [(u.kind, u.index) for u in units] == [("heading", 0), ("text", 1)]
    assert [(link.text, link.url) for link in links] == [("the docs", "https://example.com/docs")]
    markdown = "# Links\n\nSee the docs for more."
    (chunk,) = Chunker().chunk([ChunkPage(1, markdown, units, links)])
    assert chunk.links == [{"text": "the docs", "url": "https://example.com/docs"}]
    meta = chunk.metadata()
    assert meta["item_type"] == "text" and meta["item_index"] == 0  # its heading opens it
    assert meta["header_path"] == "/Links/" and "bbox" in meta and "links" in meta
