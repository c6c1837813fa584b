"""PDF reader: pypdfium2 text layer → a :class:`~lamina.engine.pipeline.RawPage` per page.

Only this module talks to pdfium. It reads each page once, turns pdfium's text into visual
lines with boxes and font facts, and closes the page before moving on, so memory stays bounded
by the text of the document, not by pdfium's per-page structures. Layout analysis (blocks,
headings, tables, ...) happens afterwards in :mod:`lamina.engine.pipeline`, on plain Python data.

Speed matters here: pdfium's line breaks and range calls (``FPDFText_CountRects`` /
``FPDFText_GetRect``) give each line's box in a few calls, and font facts are read for two
characters per line (its first and last), not for every character.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from lamina._forks import passage
from lamina.engine import layout, progress
from lamina.engine.errors import EncryptedDocumentError, InvalidDocumentError
from lamina.engine.layout import Line
from lamina.engine.pages import select_pages
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
_SOFT_HYPHENS = "\ufffe\x02"  # how pdfium marks a hyphen it found at the end of a line
# A line of pdfium's text without its surrounding whitespace.
_SEGMENT = re.compile(r"[^\s](?:[^\r\n]*[^\s])?")
# Pieces of a line that end at a soft hyphen (or at the end of the line).
_SOFT_HYPHEN_CUT = re.compile(r"[^\s\ufffe\x02][^\ufffe\x02]*[\ufffe\x02]?")
_WORD_CHAR = re.compile(r"[^\W_]")
_NOT_VISIBLE = (" ", "\r", "\n", "\t", "\xa0", *_SOFT_HYPHENS)
# Replacement chars, C0/C1 control codes and private-use code points: undecoded glyphs.
_GARBAGE = re.compile(r"[\ufffd\x00-\x08\x0e-\x1f\x7f-\x9f\ue000-\uf8ff]")
# Control codes left in a line's text by fonts without a usable ToUnicode map.
_CONTROL = re.compile(r"[\x00-\x01\x03-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Private-use code points (symbol fonts' glyphs) and what is not visible.
_PRIVATE_OR_BLANK = re.compile(r"[\ue000-\uf8ff\s\x00-\x1f\x7f]*")
# Dingbat fonts: a short first token in one of them is a bullet glyph, not text; so is a
# first token of one character and control codes (an undecoded glyph).
_SYMBOL_FONT = re.compile(rb"wingding|webding|dingbat", re.IGNORECASE)
_BULLET_GLYPHS = ("\uf0b7", "\uf0a7", "\uf076", "\uf0d8")
_MONO_NAMES = ("courier", "mono", "consol", "menlo", "code", "typewriter", "fixed")
# A word wider than this many font sizes per character holds glyphs set far apart.
_WIDE_WORD = 1.5
_WORD_GAP = 0.6  # glyphs of one such word further apart than this (times the size) split
# An alef (plain, madda, hamza above or below) then lam: maybe a lam-alef ligature reversed.
_LAM_ALEF = re.compile("[\u0622\u0623\u0625\u0627]\u0644")
_BOLD_NAMES = ("bold", "black", "heavy", "demi")
_FIXED_PITCH_FLAG = 1
_FORCE_BOLD_FLAG = 0x40000
# TeX's bold fonts say so only in their short names: CMBX10, CMB10, SFBX1000, ECBX1200.
_TEX_BOLD = re.compile(r"(cm|sf|ec|tc)(bx|b\d)")
_ITALIC_FLAG = 0x40
_ITALIC_NAMES = ("italic", "oblique")
# TeX's italic and slanted fonts: CMTI10, CMSL10, SFTI1000, CMBXTI10.
_TEX_ITALIC = re.compile(r"(cm|sf|ec|tc)[a-z]*(ti|sl)\d")
# (font name, flags) → (bold, mono, italic); fonts repeat across lines, pages and documents.
_FONT_STYLES: dict[tuple[bytes, int], tuple[bool, bool, bool]] = {}
_WORD = re.compile(r"\S+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_PATH_SEGMENTS = 20_000  # per page: more is a drawing, not rules
_GUTTER_HEIGHTS = 1.5  # a gap in a line wider than this many line heights splits it
_MIN_CUT_CHARS = 6  # ... when the text before the gap is at least this long


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
            transform = _DisplayTransform(page.get_cropbox(), rotation)
            turn = _sideways_turn(textpage, transform)
            if turn:
                # Text set sideways (a landscape table on a portrait page): read the page
                # turned so the text is upright, as a reader would turn it.
                raw.rotation = (rotation + turn) % 360
                transform = _DisplayTransform(page.get_cropbox(), raw.rotation)
                raw.width, raw.height = (round(v, 2) for v in transform.shown)
            reader = _TextPageReader(textpage, transform, words=tables)
            raw.lines = reader.lines()
            raw.confidence = reader.confidence()
            if raw.confidence is None:
                raw.confidence = 0.0 if _has_images(page) else 1.0
            raw.links = _uri_links(pdf, page, textpage, transform)
            if tables:
                raw.segments = _path_segments(page, transform)
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


def _sideways_turn(textpage: pypdfium2.PdfTextPage, transform: _DisplayTransform) -> int:
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


class _DisplayTransform:
    """Maps PDF user space (origin bottom-left) to the page as displayed (origin top-left).

    The visible area is the crop box; ``/Rotate`` turns the page clockwise when displayed.
    """

    def __init__(self, cropbox: tuple[float, float, float, float], rotation: int) -> None:
        self.left, self.bottom, right, self.top = cropbox
        self.width = right - self.left
        self.height = self.top - self.bottom
        self.rotation = rotation
        # (width, height) of the page as displayed.
        turned = rotation in (90, 270)
        self.shown = (self.height, self.width) if turned else (self.width, self.height)

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

    def __init__(
        self, textpage: pypdfium2.PdfTextPage, transform: _DisplayTransform, words: bool = False
    ) -> None:
        import pypdfium2.raw as pdfium_c

        self._want_words = words
        self._c: Any = pdfium_c
        self._tp = textpage
        self._raw = textpage.raw
        self._tf = transform
        # On a turned page (``/Rotate``, or text set sideways) the band and gap rules below,
        # written for upright text in user space, run on the page as displayed instead: every
        # box read is mapped to the displayed page (y flipped back up), and the transform
        # for the output is then a plain flip.
        self._turned: _DisplayTransform | None = None
        if transform.rotation:
            self._turned = transform
            self._tf = _DisplayTransform((0.0, 0.0, transform.shown[0], transform.shown[1]), 0)
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
        if _LAM_ALEF.search(self._text):
            self._text = unreverse_lam_alef(self._text, self._charbox_raw)
        out: list[Line] = []
        for start, end in self._segments():
            out.extend(self._segment_lines(start, end))
        return [line for line in out if _visible(line.text)]

    def _charbox_raw(self, index: int) -> tuple[float, ...]:
        self._c.FPDFText_GetCharBox(self._raw, index, *self._refs)
        return tuple(d.value for d in self._d)

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
            if len(rects) > 1 and self._tf.rotation == 0:
                cuts = self._gap_cuts(start, end, rects)
                if cuts:
                    bounds = [start, *cuts, end]
                    return [
                        self._line(a, b, self._rects(a, b))
                        for a, b in itertools.pairwise(bounds)
                        if self._text[a:b].strip()
                    ]
            return [self._line(start, end, rects)]
        return [self._line(a, b, self._rects(a, b)) for a, b in self._split_by_chars(start, end)]

    def _gap_cuts(
        self, start: int, end: int, rects: list[tuple[float, float, float, float]]
    ) -> list[int]:
        """Character indices where a line jumps a gutter-wide gap (two columns' lines that
        pdfium joined because they share a baseline). Only looked for when the line has
        several boxes, so ordinary lines cost nothing."""
        height = max(r[3] - r[1] for r in rects)
        ordered = sorted(rects)
        gaps: list[float] = []  # right edge (user space) of each wide gap
        reach = ordered[0][2]
        for r in ordered[1:]:
            if r[0] - reach > _GUTTER_HEIGHTS * height:
                gaps.append(r[0])
            reach = max(reach, r[2])
        if not gaps:
            return []
        cuts: list[int] = []
        for i in range(start + 1, end):
            if not gaps:
                break
            if self._text[i].isspace():
                continue
            if self._charbox(i)[0] >= gaps[0] - 0.5:
                gaps.pop(0)
                piece = self._text[cuts[-1] if cuts else start : i].strip()
                # A bullet, an item number or a section label ("Chapter 3") set apart from
                # its text is not a column.
                if (
                    len(piece) >= _MIN_CUT_CHARS
                    and not layout.list_marker(piece + " x")
                    and not layout.section_label(piece)
                ):
                    cuts.append(i)
        return cuts

    def _upright(
        self, left: float, bottom: float, right: float, top: float
    ) -> tuple[float, float, float, float]:
        """A user-space box (left, bottom, right, top) as the reader's rules see it: itself
        on an upright page, else the displayed box with y pointing up."""
        if self._turned is None:
            return left, bottom, right, top
        x0, y0, x1, y1 = self._turned.box(left, bottom, right, top)
        height = self._turned.shown[1]
        return x0, height - y1, x1, height - y0

    def _charbox(self, index: int) -> tuple[float, float, float, float]:
        """The character's box (left, bottom, right, top), upright (see :meth:`_upright`)."""
        d, (lft, rgt, bot, top) = self._d, self._refs
        self._c.FPDFText_GetCharBox(self._raw, index, lft, rgt, bot, top)
        return self._upright(d[0].value, d[2].value, d[1].value, d[3].value)

    def _rects(self, start: int, end: int) -> list[tuple[float, float, float, float]]:
        """pdfium's boxes of the characters ``start:end``: (left, bottom, right, top)."""
        c, raw, (lft, top, rgt, bot) = self._c, self._raw, self._refs
        d = self._d
        out = []
        for k in range(c.FPDFText_CountRects(raw, start, end - start)):
            c.FPDFText_GetRect(raw, k, lft, top, rgt, bot)
            out.append(self._upright(d[0].value, d[3].value, d[2].value, d[1].value))
        return out

    def _split_by_chars(self, start: int, end: int) -> list[tuple[int, int]]:
        """Cut a range pdfium gave as one line into visual lines, character by character."""
        parts: list[tuple[int, int]] = []
        band: tuple[float, float] | None = None
        part_start = start
        for i in range(start, end):
            if self._text[i].isspace():
                continue
            _, bottom, _, top = self._charbox(i)
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
        bold, mono, italic = self._font(start)
        if len(rects) > 1:
            # pdfium starts a new rect where the text object (so maybe the font) changes:
            # check the style at the line's end too.
            bold_last, mono_last, italic_last = self._font(end - 1)
            bold, mono, italic = bold and bold_last, mono and mono_last, italic and italic_last
        line_text = text[start:end]
        baseline = y1
        if self._c.FPDFText_GetCharOrigin(self._raw, start, self._refs[0], self._refs[1]):
            ox, oy = self._d[0].value, self._d[1].value
            if self._turned is not None:
                ox, oy = self._turned.point(ox, oy)
                oy = self._turned.shown[1] - oy
            baseline = self._tf.point(ox, oy)[1]
        # Size from the first letter or digit: bullets are often set in another size.
        word = _WORD_CHAR.search(line_text, 0, 6)
        size = self._font_size(start + word.start() if word else start)
        if len(rects) > 1:
            size = self._main_size(start, line_text, size)
        words = self._words(start, line_text, size) if self._want_words else None
        soft_hyphen = line_text[-1] in _SOFT_HYPHENS
        if soft_hyphen:
            line_text = line_text[:-1] + "-"
        if _SURROGATE.search(line_text):
            line_text = _join_surrogates(line_text)
        first = line_text.split(" ", 1)[0]
        glyph = _CONTROL.sub("", first)
        if len(line_text) > len(first) + 1 and (
            (len(glyph) <= 1 and glyph != first) or (len(glyph) <= 2 and self._symbol(start))
        ):
            # A bullet drawn with a symbol font ("r\x01" for Wingdings' box): a plain bullet.
            line_text = "\u2022" + line_text[len(first) :]
            if words:
                words[0] = ("\u2022", words[0][1], words[0][2])
        if _CONTROL.search(line_text):
            line_text = _CONTROL.sub("", line_text.replace("\x02", "-"))
            if words:
                words = [(t, a, b) for w, a, b in words if (t := _CONTROL.sub("", w))]
        return Line(
            line_text, x0, y0, x1, y1, baseline, size, bold, mono, soft_hyphen, words, italic=italic
        )

    def _words(self, start: int, line_text: str, size: float) -> list[tuple[str, float, float]]:
        """(text, x0, x1) of each space-separated word of the line, from its end glyphs.

        A "word" far wider than its characters can be (table marks like "X   X" drawn without
        a space between them) is cut at the wide gaps between its glyphs."""
        out = []
        for match in _WORD.finditer(line_text):
            a, b = start + match.start(), start + match.end() - 1
            ax0, _, ax1, _ = self._tf.box(*self._charbox(a))
            bx0, _, bx1, _ = self._tf.box(*self._charbox(b))
            text = match.group().replace("\ufffe", "-").replace("\x02", "-")
            if _SURROGATE.search(text):
                text = _join_surrogates(text)
            x0, x1 = min(ax0, bx0), max(ax1, bx1)
            if b > a and size > 0 and x1 - x0 > _WIDE_WORD * size * (b - a + 1):
                out.extend(self._split_word(a, b + 1, size))
            else:
                out.append((text, x0, x1))
        return out

    def _split_word(self, a: int, b: int, size: float) -> list[tuple[str, float, float]]:
        """The characters ``a:b`` as words cut where glyphs are more than a space apart."""
        out: list[tuple[str, float, float]] = []
        for i in range(a, b):
            x0, _, x1, _ = self._tf.box(*self._charbox(i))
            ch = self._text[i].replace("\ufffe", "-").replace("\x02", "-")
            if out and x0 - out[-1][2] < _WORD_GAP * size:
                t, px0, px1 = out[-1]
                out[-1] = (t + ch, min(px0, x0), max(px1, x1))
            else:
                out.append((ch, x0, x1))
        return out

    def _main_size(self, start: int, line_text: str, first: float) -> float:
        """The size most of the line's letters and digits are set in, when its first and last
        letters differ in size (a small "Chapter 1." run before a large title; pdfium gives
        it one line). ``first`` is the first letter's size; other lines cost one call."""
        last = next((i for i in range(len(line_text) - 1, -1, -1) if line_text[i].isalnum()), -1)
        if last < 0 or abs(self._font_size(start + last) - first) <= 0.1 * first:
            return first
        weights: Counter[float] = Counter()
        for i, ch in enumerate(line_text):
            if ch.isalnum():
                weights[self._font_size(start + i)] += 1
        return weights.most_common(1)[0][0]

    def _font_size(self, index: int) -> float:
        """The character's size as displayed: the font size times the text matrix's scale."""
        c, raw, m = self._c, self._raw, self._matrix
        size = float(c.FPDFText_GetFontSize(raw, index))
        if c.FPDFText_GetMatrix(raw, index, self._matrix_ref):
            scale = abs(m.a * m.d - m.b * m.c) ** 0.5
            if scale > 0:
                size *= scale
        return round(size, 2)

    def _symbol(self, index: int) -> bool:
        """Whether the character at ``index`` is set in a symbol or dingbat font."""
        c, raw = self._c, self._raw
        n = c.FPDFText_GetFontInfo(raw, index, self._name, len(self._name), self._flags_ref)
        if n > len(self._name):
            self._name = ctypes.create_string_buffer(n)
            c.FPDFText_GetFontInfo(raw, index, self._name, n, self._flags_ref)
        return bool(_SYMBOL_FONT.search(self._name.value))

    def _font(self, index: int) -> tuple[bool, bool, bool]:
        """(is bold, is monospace, is italic) for the font of the character at ``index``."""
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


