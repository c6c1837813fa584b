"""The text layer of one PDF page, read with pdfium: visual lines with boxes and font facts.

Part of the PDF reader (:mod:`lamina.engine.pdf`): :class:`TextPageReader` turns a pdfium text
page into :class:`~lamina.engine.layout.Line` objects on the page as displayed
(:class:`DisplayTransform`). Speed matters here: pdfium's line breaks and range calls
(``FPDFText_CountRects`` / ``FPDFText_GetRect``) give each line's box in a few calls, and font
facts are read for two characters per line (its first and last), not for every character.
"""

from __future__ import annotations

import ctypes
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from lamina.engine import layout
from lamina.engine.layout import Line

if TYPE_CHECKING:
    import pypdfium2

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
CONTROL = re.compile(r"[\x00-\x01\x03-\x08\x0b\x0c\x0e-\x1f\x7f]")
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
SURROGATE = re.compile("[\ud800-\udfff]")
_GUTTER_HEIGHTS = 1.5  # a gap in a line wider than this many line heights splits it
_MIN_CUT_CHARS = 6  # ... when the text before the gap is at least this long


class DisplayTransform:
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


class TextPageReader:
    """Reads one pdfium text page into lines, with few calls into pdfium per line."""

    def __init__(
        self, textpage: pypdfium2.PdfTextPage, transform: DisplayTransform, words: bool = False
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
        self._turned: DisplayTransform | None = None
        if transform.rotation:
            self._turned = transform
            self._tf = DisplayTransform((0.0, 0.0, transform.shown[0], transform.shown[1]), 0)
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
        if SURROGATE.search(line_text):
            line_text = join_surrogates(line_text)
        first = line_text.split(" ", 1)[0]
        glyph = CONTROL.sub("", first)
        if len(line_text) > len(first) + 1 and (
            (len(glyph) <= 1 and glyph != first) or (len(glyph) <= 2 and self._symbol(start))
        ):
            # A bullet drawn with a symbol font ("r\x01" for Wingdings' box): a plain bullet.
            line_text = "\u2022" + line_text[len(first) :]
            if words:
                words[0] = ("\u2022", words[0][1], words[0][2])
        if CONTROL.search(line_text):
            line_text = CONTROL.sub("", line_text.replace("\x02", "-"))
            if words:
                words = [(t, a, b) for w, a, b in words if (t := CONTROL.sub("", w))]
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
            if SURROGATE.search(text):
                text = join_surrogates(text)
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


def join_surrogates(text: str) -> str:
    """Pair up UTF-16 surrogates pdfium returned one by one; drop unpaired ones."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")
