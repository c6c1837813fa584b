"""PDF backend: pypdfium2 text layer → :class:`~lamina.engine.layout.Line` objects per page.

Only this module talks to pdfium. It reads each page once, turns pdfium's text into visual
lines with boxes and font facts, and closes the page before moving on, so memory stays bounded
by the text of the document, not by pdfium's per-page structures. Layout analysis (blocks,
headings, lists, ...) happens afterwards in :mod:`lamina.engine.layout`, on plain Python data.

Speed matters here: pdfium's line breaks and range calls (``FPDFText_CountRects`` /
``FPDFText_GetRect``) give each line's box in a few calls, and font facts are read for two
characters per line (its first and last), not for every character.
"""

from __future__ import annotations

import ctypes
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lamina.engine import layout
from lamina.engine import markdown as mdr
from lamina.engine.errors import EncryptedDocumentError, InvalidDocumentError
from lamina.engine.layout import Line
from lamina.engine.pages import select_pages
from lamina.engine.result import PageResult
from lamina.types import FooterItem, HeaderItem, Item, PageMetadata, PageRanges

if TYPE_CHECKING:
    import pypdfium2

# pdfium is not thread-safe: one document is processed at a time per process.
_PDFIUM_LOCK = threading.Lock()

_FPDF_ERR_PASSWORD = 4
_SOFT_HYPHENS = "\ufffe\x02"  # how pdfium marks a hyphen it found at the end of a line
# A line of pdfium's text without its surrounding whitespace.
_SEGMENT = re.compile(r"[^\s](?:[^\r\n]*[^\s])?")
# Pieces of a line that end at a soft hyphen (or at the end of the line).
_SOFT_HYPHEN_CUT = re.compile(r"[^\s\ufffe\x02][^\ufffe\x02]*[\ufffe\x02]?")
_WORD_CHAR = re.compile(r"[^\W_]")
_NOT_VISIBLE = (" ", "\r", "\n", "\t", "\xa0", *_SOFT_HYPHENS)
# Replacement chars, C0/C1 control codes and private-use code points: undecoded glyphs.
_GARBAGE = re.compile(r"[\ufffd\x00-\x08\x0e-\x1f\x7f-\x9f\ue000-\uf8ff]")
_MONO_NAMES = ("courier", "mono", "consol", "menlo", "code", "typewriter", "fixed")
_BOLD_NAMES = ("bold", "black", "heavy", "demi")
_FIXED_PITCH_FLAG = 1
_FORCE_BOLD_FLAG = 0x40000
# (font name, flags) → (bold, mono); fonts repeat across lines, pages and documents.
_FONT_STYLES: dict[tuple[bytes, int], tuple[bool, bool]] = {}


@dataclass(slots=True)
class RawPage:
    """One page's lines and geometry, as read from pdfium; ``error`` set if reading failed."""

    number: int
    width: float = 0.0
    height: float = 0.0
    rotation: int = 0
    lines: list[Line] = field(default_factory=list)
    confidence: float | None = None
    error: str | None = None


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


def read_pages(data: bytes, page_ranges: PageRanges | None) -> tuple[int, list[RawPage]]:
    """The page count of the PDF and the :class:`RawPage` of each selected page.

    A page that fails to read becomes a RawPage with ``error`` set, so one bad page never
    fails the document.
    """
    with _PDFIUM_LOCK:
        pdf = open_pdf(data)
        try:
            count = len(pdf)
            return count, [_read_page(pdf, n) for n in select_pages(count, page_ranges)]
        finally:
            pdf.close()


def build_pages(raw_pages: list[RawPage]) -> list[PageResult]:
    """Lay out every page, with heading levels ranked over the whole document."""
    body = layout.body_size(line for raw in raw_pages for line in raw.lines)
    page_blocks: list[list[layout.Block]] = []
    for raw in raw_pages:
        blocks = layout.order_blocks(layout.group_lines(raw.lines))
        layout.mark_page_furniture(blocks, raw.height)
        layout.mark_heading_candidates(blocks, body)
        page_blocks.append(blocks)
    levels = layout.HeadingLevels(
        b.heading_size for blocks in page_blocks for b in blocks if b.heading_size is not None
    )
    return [
        _page_result(raw, blocks, levels)
        for raw, blocks in zip(raw_pages, page_blocks, strict=True)
    ]