def unreverse_lam_alef(text: str, box: Callable[[int], tuple[float, ...]]) -> str:
    """Put lam before alef where one lam-alef ligature glyph came out as alef, lam.

    pdfium writes right-to-left text in logical order but leaves the two letters a ligature
    glyph maps to in the order of the glyph (alef, lam instead of lam, alef). Both letters
    then share the glyph's box (``box(index)``) exactly; an alef and a lam drawn as two
    glyphs never do.
    """
    chars = list(text)
    for match in _LAM_ALEF.finditer(text):
        i = match.start()
        if box(i) == box(i + 1):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def _visible(text: str) -> bool:
    """Whether a line shows any text: not only control codes, blanks and private-use glyphs
    (a lone private-use bullet counts: its item text may be on the next line)."""
    if _PRIVATE_OR_BLANK.fullmatch(text) is None:
        return True
    return text.strip() in _BULLET_GLYPHS


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


def _font_style(raw_name: bytes, flags: int) -> tuple[bool, bool, bool]:
    """(is bold, is monospace, is italic) from a font's name and PDF font flags.

    Names are the reliable signal in practice ("Arial-BoldMT", "ABCDEF+Courier"); pdfium's
    font weight is mostly unset for the standard fonts, so it is not asked for.
    """
    name = raw_name.decode("latin-1", "replace").lower()
    bold = bool(flags & _FORCE_BOLD_FLAG) or any(key in name for key in _BOLD_NAMES)
    bold = bold or bool(_TEX_BOLD.match(name.rpartition("+")[2]))
    mono = bool(flags & _FIXED_PITCH_FLAG) or any(key in name for key in _MONO_NAMES)
    italic = bool(flags & _ITALIC_FLAG) or any(key in name for key in _ITALIC_NAMES)
    italic = italic or bool(_TEX_ITALIC.match(name.rpartition("+")[2]))
    return bold, mono, italic


