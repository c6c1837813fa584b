"""PPTX backend: one page per slide, sized as the slide, with boxes from the shapes' positions.

Shapes are read in the slide's shape-tree order (the order PowerPoint's selection pane and
screen readers use), groups expanded in place. The title placeholder becomes a level-1
heading; other text frames become paragraphs and lists, a paragraph being a list entry when it
has a bullet or number of its own (``buChar`` / ``buAutoNum``), is indented (level > 0), or sits
in a body placeholder without ``buNone``; entries nest by paragraph level. Tables become table
items with merged cells repeated over their span; charts become their title and a table of
their data (categories by series). Each item's box is its shape's box in points. Pictures,
comments and SmartArt are not read.

``speaker_notes`` come from the slide's notes page, ``slide_section_name`` from the sections
PowerPoint 2010+ stores in the presentation (``p14:sectionLst``). Hidden slides are skipped
unless ``input_options.presentation.include_hidden_slides``; pages keep the slide numbers, so
page 3 is always the third slide.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from lamina.engine import markdown as mdr
from lamina.engine import office
from lamina.engine.pages import select_pages
from lamina.engine.result import PageResult
from lamina.types import BBox, Item, ListItem, ParseConfiguration, TextItem

_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_P = "http://schemas.openxmlformats.org/presentationml/2006/main"
_P14 = "http://schemas.microsoft.com/office/powerpoint/2010/main"
_NS = {"a": _A, "p": _P, "p14": _P14}
_TITLE_TYPES = frozenset({"title", "ctrTitle"})
_BODY_TYPES = frozenset({"body", "obj", None})  # a placeholder with no type is an object one
_SKIPPED_PLACEHOLDERS = frozenset({"dt", "ftr", "sldNum", "hdr"})


def parse(data: bytes, config: ParseConfiguration) -> tuple[int, list[PageResult]]:
    """Parse a PPTX: the slide count and one page per selected, shown slide."""
    office.check_package(data, "PPTX", "ppt/presentation.xml")
    import pptx

    try:
        presentation = pptx.Presentation(io.BytesIO(data))
        slides = list(presentation.slides)
    except Exception as exc:
        raise office.invalid("PPTX", exc) from exc
    include_hidden = bool(office.input_option(config, "presentation", "include_hidden_slides"))
    width = round((presentation.slide_width or 0) / office.EMU_PER_POINT, 2)
    height = round((presentation.slide_height or 0) / office.EMU_PER_POINT, 2)
    sections = _section_names(presentation.part._element)
    pages: list[PageResult] = []
    for number in select_pages(len(slides), config.page_ranges):
        slide = slides[number - 1]
        if slide._element.get("show") in ("0", "false") and not include_hidden:
            continue
        try:
            items: list[Item] = []
            for shape, box in _shapes(slide.shapes, None):
                items.extend(_shape_items(shape, box))
            metadata: dict[str, Any] = {
                "speaker_notes": _notes(slide),
                "slide_section_name": sections.get(slide.slide_id),
            }
            pages.append(
                office.build_page(number, items, width=width, height=height, metadata=metadata)
            )
        except Exception as exc:  # one odd slide fails alone
            pages.append(office.failed_page(number, "Slide", exc))
    return len(slides), pages


def _section_names(presentation_xml: Any) -> dict[int, str]:
    """{slide id: section name} from ``p14:sectionLst`` (empty when there are no sections)."""
    names: dict[int, str] = {}
    for section in presentation_xml.iterfind(".//p14:sectionLst/p14:section", _NS):
        name = section.get("name") or ""
        for sld in section.iterfind("p14:sldIdLst/p14:sldId", _NS):
            slide_id = sld.get("id")
            if slide_id and slide_id.isdigit():
                names[int(slide_id)] = name
    return names


def _notes(slide: Any) -> str | None:
    if not slide.has_notes_slide:
        return None
    frame = slide.notes_slide.notes_text_frame
    text = frame.text.strip() if frame is not None else ""
    return text or None


@dataclass(slots=True)
class _Transform:
    """Maps a group's child coordinates to slide coordinates (EMU)."""

    off_x: float
    off_y: float
    ch_x: float
    ch_y: float
    sx: float
    sy: float
    parent: _Transform | None

    def apply(self, x: float, y: float, w: float, h: float) -> tuple[float, ...]:
        x, y = self.off_x + (x - self.ch_x) * self.sx, self.off_y + (y - self.ch_y) * self.sy
        w, h = w * self.sx, h * self.sy
        return self.parent.apply(x, y, w, h) if self.parent else (x, y, w, h)


