"""PDF reader: pypdfium2 → a :class:`~lamina.engine.pipeline.RawPage` per page.

The reader is this module (documents, pages, orientation, the lock), :mod:`lamina.engine.pdf_text`
(the text layer → lines) and :mod:`lamina.engine.pdf_objects` (links, ruling segments). It reads
each page once, turns pdfium's text into visual lines with boxes and font facts, and closes the
page before moving on, so memory stays bounded by the text of the document, not by pdfium's
per-page structures. Layout analysis (blocks, headings, tables, ...) happens afterwards in
:mod:`lamina.engine.pipeline`, on plain Python data.
"""

from __future__ import annotations

import ctypes
import os
import re
import threading
from typing import TYPE_CHECKING

from lamina._forks import passage
from lamina.engine import progress
from lamina.engine.errors import EncryptedDocumentError, InvalidDocumentError
from lamina.engine.pages import select_pages
from lamina.engine.pdf_objects import path_segments, uri_links
from lamina.engine.pdf_text import DisplayTransform, TextPageReader
from lamina.engine.pipeline.model import RawPage
from lamina.types import PageRanges

if TYPE_CHECKING:
    import pypdfium2

    from lamina.engine.images import ImageOptions  # OCR/images hook

# pdfium is not thread-safe: one document is processed at a time per process.
_PDFIUM_LOCK = threading.Lock()


def _new_lock_in_child() -> None:
    """A forked child gets a free lock: the parent's may be held by a thread that does not exist
    in the child (a job reading a PDF at the moment of the fork), which would block the child's
    first PDF for ever. Holding the fork until the read ends instead could take minutes."""
    global _PDFIUM_LOCK
    _PDFIUM_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_new_lock_in_child)

_FPDF_ERR_PASSWORD = 4


def open_pdf(data: bytes) -> pypdfium2.PdfDocument:
    """Open ``data`` with pdfium, turning its failures into the engine's errors."""
    import pypdfium2

    try:
        return pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _FPDF_ERR_PASSWORD:
            raise EncryptedDocumentError(
                "The PDF is password-protected; remove the password and upload it again."
            ) from exc
        reason = str(exc).removeprefix("Failed to load document ").strip(" .()")
        raise InvalidDocumentError(
            f"Not a valid PDF: the file is damaged or truncated ({reason})."
        ) from exc


def read_pages(
    data: bytes,
    page_ranges: PageRanges | None,
    *,
    tables: bool = False,
    images: ImageOptions | None = None,
) -> tuple[int, list[RawPage]]:
    """The page count of the PDF and the :class:`RawPage` of each selected page.

    With ``tables`` each line also gets its word boxes and each page its ruling segments
    (what :mod:`lamina.engine.tables` needs; slower, so the ``fast`` tier leaves it out).
    ``images`` turns on OCR of scanned pages, image extraction and screenshots
    (:mod:`lamina.engine.images`). A page that fails to read becomes a RawPage with ``error``
    set, so one bad page never fails the document.
    """
    with _PDFIUM_LOCK:
        with passage():
            pdf = open_pdf(data)
        try:
            count = len(pdf)
            selected = progress.tracked(select_pages(count, page_ranges))
            pages = []
            for number in selected:
                with passage():  # a fork waits for the page: pdfium must not stop mid-call
                    pages.append(_read_page(pdf, number, tables, images))
            return count, pages
        finally:
            with passage():
                pdf.close()