def _join_surrogates(text: str) -> str:
    """Pair up UTF-16 surrogates pdfium returned one by one; drop unpaired ones."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")


def _uri_links(
    pdf: pypdfium2.PdfDocument,
    page: pypdfium2.PdfPage,
    textpage: pypdfium2.PdfTextPage,
    transform: _DisplayTransform,
) -> list[tuple[str, tuple[float, float, float, float], str]]:
    """The page's links to URIs: (text under the link's box, box on the displayed page, url).

    Links inside the document (GoTo actions, citations) are left out.
    """
    import pypdfium2.raw as pdfium_c

    out: list[tuple[str, tuple[float, float, float, float], str]] = []
    pos = ctypes.c_int(0)
    link = pdfium_c.FPDF_LINK()
    rect = pdfium_c.FS_RECTF()
    seen = 0
    while pdfium_c.FPDFLink_Enumerate(page.raw, ctypes.byref(pos), ctypes.byref(link)):
        seen += 1
        if seen > 5_000:
            break
        action = pdfium_c.FPDFLink_GetAction(link)
        if not action or pdfium_c.FPDFAction_GetType(action) != pdfium_c.PDFACTION_URI:
            continue
        size = pdfium_c.FPDFAction_GetURIPath(pdf.raw, action, None, 0)
        if size <= 1:
            continue
        buf = ctypes.create_string_buffer(size)
        pdfium_c.FPDFAction_GetURIPath(pdf.raw, action, buf, size)
        url = buf.value.decode("utf-8", "replace").strip()
        if not url or not pdfium_c.FPDFLink_GetAnnotRect(link, ctypes.byref(rect)):
            continue
        left, right = min(rect.left, rect.right), max(rect.left, rect.right)
        bottom, top = min(rect.bottom, rect.top), max(rect.bottom, rect.top)
        text = _link_text(textpage, left, bottom, right, top)
        text = " ".join(_CONTROL.sub("", text.replace("\ufffe", "").replace("\x02", "")).split())
        if _SURROGATE.search(text):
            text = _join_surrogates(text)
        box = transform.box(left, bottom, right, top)
        out.append((text, (box[0], box[1], box[2], box[3]), url))
    return out


def _link_text(
    textpage: pypdfium2.PdfTextPage, left: float, bottom: float, right: float, top: float
) -> str:
    """The text a link's box covers: the characters whose centre is inside the box.

    Link boxes are often drawn taller than their line, so "whatever touches the box" picks up
    pieces of the lines above and below. The run is found from the character under the box's
    left middle and grown both ways while centres stay inside; a box over several lines (no
    character at its middle) falls back to pdfium's bounded text.
    """
    import pypdfium2.raw as pdfium_c

    raw = textpage.raw
    count = textpage.count_chars()
    height = top - bottom
    if height <= 0 or count <= 0:
        return ""
    d = [ctypes.c_double() for _ in range(4)]
    refs = [ctypes.byref(v) for v in d]

    def inside(i: int) -> bool | None:
        """Whether char ``i``'s centre is in the box; None for a char with no box (a space)."""
        if not pdfium_c.FPDFText_GetCharBox(raw, i, refs[0], refs[1], refs[2], refs[3]):
            return None
        cl, cr, cb, ct = (v.value for v in d)
        if cr - cl <= 0 and ct - cb <= 0:
            return None
        cx, cy = (cl + cr) / 2, (cb + ct) / 2
        return left <= cx <= right and bottom <= cy <= top

    mid = (bottom + top) / 2
    start = -1
    for x in (left + 1.0, left + height / 2, (left + right) / 2):
        start = pdfium_c.FPDFText_GetCharIndexAtPos(raw, x, mid, height / 2, height / 4)
        if start >= 0 and inside(start):
            break
        start = -1
    if start < 0:
        return str(textpage.get_text_bounded(left, bottom, right, top))
    first = last = start
    i = start - 1
    while i >= 0 and (ok := inside(i)) is not False:
        if ok:
            first = i
        i -= 1
    i = start + 1
    while i < count and (ok := inside(i)) is not False:
        if ok:
            last = i
        i += 1
    return str(textpage.get_text_range(first, last - first + 1))


