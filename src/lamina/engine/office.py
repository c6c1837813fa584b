"""Shared by the DOCX, PPTX, XLSX, CSV and HTML backends: safe package opening, options, pages.

Office Open XML files are zip packages. Before any library opens one, :func:`check_package`
reads the zip directory only (cheap) and refuses packages that are not zips, lack their main
part, or would expand to far more than their size (a zip bomb), so a 600 KB upload cannot make a
worker inflate 600 MB of XML.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from typing import Any

from lamina.engine import markdown as mdr
from lamina.engine.errors import InvalidDocumentError
from lamina.engine.result import PageResult
from lamina.types import (
    BBox,
    FooterItem,
    HeaderItem,
    Item,
    ListItem,
    PageMetadata,
    ParseConfiguration,
)

#: Largest total uncompressed size of a package's members (module constant so tests can lower
#: it with monkeypatch).
MAX_UNCOMPRESSED_BYTES = 500 * 1024 * 1024
#: Largest ratio of uncompressed to compressed size, checked once a package expands past
#: :data:`RATIO_CHECK_FLOOR`. Real XML compresses 5-20x; a bomb of zeros compresses ~1000x.
MAX_COMPRESSION_RATIO = 200.0
RATIO_CHECK_FLOOR = 16 * 1024 * 1024

EMU_PER_POINT = 12700


def check_package(data: bytes, kind: str, main_part: str) -> None:
    """Raise :class:`InvalidDocumentError` unless ``data`` is a sane zip holding ``main_part``.

    ``kind`` ("DOCX", "PPTX", ...) only names the format in messages.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise InvalidDocumentError(
            f"Not a valid {kind} file: it is not a readable zip package ({exc})."
        ) from exc
    names = {info.filename for info in infos}
    if main_part not in names:
        raise InvalidDocumentError(f"Not a valid {kind} file: the package has no {main_part} part.")
    total = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    ratio = total / max(packed, 1)
    if total > MAX_UNCOMPRESSED_BYTES or (
        total > RATIO_CHECK_FLOOR and ratio > MAX_COMPRESSION_RATIO
    ):
        raise InvalidDocumentError(
            f"The {kind} file looks like a zip bomb: its parts expand to {total:,} bytes "
            f"({ratio:,.0f} times their compressed size); refusing to open it."
        )


def invalid(kind: str, exc: BaseException) -> InvalidDocumentError:
    """The error for a package a library failed to read."""
    reason = str(exc) or type(exc).__name__
    return InvalidDocumentError(f"Not a valid {kind} file: it could not be read ({reason}).")


def input_option(config: ParseConfiguration, group: str, name: str) -> Any:
    """``input_options[group][name]`` or None; the options are free-form JSON."""
    options = config.input_options or {}
    section = options.get(group)
    return section.get(name) if isinstance(section, dict) else None


def emu_bbox(left: int | None, top: int | None, width: int | None, height: int | None) -> BBox:
    """A box from English Metric Units (Office's unit, 12700 per point) in points."""

    def pt(v: int | None) -> float:
        return round((v or 0) / EMU_PER_POINT, 2)

    return BBox(x=pt(left), y=pt(top), w=pt(width), h=pt(height))


def plain_text(item: Item) -> str:
    """An item's text without markdown syntax: values for text-like items, rows for tables."""
    if isinstance(item, ListItem):
        return "\n".join(plain_text(e) for e in item.items)
    if isinstance(item, HeaderItem | FooterItem):
        return "\n".join(plain_text(i) for i in item.items) or item.md
    rows = getattr(item, "rows", None)
    if isinstance(rows, list):
        return "\n".join("\t".join(mdr.cell_text(c) for c in row) for row in rows)
    for attr in ("value", "caption", "text"):
        value = getattr(item, attr, None)
        if isinstance(value, str):
            return value
    return item.md


def build_page(
    number: int,
    items: list[Item],
    *,
    width: float = 0.0,
    height: float = 0.0,
    metadata: dict[str, Any] | None = None,
) -> PageResult:
    """A born-digital page: markdown and text from its items, confidence 1.0.

    Header and footer items are page furniture: kept in ``items`` and in ``header`` /
    ``footer``, left out of the markdown and the text.
    """
    body = [i for i in items if i.type not in mdr.FURNITURE_TYPES]
    headers = [i.md for i in items if isinstance(i, HeaderItem)]
    footers = [i.md for i in items if isinstance(i, FooterItem)]
    return PageResult(
        page_number=number,
        page_width=width,
        page_height=height,
        text="\n\n".join(t for t in (plain_text(i) for i in body) if t),
        markdown=mdr.page_markdown(items),
        items=items,
        header="\n\n".join(headers) or None,
        footer="\n\n".join(footers) or None,
        metadata=PageMetadata(page_number=number, confidence=1.0, **(metadata or {})),
    )


def failed_page(number: int, kind: str, exc: Exception) -> PageResult:
    """A page that could not be read: the rest of the document is unaffected."""
    reason = str(exc) or type(exc).__name__
    return PageResult(
        page_number=number,
        error=f"{kind} {number} could not be parsed: {reason}",
        metadata=PageMetadata(page_number=number),
    )


def furniture(kind: str, texts: Iterable[str]) -> Item | None:
    """A header or footer item holding ``texts`` as paragraphs (None when all are empty)."""
    paragraphs = [t for t in texts if t.strip()]
    if not paragraphs:
        return None
    children: list[Item] = [mdr.text_item(t) for t in paragraphs]
    md = "\n\n".join(paragraphs)
    if kind == "header":
        return HeaderItem(md=md, items=children)
    return FooterItem(md=md, items=children)
