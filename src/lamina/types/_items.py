"""Structured items of a parsed page: a union tagged by ``type``.

Every item carries ``md`` (its markdown) and ``bbox`` (a list of boxes in page points, origin
top-left). An item whose ``type`` this version does not know is read as :class:`UnknownItem`,
so a newer server never breaks an older client.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import Discriminator, Field, Tag

from lamina.types._base import WireModel
from lamina.types._common import BBox


class _ItemBase(WireModel):
    md: str = Field(description="Markdown of the item.")
    bbox: list[BBox] | None = Field(default=None, description="Boxes the item covers.")


class TextItem(_ItemBase):
    type: Literal["text"] = "text"
    value: str = Field(description="Plain text of the paragraph.")


class HeadingItem(_ItemBase):
    type: Literal["heading"] = "heading"
    level: int = Field(ge=1, le=6, description="Heading level, 1 to 6.")
    value: str


class CodeItem(_ItemBase):
    type: Literal["code"] = "code"
    value: str
    language: str | None = None


class ParseConcern(WireModel):
    type: str = Field(description="e.g. inconsistent_row_cell_count")
    details: str


class TableItem(_ItemBase):
    type: Literal["table"] = "table"
    rows: list[list[str | float | None]] = Field(description="Cells, row by row; header first.")
    csv: str
    html: str
    merged_from_pages: list[int] | None = None
    merged_into_page: int | None = None
    parse_concerns: list[ParseConcern] | None = None


class ImageItem(_ItemBase):
    type: Literal["image"] = "image"
    caption: str = ""
    url: str = ""


class LinkItem(_ItemBase):
    type: Literal["link"] = "link"
    text: str
    url: str


class ListItem(_ItemBase):
    type: Literal["list"] = "list"
    ordered: bool
    items: list[ListEntry] = Field(description="Entries: text items or nested lists.")


class HeaderItem(_ItemBase):
    type: Literal["header"] = "header"
    items: list[Item] = Field(default_factory=list)


class FooterItem(_ItemBase):
    type: Literal["footer"] = "footer"
    items: list[Item] = Field(default_factory=list)


class UnknownItem(_ItemBase):
    """An item of a kind this version of Lamina does not know; all its fields are kept."""

    type: str = "unknown"
    md: str = ""


_KNOWN = {
    "text",
    "heading",
    "code",
    "table",
    "image",
    "link",
    "list",
    "header",
    "footer",
}


def _item_tag(value: Any) -> str:
    kind = value.get("type", "text") if isinstance(value, dict) else getattr(value, "type", None)
    if kind is None:
        kind = "text"
    return kind if kind in _KNOWN else "unknown"


def _list_entry_tag(value: Any) -> str:
    kind = value.get("type", "text") if isinstance(value, dict) else getattr(value, "type", None)
    return "list" if kind == "list" else "text"


Item: TypeAlias = Annotated[
    Annotated[TextItem, Tag("text")]
    | Annotated[HeadingItem, Tag("heading")]
    | Annotated[CodeItem, Tag("code")]
    | Annotated[TableItem, Tag("table")]
    | Annotated[ImageItem, Tag("image")]
    | Annotated[LinkItem, Tag("link")]
    | Annotated[ListItem, Tag("list")]
    | Annotated[HeaderItem, Tag("header")]
    | Annotated[FooterItem, Tag("footer")]
    | Annotated[UnknownItem, Tag("unknown")],
    Discriminator(_item_tag),
]

ListEntry: TypeAlias = Annotated[
    Annotated[TextItem, Tag("text")] | Annotated[ListItem, Tag("list")],
    Discriminator(_list_entry_tag),
]

# Models build on first use (``defer_build`` in WireModel), when ``ListEntry`` and ``Item``
# above resolve; nothing is compiled at import.