def _path_segments(
    page: pypdfium2.PdfPage, transform: _DisplayTransform
) -> list[tuple[float, float, float, float]]:
    """Straight horizontal and vertical pieces of the page's vector paths (also in forms),
    on the displayed page: the candidates for table rules.

    A filled thin rectangle (a common way to draw a rule) yields its two long edges, which
    the table finder snaps together.
    """
    import pypdfium2.raw as pdfium_c

    c: Any = pdfium_c
    out: list[tuple[float, float, float, float]] = []
    matrix = c.FS_MATRIX()
    fx, fy = ctypes.c_float(), ctypes.c_float()
    stack: list[tuple[Any, tuple[float, ...]]] = [
        (c.FPDFPage_GetObject(page.raw, i), (1.0, 0.0, 0.0, 1.0, 0.0, 0.0))
        for i in range(c.FPDFPage_CountObjects(page.raw))
    ]
    visited = 0
    while stack and visited < _MAX_PATH_SEGMENTS:
        obj, outer = stack.pop()
        visited += 1
        kind = c.FPDFPageObj_GetType(obj)
        if kind not in (c.FPDF_PAGEOBJ_PATH, c.FPDF_PAGEOBJ_FORM):
            continue
        if not c.FPDFPageObj_GetMatrix(obj, ctypes.byref(matrix)):
            continue
        m = _compose((matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f), outer)
        if kind == c.FPDF_PAGEOBJ_FORM:
            stack.extend(
                (c.FPDFFormObj_GetObject(obj, i), m) for i in range(c.FPDFFormObj_CountObjects(obj))
            )
            continue
        start: tuple[float, float] | None = None
        prev: tuple[float, float] | None = None
        for k in range(c.FPDFPath_CountSegments(obj)):
            seg = c.FPDFPath_GetPathSegment(obj, k)
            if not c.FPDFPathSegment_GetPoint(seg, ctypes.byref(fx), ctypes.byref(fy)):
                continue
            a, b, cc, d, e, f = m
            pt = (a * fx.value + cc * fy.value + e, b * fx.value + d * fy.value + f)
            seg_type = c.FPDFPathSegment_GetType(seg)
            if seg_type == c.FPDF_SEGMENT_MOVETO:
                start = pt
            elif seg_type == c.FPDF_SEGMENT_LINETO and prev is not None:
                _add_rule(out, prev, pt, transform)
            if c.FPDFPathSegment_GetClose(seg) and start is not None:
                _add_rule(out, pt, start, transform)
            prev = pt
        if len(out) > _MAX_PATH_SEGMENTS:
            break
    return out


def _compose(inner: tuple[float, ...], outer: tuple[float, ...]) -> tuple[float, ...]:
    """The matrix applying ``inner`` then ``outer`` (PDF row-vector convention)."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (
        a * A + b * C,
        a * B + b * D,
        c * A + d * C,
        c * B + d * D,
        e * A + f * C + E,
        e * B + f * D + F,
    )


def _add_rule(
    out: list[tuple[float, float, float, float]],
    p: tuple[float, float],
    q: tuple[float, float],
    transform: _DisplayTransform,
) -> None:
    """Add the segment p→q (user space) if it is horizontal or vertical."""
    if abs(p[0] - q[0]) > 1.0 and abs(p[1] - q[1]) > 1.0:
        return
    x0, y0 = transform.point(*p)
    x1, y1 = transform.point(*q)
    out.append((x0, y0, x1, y1))
