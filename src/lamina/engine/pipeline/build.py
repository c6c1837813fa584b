"""The document passes: raw pages → blocks, furniture, tables, column order, headings, items.

Format-independent: it reads only :class:`~lamina.engine.pipeline.model.RawPage` data, so PDF
text layers and OCR'd scans go through the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from lamina.engine import columns, furniture, layout, ocr, tables
from lamina.engine import markdown as mdr
from lamina.engine.layout import Line
from lamina.engine.ocr import OcrLine
from lamina.engine.pipeline.items import (
    annotate_links,
    furniture_items,
    link_item,
    merge_continued_tables,
    merge_image_items,
    table_item,
)
from lamina.engine.pipeline.model import LayoutOptions, RawPage
from lamina.engine.result import PageResult
from lamina.engine.tables import FoundTable
from lamina.types import FooterItem, HeaderItem, Item, PageMetadata


@dataclass(slots=True)
class _PagePlan:
    """One page between the document passes: blocks, tables and furniture."""

    blocks: list[layout.Block]
    columns: bool
    tables: list[FoundTable]
    header: list[Line]
    footer: list[Line]
    printed_page_number: str | None


def build_pages(raw_pages: list[RawPage], options: LayoutOptions | None = None) -> list[PageResult]:
    """Lay out every page: furniture found across pages, tables (when asked), column order,
    heading levels ranked over the whole document, tables continued across pages merged."""
    options = options or LayoutOptions()
    body = layout.body_size(line for raw in raw_pages for line in raw.lines)
    marks = furniture.detect([(raw.height, raw.lines) for raw in raw_pages], body)
    plans: list[_PagePlan] = []
    for raw, mark in zip(raw_pages, marks, strict=True):
        side = furniture.side_page_number(raw.width, raw.lines)
        if side is not None and mark.kind(side) is None:
            mark.footer.append(side)
            if mark.printed_page_number is None:
                mark.printed_page_number = raw.lines[side].text.strip()
        content = [ln for i, ln in enumerate(raw.lines) if mark.kind(i) is None]
        found = tables.find_tables(content, raw.segments) if options.tables else []
        if found and isinstance(content[0], OcrLine):
            found = [t for t in found if ocr.is_table(t)]  # words on a scan line up by chance
        if found:
            used = set().union(*(t.lines for t in found))
            content = [ln for i, ln in enumerate(content) if i not in used]
        ordered, in_columns = columns.order_lines(content)
        blocks = layout.order_blocks(layout.group_lines(ordered), in_columns)
        layout.mark_page_furniture(blocks, raw.height)
        layout.mark_heading_candidates(blocks, body, layout.body_size(raw.lines))
        layout.demote_table_rows(blocks, in_columns)
        layout.demote_page_edge_and_figure_text(blocks, raw.height, body, in_columns)
        plans.append(
            _PagePlan(
                blocks,
                in_columns,
                found,
                [raw.lines[i] for i in sorted(mark.header, key=lambda i: raw.lines[i].top)],
                [raw.lines[i] for i in sorted(mark.footer, key=lambda i: raw.lines[i].top)],
                mark.printed_page_number if options.printed_page_number else None,
            )
        )
    layout.demote_repeated_headings([plan.blocks for plan in plans])
    levels = layout.HeadingLevels(
        b.heading_size for plan in plans for b in plan.blocks if b.heading_size is not None
    )
    pages = [
        _page_result(raw, plan, levels, options) for raw, plan in zip(raw_pages, plans, strict=True)
    ]
    if options.tables and options.merge_tables:
        merge_continued_tables(pages, options)
    return pages


def _page_result(
    raw: RawPage, plan: _PagePlan, levels: layout.HeadingLevels, options: LayoutOptions
) -> PageResult:
    metadata = PageMetadata(
        page_number=raw.number,
        confidence=raw.confidence,
        original_orientation_angle=raw.rotation,
        printed_page_number=plan.printed_page_number,
    )
    if raw.error is not None:
        return PageResult(page_number=raw.number, error=raw.error, metadata=metadata)
    try:
        blocks = plan.blocks
        items: list[Item] = furniture_items(plan.header, HeaderItem)
        # The page text keeps its furniture (it is on the page); the markdown leaves it out.
        texts: list[str] = ["\n".join(ln.text for ln in plan.header)] if plan.header else []
        for entry in _with_tables(blocks, plan.tables, plan.columns):
            if isinstance(entry, FoundTable):
                items.append(table_item(entry, options))
                texts.append("\n".join("\t".join(row) for row in entry.rows))
            else:
                items.extend(layout.block_items(entry, levels))
                texts.append(layout.block_text(entry))
        items.extend(furniture_items(plan.footer, FooterItem))
        if plan.footer:
            texts.append("\n".join(ln.text for ln in plan.footer))
        if raw.extras is not None and raw.extras.image_items:  # OCR/images hook
            items = merge_image_items(items, raw.extras.image_items)
        links = [link_item(*link) for link in raw.links]
        if options.annotate_links and links:
            annotate_links(items, links)
        header = "\n".join(i.md for i in items if isinstance(i, HeaderItem)) or None
        footer = "\n".join(i.md for i in items if isinstance(i, FooterItem)) or None
        return PageResult(
            page_number=raw.number,
            page_width=raw.width,
            page_height=raw.height,
            text="\n\n".join(texts),
            markdown=mdr.page_markdown(items),
            items=items + links,
            header=header,
            footer=footer,
            metadata=metadata,
        )
    except Exception as exc:
        return PageResult(
            page_number=raw.number,
            page_width=raw.width,
            page_height=raw.height,
            error=f"Page {raw.number} could not be laid out: {exc}",
            text="\n".join(ln.text for ln in raw.lines),  # raw text, for replace_failed_page_mode
            metadata=metadata,
        )


def _with_tables(
    blocks: list[layout.Block], found: list[FoundTable], in_columns: bool
) -> list[layout.Block | FoundTable]:
    """Blocks with each table placed before the first block below its top edge (in a
    column layout: the first such block that overlaps it horizontally)."""
    out: list[layout.Block | FoundTable] = list(blocks)
    for table in found:
        x0, top, x1, _ = table.bbox
        at = len(out)
        for i, entry in enumerate(out):
            if isinstance(entry, FoundTable) or entry.top < top:
                continue
            if in_columns:
                bx0 = entry.x0
                bx1 = max(ln.x1 for ln in entry.lines)
                if bx1 < x0 or bx0 > x1:
                    continue
            at = i
            break
        out.insert(at, table)
    return out