def _read_page(
    pdf: pypdfium2.PdfDocument,
    number: int,
    tables: bool = False,
    images: ImageOptions | None = None,
) -> RawPage:
    try:
        page = pdf[number - 1]
    except Exception as exc:
        return RawPage(number=number, error=f"Page {number} could not be opened: {exc}")
    try:
        width, height = page.get_size()
        rotation = page.get_rotation() % 360
        raw = RawPage(number, round(width, 2), round(height, 2), rotation)
        textpage = page.get_textpage()
        try:
            transform = DisplayTransform(page.get_cropbox(), rotation)
            turn = _sideways_turn(textpage, transform)
            if turn:
                # Text set sideways (a landscape table on a portrait page): read the page
                # turned so the text is upright, as a reader would turn it.
                raw.rotation = (rotation + turn) % 360
                transform = DisplayTransform(page.get_cropbox(), raw.rotation)
                raw.width, raw.height = (round(v, 2) for v in transform.shown)
            reader = TextPageReader(textpage, transform, words=tables)
            raw.lines = reader.lines()
            raw.confidence = reader.confidence()
            if raw.confidence is None:
                raw.confidence = 0.0 if _has_images(page) else 1.0
            raw.links = uri_links(pdf, page, textpage, transform)
            if tables:
                raw.segments = path_segments(page, transform)
        finally:
            textpage.close()
        # OCR/images hook: OCR a page without a usable text layer, extract images, screenshot.
        if images is not None and (images.ocr or images.embedded or images.screenshot):
            from lamina.engine import images as image_backend

            raw.extras = image_backend.enrich_pdf_page(page, raw, images, transform.box)
        return raw
    except Exception as exc:
        return RawPage(number=number, error=f"Page {number} could not be parsed: {exc}")
    finally:
        page.close()


_RTL_CHAR = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_TURN_SAMPLES = 200  # pairs of neighbouring characters looked at per page
_TURN_MIN_PAIRS = 20  # fewer readable pairs: too little text to tell
_TURN_SHARE = 0.6  # this share of pairs running one non-upright way turns the page


def _sideways_turn(textpage: pypdfium2.PdfTextPage, transform: DisplayTransform) -> int:
    """How far (degrees clockwise: 0, 90, 180 or 270) to turn the displayed page so that
    most of its text reads left to right; 0 when most of it already does.

    From the origins of neighbouring letters and digits sampled over the page: each pair
    votes for the direction its text runs in on the displayed page.
    """
    import pypdfium2.raw as pdfium_c

    raw = textpage.raw
    count = textpage.count_chars()
    if count < 2 * _TURN_MIN_PAIRS:
        return 0
    text = textpage.get_text_range()
    if len(text) != count:
        return 0
    step = max(1, count // _TURN_SAMPLES)
    x, y = ctypes.c_double(), ctypes.c_double()
    xr, yr = ctypes.byref(x), ctypes.byref(y)
    votes = [0, 0, 0, 0]  # text runs right, down, left, up → turn by 0, 270, 180, 90
    for i in range(0, count - 1, step):
        pair = text[i : i + 2]
        if not (pair[0].isalnum() and pair[1].isalnum()) or _RTL_CHAR.search(pair):
            continue  # right-to-left scripts run leftwards on an upright page
        if not pdfium_c.FPDFText_GetCharOrigin(raw, i, xr, yr):
            continue
        ax, ay = transform.point(x.value, y.value)
        if not pdfium_c.FPDFText_GetCharOrigin(raw, i + 1, xr, yr):
            continue
        bx, by = transform.point(x.value, y.value)
        dx, dy = bx - ax, by - ay
        if abs(dx) < 0.1 and abs(dy) < 0.1:
            continue
        if abs(dx) >= abs(dy):
            votes[0 if dx > 0 else 2] += 1
        else:
            votes[1 if dy > 0 else 3] += 1
    total = sum(votes)
    if total < _TURN_MIN_PAIRS:
        return 0
    best = max(range(4), key=votes.__getitem__)
    if best == 0 or votes[best] < _TURN_SHARE * total:
        return 0
    return (0, 270, 180, 90)[best]


def _has_images(page: pypdfium2.PdfPage) -> bool:
    """Whether the page draws images (also inside form XObjects): a textless page with
    images is most likely a scan."""
    import pypdfium2.raw as pdfium_c

    raw_page = page.raw
    objects = [
        pdfium_c.FPDFPage_GetObject(raw_page, i)
        for i in range(pdfium_c.FPDFPage_CountObjects(raw_page))
    ]
    seen = 0
    while objects and seen < 10_000:  # bounded: forms can nest deeply
        obj = objects.pop()
        seen += 1
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            return True
        if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
            objects.extend(
                pdfium_c.FPDFFormObj_GetObject(obj, i)
                for i in range(pdfium_c.FPDFFormObj_CountObjects(obj))
            )
    return False
