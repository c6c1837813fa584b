"""Shapes shared by several APIs: boxes, errors, pages of lists, presigned URLs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import Field, PlainSerializer, WithJsonSchema

from lamina.types._base import WireModel

T = TypeVar("T")


def _isoformat(value: datetime) -> str:
    return value.isoformat()


WireTime = Annotated[
    datetime,
    PlainSerializer(_isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A timestamp written as ``datetime.isoformat()`` (``+00:00``, not ``Z``): the form the server
wrote before its responses were models, kept so the wire does not change."""


class BBox(WireModel):
    """A box on a page, in PDF points, origin at the top-left corner of the page."""

    x: float = Field(description="Left edge, points from the page's left side.")
    y: float = Field(description="Top edge, points from the page's top.")
    w: float = Field(description="Width in points.")
    h: float = Field(description="Height in points.")
    confidence: float | None = Field(default=None, description="Confidence of this box (0-1).")
    start_index: int | None = Field(
        default=None, description="Start offset of the box's text within the item's value."
    )
    end_index: int | None = Field(
        default=None, description="End offset of the box's text within the item's value."
    )
    label: str | None = Field(default=None, description="Label of the box, if the engine has one.")
    r: float | None = Field(default=None, description="Rotation of the box in degrees.")


class ErrorDetail(WireModel):
    """One entry of a 422 ``detail`` list."""

    type: str
    loc: list[str | int]
    msg: str
    input: Any = None


class ErrorBody(WireModel):
    """The body of an error response: ``{"detail": [...]}`` or ``{"detail": "message"}``."""

    detail: list[ErrorDetail] | str


class PaginatedList(WireModel, Generic[T]):
    """One page of a cursor-paginated list."""

    items: list[T]
    next_page_token: str | None = Field(
        default=None, description="Pass as ``page_token`` to get the next page; None at the end."
    )
    total_size: int | None = Field(default=None, description="Number of items over all pages.")


class PresignedURL(WireModel):
    """A signed, expiring URL to download one object."""

    url: str
    expires_at: WireTime
    form_fields: dict[str, str] | None = None
