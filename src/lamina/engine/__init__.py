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
    saved_images: list[ExtractedImage] = []  # OCR/images hook
    image_stats: dict[str, object] = {}
    file_type = detect_file_type(data, filename)
    if file_type == "pdf":
        from lamina.engine import images as image_backend  # OCR/images hook
        from lamina.engine import pdf, pipeline

        image_options = image_backend.ImageOptions.from_config(config)
        layout_options = pipeline.LayoutOptions.from_config(config)  # tables, furniture, links
        page_count, raw_pages = pdf.read_pages(
            data, config.page_ranges, tables=layout_options.tables, images=image_options
        )
        pages = pipeline.build_pages(raw_pages, layout_options)
        extras = [raw.extras for raw in raw_pages]
        saved_images = image_backend.collect_images(extras)
        image_stats = image_backend.image_stats(extras, image_options)
    elif file_type in _IMAGE_TYPES:  # OCR/images hook: PNG, JPEG, TIFF, GIF, BMP, WebP
        from lamina.engine import images as image_backend

        page_count, pages, saved_images, image_stats = image_backend.parse_image_file(
            data, file_type, config, filename
        )
    elif file_type in _FORMAT_MODULES:
        page_count, pages = _parse_format(file_type, data, config)
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
        images=saved_images,
        stats={
            "file_type": file_type,
            "tier": config.tier,
            "pages_total": page_count,
            "pages_parsed": sum(1 for p in pages if p.ok),
            "pages_failed": sum(1 for p in pages if not p.ok),
            "items": sum(len(p.items) for p in pages),
            **_without_text(pages),
            **image_stats,
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


# Image files: parsed by lamina.engine.images (OCR unless the tier is fast).
_IMAGE_TYPES = frozenset({"png", "jpeg", "tiff", "gif", "bmp", "webp"})

# Office and web formats: detected type → backend module, each with
# ``parse(data, config) -> (page_count, pages)``; imported only when such a file comes.
_FORMAT_MODULES = {
    "docx": "word",
    "pptx": "slides",
    "xlsx": "sheets",
    "csv": "sheets",
    "tsv": "sheets",
    "html": "web",
}


def _parse_format(
    file_type: str, data: bytes, config: ParseConfiguration
) -> tuple[int, list[PageResult]]:
    import importlib

    module = importlib.import_module(f"lamina.engine.{_FORMAT_MODULES[file_type]}")
    if file_type in ("csv", "tsv"):
        return module.parse_delimited(data, config, tab=file_type == "tsv")
    return module.parse(data, config)


# What a parse imports on first use (the engine imports lazily to keep ``import lamina`` light).
_JOB_MODULES = (
    "pypdfium2",
    "pypdfium2.raw",
    "lamina.engine.pdf",
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