def _shapes(shapes: Any, transform: _Transform | None) -> Any:
    """(shape, box in points) for every shape, groups expanded in tree order."""
    for shape in shapes:
        x, y = shape.left or 0, shape.top or 0
        w, h = shape.width or 0, shape.height or 0
        if transform is not None:
            x, y, w, h = transform.apply(x, y, w, h)
        box = office.emu_bbox(int(x), int(y), int(w), int(h))
        if shape.shape_type is not None and int(shape.shape_type) == 6:  # MSO_SHAPE_TYPE.GROUP
            yield from _shapes(shape.shapes, _group_transform(shape, transform))
        else:
            yield shape, box


def _group_transform(group: Any, parent: _Transform | None) -> _Transform | None:
    xfrm = group._element.find("p:grpSpPr/a:xfrm", _NS)
    if xfrm is None:
        return parent
    off, ext = xfrm.find("a:off", _NS), xfrm.find("a:ext", _NS)
    ch_off, ch_ext = xfrm.find("a:chOff", _NS), xfrm.find("a:chExt", _NS)
    if off is None or ext is None or ch_off is None or ch_ext is None:
        return parent

    def num(el: Any, attr: str) -> float:
        return float(el.get(attr, "0") or 0)

    return _Transform(
        off_x=num(off, "x"),
        off_y=num(off, "y"),
        ch_x=num(ch_off, "x"),
        ch_y=num(ch_off, "y"),
        sx=num(ext, "cx") / num(ch_ext, "cx") if num(ch_ext, "cx") else 1.0,
        sy=num(ext, "cy") / num(ch_ext, "cy") if num(ch_ext, "cy") else 1.0,
        parent=parent,
    )


def _placeholder_type(shape: Any) -> str | bool | None:
    """The ``type`` of the shape's placeholder (None for an untyped one), False if it is not."""
    ph = shape._element.find(".//p:nvPr/p:ph", _NS)
    if ph is None:
        return False
    ptype = ph.get("type")
    return str(ptype) if ptype is not None else None


def _shape_items(shape: Any, box: BBox) -> list[Item]:
    bbox = [box]
    if getattr(shape, "has_table", False):
        return [mdr.table_item(_table_rows(shape.table), bbox=bbox)]
    if getattr(shape, "has_chart", False):
        return _chart_items(shape.chart, bbox)
    if not getattr(shape, "has_text_frame", False):
        return []
    ptype = _placeholder_type(shape)
    if ptype in _SKIPPED_PLACEHOLDERS:
        return []
    if ptype in _TITLE_TYPES:
        text = " ".join(shape.text_frame.text.split())
        return [mdr.heading_item(text, 1, bbox=bbox)] if text else []
    body = ptype is not False and ptype in _BODY_TYPES
    return _text_frame_items(shape.text_frame, body, bbox)


@dataclass(slots=True)
class _Entry:
    level: int
    ordered: bool
    item: TextItem


