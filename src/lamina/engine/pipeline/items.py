"""Item builders of the page pipeline: furniture, tables, links and images as
:mod:`lamina.types` items, and tables continued across pages merged."""

from __future__ import annotations

from collections.abc import Sequence

from lamina.engine import markdown as mdr
from lamina.engine.layout import Line
from lamina.engine.pipeline.model import LayoutOptions
from lamina.engine.result import PageResult
from lamina.engine.tables import FoundTable
from lamina.types import (
    BBox,
    FooterItem,
    HeaderItem,
    HeadingItem,
    ImageItem,
    Item,
    LinkItem,
    ParseConcern,
    TableItem,
    TextItem,
)


def furniture_items(lines: list[Line], cls: type[HeaderItem] | type[FooterItem]) -> list[Item]:
    """One header (or footer) item holding a paragraph per furniture line."""
    if not lines:
        return []
    inner: list[Item] = [
        mdr.text_item(ln.text.strip(), [ln.bbox(0, len(ln.text.strip()))]) for ln in lines
    ]
    boxes = [box for item in inner for box in item.bbox or ()]
    return [cls(items=inner, md="\n".join(i.md for i in inner), bbox=boxes)]


def table_item(table: FoundTable, options: LayoutOptions) -> TableItem:
    x0, top, x1, bottom = table.bbox
    boxes = [_bbox((x0, top, x1, bottom))]
    if options.cell_bboxes:
        # One box per non-empty cell after the table's own, labelled "cell:<row>:<col>"
        # (0-based, row 0 the header row as in ``rows``).
        for r, row in enumerate(table.cells):
            for c, cell in enumerate(row):
                if cell is not None and table.rows[r][c]:
                    boxes.append(_bbox(cell, label=f"cell:{r}:{c}"))
    item = mdr.table_item(table.rows, boxes)
    if table.concerns:
        item.parse_concerns = [ParseConcern(type=t, details=d) for t, d in table.concerns]
    item.md = table_md(item.rows, options)
    return item


def _bbox(box: tuple[float, float, float, float], label: str | None = None) -> BBox:
    x0, top, x1, bottom = box
    return BBox(
        x=round(x0, 2), y=round(top, 2), w=round(x1 - x0, 2), h=round(bottom - top, 2), label=label
    )


def table_md(rows: list[list[str | float | None]], options: LayoutOptions) -> str:
    """A table's markdown: a pipe table (compact if asked), or HTML when markdown tables are
    turned off."""
    if not options.tables_as_markdown:
        return mdr.table_html(rows)
    if not options.compact_tables:
        return mdr.table_md(rows)
    width = max((len(r) for r in rows), default=0)
    out = []
    for n, row in enumerate(rows):
        cells = [mdr.escape_md_cell(c).strip() for c in row] + [""] * (width - len(row))
        out.append("|" + "|".join(cells) + "|")
        if n == 0:
            out.append("|" + "|".join(["-"] * width) + "|")
    return "\n".join(out)


def merge_continued_tables(pages: list[PageResult], options: LayoutOptions) -> None:
    """Join a table that ends a page with the table that starts the next page.

    Two tables continue each other when the first is the last content item of its page, the
    second the first content item of the next page, and they have the same number of columns.
    A repeated header row is dropped. The first table gets every row and
    ``merged_from_pages``; the continuation keeps its place with ``merged_into_page`` and no
    rows. Only the open table of the previous page is kept, so memory does not grow with the
    document.
    """
    origin: tuple[PageResult, TableItem] | None = None
    for page in pages:
        content = [i for i in page.items if i.type not in ("header", "footer", "link")]
        first = content[0] if content else None
        if (
            origin is not None
            and isinstance(first, TableItem)
            and first.rows
            and origin[1].rows
            and len(first.rows[0]) == len(origin[1].rows[0])
            and page.page_number == (origin[1].merged_from_pages or [origin[0].page_number])[-1] + 1
        ):
            host_page, host = origin
            rows = first.rows[1:] if first.rows[0] == host.rows[0] else first.rows
            host.rows = host.rows + rows
            host.merged_from_pages = [
                *(host.merged_from_pages or [host_page.page_number]),
                page.page_number,
            ]
            host.csv = mdr.table_csv(host.rows)
            host.html = mdr.table_html(host.rows)
            host.md = table_md(host.rows, options)
            host_page.markdown = mdr.page_markdown([i for i in host_page.items if i.type != "link"])
            first.merged_into_page = host_page.page_number
            first.rows = []
            first.md = first.csv = first.html = ""
            page.markdown = mdr.page_markdown([i for i in page.items if i.type != "link"])
            if len(content) == 1:
                continue  # the table fills this page too: it may go on
        last = content[-1] if content else None
        if isinstance(last, TableItem) and last.rows:
            origin = (page, last)
        elif not (isinstance(last, TableItem) and last.merged_into_page is not None):
            origin = None


def link_item(text: str, box: tuple[float, float, float, float], url: str) -> LinkItem:
    x0, top, x1, bottom = box
    bbox = BBox(x=round(x0, 2), y=round(top, 2), w=round(x1 - x0, 2), h=round(bottom - top, 2))
    label = text or url
    return LinkItem(text=text, url=url, md=f"[{label}]({url})", bbox=[bbox])


def annotate_links(items: list[Item], links: list[LinkItem]) -> None:
    """Write ``[text](url)`` into the markdown of the paragraph under each link."""
    for link in links:
        if not link.text or not link.bbox:
            continue
        box = link.bbox[0]
        for item in items:
            if not isinstance(item, TextItem | HeadingItem) or not item.bbox:
                continue
            hit = any(
                b.x < box.x + box.w
                and box.x < b.x + b.w
                and b.y < box.y + box.h
                and box.y < b.y + b.h
                for b in item.bbox
            )
            if hit and link.text in item.md and f"[{link.text}]" not in item.md:
                item.md = item.md.replace(link.text, link.md, 1)
                break


def merge_image_items(items: list[Item], image_items: Sequence[ImageItem]) -> list[Item]:
    """``items`` with each image item placed before the first item that starts below it."""
    if not image_items:
        return items
    out = list(items)
    for image in sorted(image_items, key=_item_top):
        top = _item_top(image)
        index = next((i for i, item in enumerate(out) if _item_top(item) > top), len(out))
        out.insert(index, image)
    return out


def _item_top(item: Item) -> float:
    boxes = getattr(item, "bbox", None)
    return min((b.y for b in boxes), default=0.0) if boxes else 0.0