def _page_result(
    raw: RawPage, blocks: list[layout.Block], levels: layout.HeadingLevels
) -> PageResult:
    metadata = PageMetadata(
        page_number=raw.number,
        confidence=raw.confidence,
        original_orientation_angle=raw.rotation,
    )
    if raw.error is not None:
        return PageResult(page_number=raw.number, error=raw.error, metadata=metadata)
    try:
        items: list[Item] = []
        for block in blocks:
            items.extend(layout.block_items(block, levels))
        header = next((i.md for i in items if isinstance(i, HeaderItem)), None)
        footer = next((i.md for i in items if isinstance(i, FooterItem)), None)
        return PageResult(
            page_number=raw.number,
            page_width=raw.width,
            page_height=raw.height,
            text="\n\n".join(layout.block_text(b) for b in blocks),
            markdown=mdr.page_markdown(items),
            items=items,
            header=header,
            footer=footer,
            metadata=metadata,
        )
    except Exception as exc:
        return PageResult(
            page_number=raw.number,
            page_width=raw.width,
            page_height=raw.height,
            error=f"Page {raw.number} could not be laid out: {exc}",
            metadata=metadata,
        )


def _read_page(pdf: pypdfium2.PdfDocument, number: int) -> RawPage:
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
            reader = _TextPageReader(textpage, _DisplayTransform(page.get_cropbox(), rotation))
            raw.lines = reader.lines()
            raw.confidence = reader.confidence()
            if raw.confidence is None:
                raw.confidence = 0.0 if _has_images(page) else 1.0
        finally:
            textpage.close()
        return raw
    except Exception as exc:
        return RawPage(number=number, error=f"Page {number} could not be parsed: {exc}")
    finally:
        page.close()


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


class _DisplayTransform:
    """Maps PDF user space (origin bottom-left) to the page as displayed (origin top-left).

    The visible area is the crop box; ``/Rotate`` turns the page clockwise when displayed.
    """

    def __init__(self, cropbox: tuple[float, float, float, float], rotation: int) -> None:
        self.left, self.bottom, right, self.top = cropbox
        self.width = right - self.left
        self.height = self.top - self.bottom
        self.rotation = rotation

    def point(self, x: float, y: float) -> tuple[float, float]:
        u, v = x - self.left, self.top - y
        if self.rotation == 90:
            return self.height - v, u
        if self.rotation == 180:
            return self.width - u, self.height - v
        if self.rotation == 270:
            return v, self.width - u
        return u, v

    def box(self, left: float, bottom: float, right: float, top: float) -> tuple[float, ...]:
        """(x0, top, x1, bottom) on the displayed page."""
        ax, ay = self.point(left, top)
        bx, by = self.point(right, bottom)
        return min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)


