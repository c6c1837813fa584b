"""The parse engine: document bytes and a :class:`~lamina.types.ParseConfiguration` in, a
:class:`~lamina.engine.result.ParseResult` out.

Pure by design: no files, network or database, only the bytes it is given, so the worker, the
embedded server and tests all run the same code. Importing this package is cheap; pdfium loads
on the first PDF.
"""

from __future__ import annotations

import time

from lamina._version import ENGINE_VERSION
from lamina.engine.detect import detect_file_type
from lamina.engine.errors import (
    EncryptedDocumentError,
    EngineError,
    InvalidDocumentError,
    InvalidOptionError,
    UnsupportedFileTypeError,
)
from lamina.engine.result import ExtractedImage, PageResult, ParseResult
from lamina.types import ParseConfiguration

__all__ = [
    "EncryptedDocumentError",
    "EngineError",
    "ExtractedImage",
    "InvalidDocumentError",
    "InvalidOptionError",
    "PageResult",
    "ParseResult",
    "UnsupportedFileTypeError",
    "detect_file_type",
    "parse_document",
]


def parse_document(
    data: bytes, *, filename: str | None = None, config: ParseConfiguration | None = None
) -> ParseResult:
    """Parse one document.

    ``filename`` only helps tell markdown from plain text; the type comes from the content.
    ``config`` defaults to the ``fast`` tier with every page. Raises an :class:`EngineError`
    subclass when the document as a whole cannot be parsed; a single page that fails is
    returned as a :class:`PageResult` with ``error`` set.
    """
    started = time.perf_counter()
    config = config or ParseConfiguration(tier="fast")
    file_type = detect_file_type(data, filename)
    if file_type == "pdf":
        from lamina.engine import pdf

        page_count, raw_pages = pdf.read_pages(data, config.page_ranges)
        pages = pdf.build_pages(raw_pages)
    else:
        from lamina.engine import text
        from lamina.engine.pages import select_pages

        page_count = 1
        select_pages(page_count, config.page_ranges)  # validates the options
        page = text.parse_markdown(data) if file_type == "md" else text.parse_plain_text(data)
        pages = [page]
    return ParseResult(
        file_type=file_type,
        page_count=page_count,
        pages=pages,
        engine_version=ENGINE_VERSION,
        stats={
            "file_type": file_type,
            "tier": config.tier,
            "pages_total": page_count,
            "pages_parsed": sum(1 for p in pages if p.ok),
            "pages_failed": sum(1 for p in pages if not p.ok),
            "items": sum(len(p.items) for p in pages),
            "parse_seconds": round(time.perf_counter() - started, 4),
        },
    )
