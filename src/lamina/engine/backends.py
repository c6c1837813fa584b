"""The backends: one calling convention for every reader, and the registry file type → backend.

Every backend is a :class:`Backend`: ``backend(data, config, file_type=..., filename=...)``
returns a :class:`Parsed` (page count, pages, saved images, stats). The adapters here import
their reader on first use, so ``import lamina.engine`` stays light; what they import is what
:data:`lamina.engine._JOB_MODULES` preloads (see :func:`lamina.engine.preload`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from lamina.engine.errors import UnsupportedFileTypeError
from lamina.engine.result import ExtractedImage, PageResult
from lamina.types import ParseConfiguration


@dataclass(slots=True)
class Parsed:
    """What a backend read: the document's page count, the selected pages, the images it saved
    and the stats it adds to :attr:`~lamina.engine.result.ParseResult.stats`."""

    page_count: int
    pages: list[PageResult]
    images: list[ExtractedImage] = field(default_factory=list)
    stats: dict[str, object] = field(default_factory=dict)


class Backend(Protocol):
    """Parses one detected file type."""

    def __call__(
        self, data: bytes, config: ParseConfiguration, *, file_type: str, filename: str | None
    ) -> Parsed: ...


def parse_pdf(
    data: bytes, config: ParseConfiguration, *, file_type: str, filename: str | None
) -> Parsed:
    """PDF: pdfium's pages (OCR, images, screenshots as asked) through the page pipeline."""
    from lamina.engine import images as image_backend  # OCR/images hook
    from lamina.engine import pdf, pipeline

    image_options = image_backend.ImageOptions.from_config(config)
    layout_options = pipeline.LayoutOptions.from_config(config)  # tables, furniture, links
    page_count, raw_pages = pdf.read_pages(
        data, config.page_ranges, tables=layout_options.tables, images=image_options
    )
    pages = pipeline.build_pages(raw_pages, layout_options)
    extras = [raw.extras for raw in raw_pages]
    return Parsed(
        page_count,
        pages,
        image_backend.collect_images(extras),
        image_backend.image_stats(extras, image_options),
    )


def parse_image(
    data: bytes, config: ParseConfiguration, *, file_type: str, filename: str | None
) -> Parsed:
    """PNG, JPEG, TIFF, GIF, BMP, WebP: OCR unless the tier is ``fast``."""
    from lamina.engine import images as image_backend

    page_count, pages, saved, stats = image_backend.parse_image_file(
        data, file_type, config, filename
    )
    return Parsed(page_count, pages, saved, stats)


def parse_word(
    data: bytes, config: ParseConfiguration, *, file_type: str, filename: str | None
) -> Parsed:
    """DOCX."""
    from lamina.engine import word

    return Parsed(*word.parse(data, config))


def parse_slides(
    data: bytes, config: ParseConfiguration, *, file_type: str, filename: str | None
) -> Parsed:
    """PPTX: a page per slide."""
    from lamina.engine import slides

    return Parsed(*slides.parse(data, config))


def parse_workbook(
    data: bytes, config: ParseConfiguration, *, file_type: str, filename: str | None
) -> Parsed:
    """XLSX: a page per sheet."""
    from lamina.engine import sheets

    return Parsed(*sheets.parse(data, config))


def parse_delimited(
    data: bytes, config: ParseConfiguration, *, file_type: str, filename: str | None
) -> Parsed:
    """CSV and TSV: one page holding one table."""
    from lamina.engine import sheets

    return Parsed(*sheets.parse_delimited(data, config, tab=file_type == "tsv"))


def parse_html(
    data: bytes, config: ParseConfiguration, *, file_type: str, filename: str | None
) -> Parsed:
    """HTML."""
    from lamina.engine import web

    return Parsed(*web.parse(data, config))


def parse_text(
    data: bytes, config: ParseConfiguration, *, file_type: str, filename: str | None
) -> Parsed:
    """Markdown and plain text: one page."""
    from lamina.engine import text
    from lamina.engine.pages import select_pages

    select_pages(1, config.page_ranges)  # validates the options
    page = text.parse_markdown(data) if file_type == "md" else text.parse_plain_text(data)
    return Parsed(1, [page])


BACKENDS: dict[str, Backend] = {
    "pdf": parse_pdf,
    **dict.fromkeys(("png", "jpeg", "tiff", "gif", "bmp", "webp"), parse_image),
    "docx": parse_word,
    "pptx": parse_slides,
    "xlsx": parse_workbook,
    "csv": parse_delimited,
    "tsv": parse_delimited,
    "html": parse_html,
    "md": parse_text,
    "txt": parse_text,
}
"""Detected file type (:func:`lamina.engine.detect.detect_file_type`) → its backend."""


def backend_for(file_type: str) -> Backend:
    """The backend registered for ``file_type``; :class:`UnsupportedFileTypeError` if none is."""
    try:
        return BACKENDS[file_type]
    except KeyError:
        raise UnsupportedFileTypeError(f"No parser for {file_type!r} files.") from None
