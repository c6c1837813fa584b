"""What the engine returns: pages of text, markdown and items, plus page metadata and images."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from lamina.types import Item, PageMetadata


class ExtractedImage(BaseModel):
    """An image the engine pulled out of the document (embedded picture or page screenshot)."""

    filename: str = Field(description="Unique within the job, e.g. page_1_image_0.png")
    page_number: int
    category: str = Field(description="embedded, layout or screenshot")
    content_type: str = "image/png"
    bbox: tuple[float, float, float, float] | None = Field(
        default=None, description="x, y, w, h in page points, origin top-left"
    )
    data: bytes = Field(repr=False)


class PageResult(BaseModel):
    """One page of the source document.

    A page whose ``error`` is set failed on its own: its markdown and items are empty, its text
    holds whatever raw text could still be read (often nothing), and the rest of the document is
    unaffected.
    """

    page_number: int = Field(description="1-based page number in the source document")
    page_width: float = 0.0
    page_height: float = 0.0
    text: str = ""
    markdown: str = ""
    items: list[Item] = Field(default_factory=list)
    header: str | None = None
    footer: str | None = None
    metadata: PageMetadata | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class ParseResult(BaseModel):
    """The engine's output for one document."""

    file_type: str = Field(description="Detected type: pdf, txt, md, ...")
    page_count: int = Field(description="Pages in the source document, parsed or not")
    pages: list[PageResult] = Field(description="Parsed pages, in document order")
    engine_version: str
    images: list[ExtractedImage] = Field(default_factory=list)
    stats: dict[str, Any] = Field(
        default_factory=dict, description="Timings and counts, served as job_metadata"
    )