def _text_frame_items(frame: Any, body: bool, bbox: list[BBox]) -> list[Item]:
    items: list[Item] = []
    entries: list[_Entry] = []
    texts: list[str] = []

    def flush_text() -> None:
        if texts:
            items.append(mdr.text_item("\n".join(texts), bbox=bbox))
            texts.clear()

    def flush_list() -> None:
        if entries:
            items.append(_build_list(entries, bbox))
            entries.clear()

    for paragraph in frame.paragraphs:
        text = _paragraph_text(paragraph)
        if not text.strip():
            flush_text()
            continue
        kind = _bullet_kind(paragraph, body)
        if kind is None:
            flush_list()
            texts.append(text.strip())
        else:
            flush_text()
            entries.append(_Entry(paragraph.level, kind == "ordered", mdr.text_item(text.strip())))
    flush_text()
    flush_list()
    return items


def _paragraph_text(paragraph: Any) -> str:
    """The paragraph's text, vertical tabs (soft line breaks) as newlines."""
    return str(paragraph.text).replace("\v", "\n")


def _bullet_kind(paragraph: Any, body: bool) -> str | None:
    """ "ordered", "unordered" or None (not a list entry) for a paragraph."""
    ppr = paragraph._p.find("a:pPr", _NS)
    if ppr is not None:
        if ppr.find("a:buNone", _NS) is not None:
            return None
        if ppr.find("a:buAutoNum", _NS) is not None:
            return "ordered"
        if ppr.find("a:buChar", _NS) is not None or ppr.find("a:buBlip", _NS) is not None:
            return "unordered"
    if body or paragraph.level > 0:
        return "unordered"
    return None


def _build_list(entries: list[_Entry], bbox: list[BBox] | None) -> ListItem:
    base = min(e.level for e in entries)
    out: list[TextItem | ListItem] = []
    i = 0
    while i < len(entries):
        if entries[i].level <= base:
            out.append(entries[i].item)
            i += 1
            continue
        j = i
        while j < len(entries) and entries[j].level > base:
            j += 1
        out.append(_build_list(entries[i:j], None))
        i = j
    top = [e for e in entries if e.level == base]
    return mdr.list_item(out, ordered=bool(top) and top[0].ordered, bbox=bbox)


def _chart_items(chart: Any, bbox: list[BBox]) -> list[Item]:
    """A chart as its title and its data: one row per category, one column per series."""
    items: list[Item] = []
    try:
        if chart.has_title and chart.chart_title.has_text_frame:
            title = " ".join(chart.chart_title.text_frame.text.split())
            if title:
                items.append(mdr.text_item(title, bbox=bbox))
        plot = chart.plots[0] if len(chart.plots) else None
        if plot is None:
            return items
        categories = [str(c) for c in plot.categories]
        series = list(plot.series)
        if not series:
            return items
        rows: list[list[mdr.Cell]] = [["", *(str(s.name) for s in series)]]
        columns = [list(s.values) for s in series]
        for i, category in enumerate(categories):
            rows.append([category, *(_chart_value(col, i) for col in columns)])
        items.append(mdr.table_item(rows, bbox=bbox))
    except Exception:  # charts hold arbitrary, sometimes broken, embedded data
        return items
    return items


def _chart_value(values: list[Any], index: int) -> mdr.Cell:
    value = values[index] if index < len(values) else None
    return float(value) if isinstance(value, int | float) else value


def _table_rows(table: Any) -> list[list[mdr.Cell]]:
    """The table's cells as a grid, a merged cell's text repeated over its span."""
    n_rows, n_cols = len(table.rows), len(table.columns)
    grid: list[list[mdr.Cell]] = [["" for _ in range(n_cols)] for _ in range(n_rows)]
    for r in range(n_rows):
        for c in range(n_cols):
            cell = table.cell(r, c)
            if cell.is_spanned:
                continue
            text = " ".join(cell.text.split())
            height = cell.span_height if cell.is_merge_origin else 1
            width = cell.span_width if cell.is_merge_origin else 1
            for rr in range(r, min(r + height, n_rows)):
                for cc in range(c, min(c + width, n_cols)):
                    grid[rr][cc] = text
    return grid