class _TextPageReader:
    """Reads one pdfium text page into lines, with few calls into pdfium per line."""

    def __init__(self, textpage: pypdfium2.PdfTextPage, transform: _DisplayTransform) -> None:
        import pypdfium2.raw as pdfium_c

        self._c: Any = pdfium_c
        self._tp = textpage
        self._raw = textpage.raw
        self._tf = transform
        self._text = textpage.get_text_range()
        self._count = textpage.count_chars()
        # Scratch values reused for every call, to avoid allocating per call.
        self._d = [ctypes.c_double() for _ in range(4)]
        self._refs = [ctypes.byref(d) for d in self._d]
        self._flags = ctypes.c_int()
        self._flags_ref = ctypes.byref(self._flags)
        self._name = ctypes.create_string_buffer(128)
        self._matrix = pdfium_c.FS_MATRIX()
        self._matrix_ref = ctypes.byref(self._matrix)

    def lines(self) -> list[Line]:
        if len(self._text) != self._count:
            # Text and character indices disagree (rare); rebuild text per character.
            self._text = "".join(
                chr(self._c.FPDFText_GetUnicode(self._raw, i)) for i in range(self._count)
            )
        out: list[Line] = []
        for start, end in self._segments():
            out.extend(self._segment_lines(start, end))
        return out

    def confidence(self) -> float | None:
        """Share of visible characters that decoded to real text (None if there is none).

        Replacement characters, private-use code points and control codes are what a PDF
        with a broken font encoding yields instead of text.
        """
        text = self._text
        visible = len(text) - sum(text.count(ch) for ch in _NOT_VISIBLE)
        if visible <= 0:
            return None
        bad = len(_GARBAGE.findall(self._text))
        return round(1.0 - bad / visible, 3)

    def _segments(self) -> Iterator[tuple[int, int]]:
        """Character ranges of pdfium's lines, cut after line-end hyphens pdfium joined.

        Ranges come stripped of surrounding whitespace; empty ones are left out.
        """
        text = self._text
        for match in _SEGMENT.finditer(text):
            start, end = match.span()
            if "\ufffe" in match.group() or "\x02" in match.group():
                for cut in _SOFT_HYPHEN_CUT.finditer(text, start, end):
                    yield cut.span()
            else:
                yield start, end

    def _segment_lines(self, start: int, end: int) -> list[Line]:
        rects = self._rects(start, end)
        if not rects:
            return []
        if _is_single_band(rects):
            return [self._line(start, end, rects)]
        return [self._line(a, b, self._rects(a, b)) for a, b in self._split_by_chars(start, end)]

    def _rects(self, start: int, end: int) -> list[tuple[float, float, float, float]]:
        """pdfium's boxes of the characters ``start:end``: (left, bottom, right, top)."""
        c, raw, (lft, top, rgt, bot) = self._c, self._raw, self._refs
        d = self._d
        out = []
        for k in range(c.FPDFText_CountRects(raw, start, end - start)):
            c.FPDFText_GetRect(raw, k, lft, top, rgt, bot)
            out.append((d[0].value, d[3].value, d[2].value, d[1].value))
        return out

    def _split_by_chars(self, start: int, end: int) -> list[tuple[int, int]]:
        """Cut a range pdfium gave as one line into visual lines, character by character."""
        parts: list[tuple[int, int]] = []
        band: tuple[float, float] | None = None
        part_start = start
        for i in range(start, end):
            if self._text[i].isspace():
                continue
            _, bottom, _, top = self._tp.get_charbox(i)
            if top - bottom <= 0:
                continue
            if band is not None and (bottom > band[1] or top < band[0]):
                parts.append((part_start, i))
                part_start = i
                band = None
            if band is None:
                band = (bottom, top)
        parts.append((part_start, end))
        return [(a, b) for a, b in parts if self._text[a:b].strip()]

    def _line(self, start: int, end: int, rects: list[tuple[float, float, float, float]]) -> Line:
        text = self._text
        while text[end - 1].isspace():
            end -= 1
        if len(rects) == 1:
            left, bottom, right, top = rects[0]
        else:
            lefts, bottoms, rights, tops = zip(*rects, strict=True)
            left, bottom, right, top = min(lefts), min(bottoms), max(rights), max(tops)
        x0, y0, x1, y1 = self._tf.box(left, bottom, right, top)
        bold, mono = self._font(start)
        if len(rects) > 1:
            # pdfium starts a new rect where the text object (so maybe the font) changes:
            # check the style at the line's end too.
            bold_last, mono_last = self._font(end - 1)
            bold, mono = bold and bold_last, mono and mono_last
        line_text = text[start:end]
        soft_hyphen = line_text[-1] in _SOFT_HYPHENS
        if soft_hyphen:
            line_text = line_text[:-1] + "-"
        baseline = y1
        if self._c.FPDFText_GetCharOrigin(self._raw, start, self._refs[0], self._refs[1]):
            baseline = self._tf.point(self._d[0].value, self._d[1].value)[1]
        # Size from the first letter or digit: bullets are often set in another size.
        word = _WORD_CHAR.search(line_text, 0, 6)
        size = self._font_size(start + word.start() if word else start)
        return Line(line_text, x0, y0, x1, y1, baseline, size, bold, mono, soft_hyphen)

    def _font_size(self, index: int) -> float:
        """The character's size as displayed: the font size times the text matrix's scale."""
        c, raw, m = self._c, self._raw, self._matrix
        size = float(c.FPDFText_GetFontSize(raw, index))
        if c.FPDFText_GetMatrix(raw, index, self._matrix_ref):
            scale = abs(m.a * m.d - m.b * m.c) ** 0.5
            if scale > 0:
                size *= scale
        return round(size, 2)

    def _font(self, index: int) -> tuple[bool, bool]:
        """(is bold, is monospace) for the font of the character at ``index``."""
        c, raw = self._c, self._raw
        n = c.FPDFText_GetFontInfo(raw, index, self._name, len(self._name), self._flags_ref)
        if n > len(self._name):
            self._name = ctypes.create_string_buffer(n)
            c.FPDFText_GetFontInfo(raw, index, self._name, n, self._flags_ref)
        key = (self._name.value, self._flags.value)
        style = _FONT_STYLES.get(key)
        if style is None:
            style = _FONT_STYLES[key] = _font_style(*key)
        return style


def _is_single_band(rects: Sequence[tuple[float, ...]]) -> bool:
    """True when the boxes chain into one horizontal band (one visual line)."""
    if len(rects) == 1:
        return True
    ordered = sorted(rects, key=lambda r: r[1])
    high = ordered[0][3]
    for r in ordered[1:]:
        if r[1] > high:
            return False
        high = max(high, r[3])
    return True


def _font_style(raw_name: bytes, flags: int) -> tuple[bool, bool]:
    """(is bold, is monospace) from a font's name and PDF font flags.

    Names are the reliable signal in practice ("Arial-BoldMT", "ABCDEF+Courier"); pdfium's
    font weight is mostly unset for the standard fonts, so it is not asked for.
    """
    name = raw_name.decode("latin-1", "replace").lower()
    bold = bool(flags & _FORCE_BOLD_FLAG) or any(key in name for key in _BOLD_NAMES)
    mono = bool(flags & _FIXED_PITCH_FLAG) or any(key in name for key in _MONO_NAMES)
    return bold, mono
