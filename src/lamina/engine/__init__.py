"""The parse engine: document bytes and a :class:`~lamina.types.ParseConfiguration` in, a
:class:`~lamina.engine.result.ParseResult` out.

Pure by design: no files, network or database, only the bytes it is given, so the worker, the
embedded server and tests all run the same code. Importing this package is cheap; pdfium loads
on the first PDF.
"""

from __future__ import annotations

import time

from lamina._version import ENGINE_VERSION
from lamina.engine.backends import backend_for
from lamina.engine.detect import detect_file_type
from lamina.engine.errors import (
    EncryptedDocumentError,
    EngineError,
    InvalidDocumentError,
    InvalidOptionError,
    UnsupportedFileTypeError,
)
from lamina.engine.limits import EngineLimits, LimitExceededError, applied
from lamina.engine.result import ExtractedImage, PageResult, ParseResult
from lamina.types import ParseConfiguration

__all__ = [
    "EncryptedDocumentError",
    "EngineError",
    "EngineLimits",
    "ExtractedImage",
    "InvalidDocumentError",
    "InvalidOptionError",
    "LimitExceededError",
    "PageResult",
    "ParseResult",
    "UnsupportedFileTypeError",
    "detect_file_type",
    "parse_document",
]


def parse_document(
    data: bytes,
    *,
    filename: str | None = None,
    config: ParseConfiguration | None = None,
    limits: EngineLimits | None = None,
) -> ParseResult:
    """Parse one document.

    ``filename`` only helps tell markdown from plain text; the type comes from the content.
    ``config`` defaults to the ``fast`` tier with every page. ``limits`` caps the pages parsed
    and the pixels of any image decoded (default: the limits current in this context, see
    :mod:`lamina.engine.limits`). Raises an :class:`EngineError` subclass when the document as
    a whole cannot be parsed (:class:`LimitExceededError` over a limit); a single page that
    fails is returned as a :class:`PageResult` with ``error`` set.
    """
    with applied(limits):
        return _parse_document(data, filename, config)


def _parse_document(
    data: bytes, filename: str | None, config: ParseConfiguration | None
) -> ParseResult:
    started = time.perf_counter()
    config = config or ParseConfiguration(tier="fast")
    file_type = detect_file_type(data, filename)
    parsed = backend_for(file_type)(data, config, file_type=file_type, filename=filename)
    pages = parsed.pages
    page_count = parsed.page_count
    return ParseResult(
        file_type=file_type,
        page_count=page_count,
        pages=pages,
        engine_version=ENGINE_VERSION,
        images=parsed.images,
        stats={
            "file_type": file_type,
            "tier": config.tier,
            "pages_total": page_count,
            "pages_parsed": sum(1 for p in pages if p.ok),
            "pages_failed": sum(1 for p in pages if not p.ok),
            "items": sum(len(p.items) for p in pages),
            **_without_text(pages),
            **parsed.stats,
            "parse_seconds": round(time.perf_counter() - started, 4),
        },
    )


def _without_text(pages: list[PageResult]) -> dict[str, list[int]]:
    """``pages_without_text``: pages that show pixels (a scan, a photo) but gave no text,
    so callers can say so instead of returning an empty page as a success. The backends
    mark such pages with confidence 0 (no text layer over images, or OCR read nothing)."""
    numbers = [
        p.page_number
        for p in pages
        if p.ok
        and not p.text.strip()
        and p.metadata is not None
        and p.metadata.confidence is not None
        and p.metadata.confidence <= 0.0
    ]
    return {"pages_without_text": numbers} if numbers else {}


# What a parse imports on first use (the engine imports lazily to keep ``import lamina`` light).
_JOB_MODULES = (
    "pypdfium2",
    "pypdfium2.raw",
    "lamina.engine.pdf",
    "lamina.engine.pdf_objects",
    "lamina.engine.pdf_text",
    "lamina.engine.pipeline",
    "lamina.engine.pipeline.build",
    "lamina.engine.pipeline.items",
    "lamina.engine.pipeline.model",
    "lamina.engine.images",
    "lamina.engine.ocr",
    "lamina.engine.layout",
    "lamina.engine.tables",
    "lamina.engine.furniture",
    "lamina.engine.pages",
    "lamina.engine.progress",
    "lamina.engine.text",
    "lamina.engine.word",
    "lamina.engine.slides",
    "lamina.engine.sheets",
)
"""Not ``lamina.engine.web``: BeautifulSoup takes a third of a second to import, which every
first request would pay; a fork during the first HTML parse of a process is the rare case."""


_JOB_CODECS = ("utf-16-le", "utf-8", "latin-1", "cp1252", "ascii")
"""Codecs the readers decode with (pdfium's text is UTF-16-LE; office and web text the rest)."""


def preload() -> None:
    """Import now what parses would import on first use.

    A process that runs jobs in a thread calls this before the thread starts. A fork landing
    while that thread is half-way through importing a module would leave the module's import
    lock held for ever in the child (the thread holding it is not copied), and the child's
    first parse would hang on it; with the imports done up front no job imports anything.
    Modules whose optional dependencies are missing are skipped (their jobs fail with the
    install hint, as before).
    """
    import codecs
    import importlib

    for name in _JOB_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    for encoding in _JOB_CODECS:  # a codec's first lookup imports its module
        codecs.lookup(encoding)
