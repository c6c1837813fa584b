"""OCR: an image of a page → positioned :class:`OcrLine` objects for :mod:`lamina.engine.layout`.

A thin wrapper around `rapidocr_onnxruntime <https://github.com/RapidAI/RapidOCR>`_ (the ``ocr``
extra). Its detection, direction and recognition models ship inside the wheel, so nothing is
downloaded; the engine is loaded once per process, on first use, and calls into it are
serialised (RapidOCR keeps per-call state on the engine object).

What this module adds on top of RapidOCR:

- **Lines in the layout's structure.** Each detected text box becomes an :class:`OcrLine` (a
  :class:`~lamina.engine.layout.Line` plus the recogniser's score as ``confidence``), with its
  box in page points (origin top-left), so OCR text goes through the same block, heading and
  list rules as a PDF text layer. Boxes that RapidOCR split on one visual line are joined.
  Font size is estimated from the box height and snapped to the page's body size when close to
  it, because box heights vary with ascenders and descenders.
- **Page orientation.** Pages scanned sideways or upside down are detected (0/90/180/270,
  the clockwise angle the content is turned by on the image), the image is turned upright and
  read again, and boxes are given in the upright page's coordinates. Detection costs little: the
  first pass's boxes say whether text runs horizontally or vertically, and recognising a few of
  the longest lines both ways round (without RapidOCR's own direction classifier) tells up from
  down, since upside-down text scores far lower.
- **Languages.** RapidOCR's bundled models read Chinese and English (Latin script without
  accents). ``ocr_parameters.languages`` is accepted; languages the models do not cover are
  reported by :func:`unsupported_languages` (the engine records them in the job's stats and
  logs a warning) and the page is read with the bundled models anyway.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import statistics
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from lamina.engine.errors import EngineError
from lamina.engine.layout import Line
from lamina.types import BBox

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from lamina.engine.tables import FoundTable

log = logging.getLogger("lamina.engine.ocr")

#: Resolution pages are rendered at for OCR.
OCR_DPI: Final = 200
#: Longest image side handed to RapidOCR; larger images are scaled down first.
MAX_OCR_SIDE: Final = 2600
#: Longest side the text detector works at (recognition reads crops at full resolution);
#: RapidOCR's default instead scales every image up to at least 736 px on its short side.
DETECTION_SIDE: Final = 1600
#: Estimated font size (points) per point of OCR box height.
FONT_SIZE_PER_BOX_HEIGHT: Final = 1.0
#: Sizes within this share of the page's body size are snapped to it (OCR box heights of
#: one font size vary by a fifth or more with ascenders, descenders and detection).
SIZE_SNAP_TOLERANCE: Final = 0.3
#: Images with a shorter side than this are scaled up first (by at most 4x): the detector
#: draws boxes too tight around small text, and the recogniser then drops spaces.
MIN_OCR_SIDE: Final = 736
#: A blank run between two characters at least this many x-heights wide is a word gap
#: (a word space is 0.5-0.7 x-heights in common fonts, the gap between letters of a word
#: rarely over 0.3).
WORD_GAP_PER_X_HEIGHT: Final = 0.42
#: Cap height (top of the ink to the baseline) per point of font size, for sizes measured on
#: the pixels (0.7-0.75 in common fonts).
CAP_HEIGHT_PER_SIZE: Final = 0.72
#: Measured sizes within this share of the page's body size are snapped to it.
MEASURED_SNAP_TOLERANCE: Final = 0.08
#: A line whose stroke width (per point of size) is this many times the page's usual one is bold.
BOLD_STROKE_RATIO: Final = 1.3
#: ... and this many robust standard deviations above the page's usual stroke width.
BOLD_SPREADS: Final = 3.0
#: Lines with fewer letters and digits than this are too short to judge their stroke width.
MIN_STROKE_CHARS: Final = 3
#: A measured cap height under this share of the box height is a misreading (a box holding
#: a rule or a stain): the line's size and weight then come from its box.
MIN_CAP_SHARE: Final = 0.4
#: Lines the recogniser reads with a lower score than this are dropped (RapidOCR's default).
MIN_TEXT_SCORE: Final = 0.5
#: Ruling lines are at least this share of the page image's width long.
MIN_RULING_SHARE: Final = 0.04
#: Pages with more ruling pieces than this are drawings: none are reported.
MAX_RULINGS: Final = 400
#: A line is set in fixed-width type when this share of its neighbouring inked runs stand a
#: whole number of pitches apart (:func:`_pitch`); its word gaps are then at least
#: :data:`FIXED_PITCH_GAP` pitches wide. Judged on lines with at least :data:`_MIN_BLANKS`
#: blank runs; shorter lines take the page's pitch (per band height).
FIXED_PITCH_SHARE: Final = 0.8
FIXED_PITCH_GAP: Final = 0.9
_MIN_BLANKS: Final = 6
#: A table on a scan without a grid of rules needs this many filled cells on this many rows
#: (:func:`is_table`).
MIN_TABLE_COLUMNS: Final = 3
MIN_TABLE_ROWS: Final = 3
#: Boxes on one row this many line heights apart or more are only joined when the blank between
#: them is not a gutter: lines above and below run across it (:func:`_gutter`), which they
#: never do across the gutter of two columns or a table's columns.
GUTTER_MIN_GAP: Final = 0.3
GUTTER_ROWS: Final = 4.0
#: A bullet stands within this many line heights before its line's first letter, and at least
#: this share of one apart from it (:func:`mark_bullets`).
BULLET_REACH: Final = 3.0
BULLET_MIN_GAP: Final = 0.15
#: A section number (``5.2``) and its heading's words may stand this many line heights apart.
SECTION_NUMBER_GAP: Final = 2.5
_SECTION_NUMBER: Final = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2}){0,4}\.?|[IVX]{1,5}\.)$")
#: Between two digits a gap must be this share of the line's ink height to be a word gap.
DIGIT_GAP: Final = 0.6
#: Language codes the bundled models read (Chinese and English, and so unaccented Latin).
SUPPORTED_LANGUAGES: Final = frozenset(
    {
        "en",
        "eng",
        "english",
        "ch",
        "zh",
        "chi_sim",
        "ch_sim",
        "zh-cn",
        "zh_cn",
        "zh-hans",
        "chinese",
    }
)
INSTALL_HINT: Final = "OCR needs the 'ocr' extra: pip install 'lamina[ocr]'"


def install_hint() -> str:
    """What to run to add OCR to this installation (editable checkout, directory or index)."""
    from lamina._install import install_command

    return f"OCR needs the 'ocr' extra, which is not installed: {install_command('ocr')}"


_ORIENTATION_SAMPLES = 3  # lines recognised both ways round to tell up from down
_MIN_SAMPLE_CHARS = 3

_ENGINE: Any = None
_ENGINE_LOCK = threading.Lock()  # guards loading and every call (RapidOCR is stateful)


def _forget_engine_in_child() -> None:
    """A forked child loads its own recogniser: the parent's ONNX sessions keep thread pools
    that did not survive the fork, and the lock may be held by a thread that is not here.

    The parent's recogniser is never freed in the child: destroying its sessions joins those
    thread pools, whose threads were not copied, so the child hung in this very hook. It is
    given a reference nobody releases (its memory is the parent's pages, shared until
    written)."""
    global _ENGINE, _ENGINE_LOCK
    if _ENGINE is not None:
        import ctypes

        ctypes.pythonapi.Py_IncRef(ctypes.py_object(_ENGINE))
    _ENGINE = None
    _ENGINE_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_engine_in_child)


class OcrUnavailableError(EngineError):
    """OCR was needed but the ``ocr`` extra (rapidocr-onnxruntime) is not installed."""


@dataclass(slots=True)
class OcrLine(Line):
    """A line read by OCR: a layout :class:`Line` plus the recogniser's score (0..1)."""

    confidence: float = 1.0
    #: Top of the ink to the baseline (points), measured on the pixels; None if not measured.
    cap_height: float | None = None
    #: Mean stroke width per x-height (bold type has thicker strokes); None if not measured.
    stroke: float | None = None

    def bbox(self, start: int | None = None, end: int | None = None) -> BBox:
        """The line's box with the recogniser's score for it as ``confidence``."""
        box = Line.bbox(self, start, end)
        box.confidence = round(self.confidence, 3)
        return box


@dataclass(slots=True)
class OcrPage:
    """What OCR read on one page image.

    ``angle`` is the clockwise angle (0, 90, 180, 270) the content was turned by on the image;
    ``lines``, ``width`` and ``height`` are those of the upright page, in points.
    """

    lines: list[OcrLine] = field(default_factory=list)
    angle: int = 0
    width: float = 0.0
    height: float = 0.0
    confidence: float | None = None
    seconds: float = 0.0
    #: Ruling lines seen on the page, (x0, y0, x1, y1) in points on the upright page.
    segments: list[tuple[float, float, float, float]] = field(default_factory=list)

    def to_upright(self, box: tuple[float, float, float, float]) -> tuple[float, ...]:
        """A box ``(x0, top, x1, bottom)`` on the image as given → on the upright page."""
        return rotate_box(box, self.angle, *_given_size(self))


def _given_size(page: OcrPage) -> tuple[float, float]:
    """The size of the page as given (before turning it upright)."""
    if page.angle in (90, 270):
        return page.height, page.width
    return page.width, page.height


def rotate_box(
    box: tuple[float, float, float, float], angle: int, width: float, height: float
) -> tuple[float, float, float, float]:
    """Turn a box on a ``width`` x ``height`` page whose content is rotated ``angle`` degrees
    clockwise into the coordinates of the upright page (the page turned back by ``angle``)."""
    x0, y0, x1, y1 = box
    if angle == 90:
        return y0, width - x1, y1, width - x0
    if angle == 180:
        return width - x1, height - y1, width - x0, height - y0
    if angle == 270:
        return height - y1, x0, height - y0, x1
    return x0, y0, x1, y1


def is_available() -> bool:
    """True when the ``ocr`` extra is installed (without loading the models)."""
    import importlib.util

    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


def get_engine() -> Any:
    """The process-wide RapidOCR engine, loaded on first use with its bundled models."""
    global _ENGINE
    if _ENGINE is not None:
        return _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:
                raise OcrUnavailableError(install_hint()) from exc
            _ENGINE = RapidOCR(
                max_side_len=MAX_OCR_SIDE,
                det_limit_type="max",
                det_limit_side_len=DETECTION_SIDE,
            )
    return _ENGINE


def unsupported_languages(languages: Iterable[str] | None) -> list[str]:
    """The requested OCR languages the bundled models do not read (case-insensitive)."""
    return [lang for lang in languages or () if lang.strip().lower() not in SUPPORTED_LANGUAGES]


def ocr_image(
    image: Image.Image | np.ndarray,
    points_per_pixel: float = 1.0,
    *,
    detect_orientation: bool = True,
) -> OcrPage:
    """Read the text of one page image.

    ``points_per_pixel`` converts image pixels to page points (``72 / dpi``). With
    ``detect_orientation`` a page turned by 90, 180 or 270 degrees is read upright and its
    lines, size and ``angle`` describe the upright page. Raises :class:`OcrUnavailableError`
    when the ``ocr`` extra is missing.
    """
    import time

    import numpy as np

    started = time.perf_counter()
    engine = get_engine()
    arr = _to_bgr_array(image)
    height, width = arr.shape[:2]
    scale = points_per_pixel
    longest, shortest = max(width, height), min(width, height)
    factor = 1.0
    if longest > MAX_OCR_SIDE:
        factor = MAX_OCR_SIDE / longest
    elif shortest < MIN_OCR_SIDE:
        factor = min(MIN_OCR_SIDE / shortest, MAX_OCR_SIDE / longest, 4.0)
    if abs(factor - 1.0) > 0.01:
        arr, factor = _resize(arr, factor)
        scale = points_per_pixel / factor
    with _ENGINE_LOCK:
        boxes = _run(engine, arr)
        angle = _orientation(engine, arr, boxes) if detect_orientation and boxes else 0
        if angle:
            arr = np.ascontiguousarray(np.rot90(arr, k=angle // 90))
            boxes = _run(engine, arr)
    page_h, page_w = arr.shape[:2]
    lines = _lines([b for b in boxes if b.score >= MIN_TEXT_SCORE], scale)
    grey = arr.min(axis=2) if arr.ndim == 3 else arr
    mark_bullets(grey, lines, scale)
    segments = [
        (round(a * scale, 2), round(b * scale, 2), round(c * scale, 2), round(d * scale, 2))
        for a, b, c, d in rulings(grey)
    ]
    chars = sum(len(line.text) for line in lines)
    confidence = None
    if chars:
        confidence = round(sum(ln.confidence * len(ln.text) for ln in lines) / chars, 3)
    return OcrPage(
        lines=lines,
        angle=angle,
        width=round(page_w * scale, 2),
        height=round(page_h * scale, 2),
        confidence=confidence,
        seconds=round(time.perf_counter() - started, 3),
        segments=segments,
    )


def rulings(grey: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Straight horizontal and vertical ruling lines drawn on a page image, as segments
    ``(x0, y0, x1, y1)`` in pixels (a horizontal one has ``y0 == y1``), for the table finder.

    The page is binarised (Otsu) and opened with a long thin structuring element along each
    axis (:data:`MIN_RULING_SHARE` of the page width, at least 30 px), which keeps only runs
    of ink longer than any letter; each connected piece left is one rule. Pages with more
    than :data:`MAX_RULINGS` pieces (drawings, halftones) give none."""
    try:
        import cv2
    except ImportError:  # pragma: no cover - RapidOCR depends on OpenCV
        return []
    import numpy as np

    height, width = grey.shape[:2]
    if min(height, width) < 50:
        return []
    ink = (grey < _otsu(grey)).astype(np.uint8)
    length = max(30, round(MIN_RULING_SHARE * width))
    out: list[tuple[float, float, float, float]] = []
    for horizontal in (True, False):
        shape = (length, 1) if horizontal else (1, length)
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, shape)
        mask = cv2.morphologyEx(ink, cv2.MORPH_OPEN, kernel)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        if count - 1 > MAX_RULINGS:
            return []
        for x, y, w, h, _area in stats[1:]:
            if horizontal and h <= max(8, w // 20):
                out.append((float(x), y + h / 2, float(x + w), y + h / 2))
            elif not horizontal and w <= max(8, h // 20):
                out.append((x + w / 2, float(y), x + w / 2, float(y + h)))
    return out


def mark_bullets(grey: np.ndarray, lines: Sequence[OcrLine], scale: float) -> None:
    """Put back the bullets the detector leaves out: a line with a lone round or square dot
    of ink just before it (within :data:`BULLET_REACH` line heights, about as high as a
    lower-case letter or smaller, centred on the letters' middle, solid, nothing else there)
    starts with ``"• "``, and its box and first word start at the dot, as a text layer's
    bullet line does. ``scale`` is points per pixel of ``grey``."""
    try:
        import cv2
    except ImportError:  # pragma: no cover - RapidOCR depends on OpenCV
        return
    import numpy as np

    if not lines:
        return
    from lamina.engine.layout import list_marker

    threshold = _otsu(grey)
    for line in lines:
        if list_marker(line.text) or not line.text[:1].isalnum():
            continue
        top, bottom = round(line.top / scale), round(line.bottom / scale)
        h = bottom - top
        right = round(line.x0 / scale) - max(1, round(BULLET_MIN_GAP * h))
        left = max(0, round(line.x0 / scale - BULLET_REACH * h))
        if h < 6 or right - left < h // 2 or top < 0 or bottom > grey.shape[0]:
            continue
        x0_pt, x1_pt = left * scale, right * scale
        if any(
            other is not line
            and other.x1 > x0_pt
            and other.x0 < x1_pt
            and min(other.bottom, line.bottom) - max(other.top, line.top) > 0
            for other in lines
        ):
            continue  # another line's text stands there
        ink = (grey[top:bottom, left:right] < threshold).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        specks = max(4, round((0.08 * h) ** 2))
        parts = [st for st in stats[1:count] if st[4] >= specks]
        if len(parts) != 1:
            continue
        x, y, w, bh, area = (int(v) for v in parts[0])
        middle = y + bh / 2
        if not (
            0.12 * h <= w <= 0.5 * h
            and 0.12 * h <= bh <= 0.5 * h
            and 0.6 <= w / bh <= 1.6
            and area >= 0.6 * w * bh
            and 0.3 * h <= middle <= 0.75 * h
            and x > 0
        ):
            continue
        start = round((left + x) * scale, 2)
        line.text = f"\u2022 {line.text}"
        if line.words is not None:
            line.words = [("\u2022", start, round((left + x + w) * scale, 2)), *line.words]
        line.x0 = start


def is_table(table: FoundTable) -> bool:
    """Whether a table found among OCR lines has real grid evidence: drawn as a grid of rules,
    or at least :data:`MIN_TABLE_COLUMNS` filled cells on each of :data:`MIN_TABLE_ROWS` rows.

    Words on a scan line up by chance: a receipt's ``Date: 25/12/2018  Time: 20:13`` and
    ``TOTAL  RM  60.31`` rows, or a form's labels and values, stand in two loose columns that
    are not a table (and read worse as cells than as lines)."""
    if table.ruled and not table.banded:
        return True
    full = sum(1 for row in table.rows if sum(1 for c in row if c.strip()) >= MIN_TABLE_COLUMNS)
    return full >= MIN_TABLE_ROWS


# --- RapidOCR calls --------------------------------------------------------------------------

_Word = tuple[str, float, float]  # (text, x0, x1)


@dataclass(slots=True)
class _Box:
    """One text box as read: its quad (image pixels), text, score and word spans."""

    quad: list[list[float]]
    text: str
    score: float
    words: list[_Word] | None = None
    ink: _Ink | None = None


def _run(engine: Any, arr: np.ndarray) -> list[_Box]:
    """Detect and read the text boxes of ``arr``, with word spaces and word boxes from the
    pixels (:func:`read_words`)."""
    # No per-line direction classifier: the page's orientation is found once for the page
    # (:func:`_orientation`), and the classifier turns some upright lines upside down, which
    # then read as garbage and are dropped.
    # Every box is kept whatever its score: the orientation test needs the lines an upside-down
    # page gives too; :func:`ocr_image` drops the unreadable ones (:data:`MIN_TEXT_SCORE`).
    result, _ = engine(arr, use_cls=False, return_word_box=True, text_score=0.0)
    grey = arr.min(axis=2) if arr.ndim == 3 else arr
    read = []
    for entry in result or ():
        quad, text, score = entry[0], entry[1], float(entry[2])
        char_boxes = entry[3] if len(entry) > 3 else None
        crop, origin, axis = _line_crop(grey, quad) if text else (None, None, None)
        found = _ink_gaps(crop) if crop is not None else None
        read.append((quad, text, score, char_boxes or [], found, origin, axis))
    # On a page set mostly in fixed-width type (a receipt), the lines whose pitch cannot be
    # told (short ones, or where letters touch) take the page's (per band height).
    inks = [f for *_, f, _, _ in read if f is not None]
    fixed = [f.letter / f.band for f in inks if f.letter]
    judged = sum(1 for f in inks if len(f.blanks) >= _MIN_BLANKS)
    pitch_per_band = None
    if len(fixed) >= 3 and len(fixed) >= 0.5 * judged:
        pitch_per_band = statistics.median(fixed)
    out: list[_Box] = []
    for quad, text, score, char_boxes, found, origin, axis in read:
        words = None
        if found is not None and found.letter is None and pitch_per_band:
            found.gaps = _wide_blanks(found, pitch_per_band * found.band)
        if text and found is not None and origin is not None and axis is not None:
            text, words = _place_words(text, char_boxes, found, origin, axis)
        if text and text.strip():
            out.append(_Box(quad, text.strip(), score, words, found))
    return out


def read_words(
    grey: np.ndarray,
    quad: Sequence[Sequence[float]],
    text: str,
    char_boxes: Sequence[Sequence[Sequence[float]]],
) -> tuple[str, list[_Word] | None, _Ink | None]:
    """``text`` with a space put back wherever the line's pixels show a word gap between two
    characters the recogniser wrote side by side, and the line's words with their horizontal
    extent in image pixels (None when they cannot be placed), and what the line's pixels
    show (:class:`_Ink`: heights and stroke width, for the font size and weight).

    RapidOCR's recogniser (trained mostly on Chinese) often drops the space after punctuation,
    between a date and a time and in bold type (``HumanFactors``). The pixels still show the
    gap, so the line's crop is binarised, the columns without ink between the first and last
    ink are found, and every blank run at least :data:`WORD_GAP_PER_X_HEIGHT` times the line's
    x-height wide (in fixed-width type, :data:`FIXED_PITCH_GAP` pitches)
    is a word gap. The recogniser's per-character positions (``char_boxes``,
    one box per character of ``text`` in image pixels, left to right) tell which two characters
    the gap falls between. Spaces are only added, never removed (except where :func:`_may_split`
    forbids one: not inside numbers, not before closing punctuation). A line whose boxes do not
    match its characters one to one is returned unchanged.
    """
    crop, origin, axis = _line_crop(grey, quad)
    found = _ink_gaps(crop) if crop is not None else None
    if found is None:
        return text, None, None
    text, words = _place_words(text, char_boxes, found, origin, axis)
    return text, words, found


def _place_words(
    text: str,
    char_boxes: Sequence[Sequence[Sequence[float]]],
    found: _Ink,
    origin: np.ndarray,
    axis: np.ndarray,
) -> tuple[str, list[_Word] | None]:
    """``text`` with spaces at the word gaps of ``found``, and its words (see
    :func:`read_words`)."""
    import numpy as np

    if len(char_boxes) != len(text) or not text.strip():
        return text, None
    gaps, ink_start, ink_end, band = found.gaps, found.start, found.end, found.band
    centres = []
    for box in char_boxes:
        centre = np.asarray(box, dtype=np.float64).mean(axis=0)
        centres.append(float(np.dot(centre - origin, axis)))
    if any(b < a - 1e-6 for a, b in itertools.pairwise(centres)):
        # Not left to right: the crop was turned by the direction classifier.
        return text, None
    # Where each gap falls: after character i (centres[i] < gap centre < centres[i + 1]).
    cut_after: dict[int, tuple[float, float]] = {}
    for start, end in gaps:
        middle = (start + end) / 2
        i = next((k for k in range(len(centres) - 1, -1, -1) if centres[k] < middle), None)
        if i is None or i >= len(text) - 1 or centres[i + 1] <= middle:
            continue
        if text[i].isdigit() and text[i + 1].isdigit() and end - start + 1 < DIGIT_GAP * band:
            continue  # tabular digits stand apart (a narrow "1"): not a word gap
        j = i
        while j > 0 and text[j].isspace():
            j -= 1  # a gap at a space the recogniser wrote: the word before ends at the gap
        cut_after.setdefault(j, (start, end))
    chars = list(text)
    spaced = [False] * len(text)
    for i in cut_after:
        if i < len(text) - 1 and _may_split(text, i):
            spaced[i] = True
    pieces: list[tuple[int, int]] = []  # (first, last) character of each word
    first = None
    for k, ch in enumerate(chars):
        if ch.isspace():
            if first is not None:
                pieces.append((first, k - 1))
                first = None
            continue
        if first is None:
            first = k
        if spaced[k]:
            pieces.append((first, k))
            first = None
    if first is not None:
        pieces.append((first, len(chars) - 1))
    new_text = " ".join("".join(chars[a : b + 1]) for a, b in pieces)
    words: list[_Word] = []
    for n, (a, b) in enumerate(pieces):
        if n == 0:
            left = float(ink_start)
        else:
            prev_last = pieces[n - 1][1]
            gap = cut_after.get(prev_last)
            left = gap[1] + 1 if gap else (centres[prev_last] + centres[a]) / 2
        if n == len(pieces) - 1:
            right = float(ink_end + 1)
        else:
            gap = cut_after.get(b)
            right = gap[0] if gap else (centres[b] + centres[pieces[n + 1][0]]) / 2
        x0 = float(origin[0] + left * axis[0])
        x1 = float(origin[0] + max(right, left + 1) * axis[0])
        words.append(("".join(chars[a : b + 1]), x0, x1))
    # The text the caller had, when nothing changed (keeps the recogniser's own spacing).
    if new_text.split() == text.split():
        new_text = text
    return new_text, words


_NO_SPACE_BEFORE: Final = frozenset(".,;:!?%)]}\u2019\u201d")
_NO_SPACE_AFTER: Final = frozenset("([{\u2018\u201c")


def _may_split(text: str, i: int) -> bool:
    """Whether a space may go between ``text[i]`` and ``text[i + 1]``: not next to a space,
    not before closing punctuation or after an opening bracket, not inside a number, date,
    time or phone number (``12.50``, ``1,000``, ``18/03/18``, ``15:17``)."""
    left, right = text[i], text[i + 1]
    if left.isspace() or right.isspace():
        return False
    if right in _NO_SPACE_BEFORE or left in _NO_SPACE_AFTER:
        return False
    before = text[i - 1] if i > 0 else ""
    after = text[i + 2] if i + 2 < len(text) else ""
    if left in ".,/:-" and before.isdigit() and right.isdigit():
        return False  # 12.50, 1,000, 18/03/18, 15:17, 03-4021
    return not (right in "/:-" and left.isdigit() and after.isdigit())


def _line_crop(
    grey: np.ndarray, quad: Sequence[Sequence[float]]
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """The line's pixels straightened (as RapidOCR crops them), its top-left corner and the
    unit vector along the line, in image pixels."""
    import numpy as np

    pts = np.asarray(quad, dtype=np.float32)[:4]
    origin = pts[0].astype(np.float64)
    along = (pts[1] - pts[0]).astype(np.float64)
    width = int(max(np.linalg.norm(pts[0] - pts[1]), np.linalg.norm(pts[2] - pts[3])))
    height = int(max(np.linalg.norm(pts[0] - pts[3]), np.linalg.norm(pts[1] - pts[2])))
    norm = float(np.linalg.norm(along))
    if width < 4 or height < 4 or norm == 0 or height > width:
        return None, origin, along
    axis = along / norm
    try:
        import cv2
    except ImportError:  # pragma: no cover - RapidOCR depends on OpenCV
        return None, origin, axis
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(pts, target)
    crop = cv2.warpPerspective(
        grey, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC
    )
    return crop, origin, axis


@dataclass(slots=True)
class _Ink:
    """What a text line's pixels show (crop pixels)."""

    gaps: list[tuple[int, int]]  # word gaps: first and last blank column of each
    start: int  # first inked column
    end: int  # last inked column
    band: int  # height of the ink band (ascenders to descenders)
    cap: int  # top of the ink band to the bottom of the x-height core (about the cap height)
    stroke: float  # mean width of a horizontal run of ink in the core rows
    x_height: int  # rows of the x-height core (the densest rows)
    blanks: list[tuple[int, int]] = field(default_factory=list)  # every blank run inside
    letter: float | None = None  # character pitch of fixed-width type (:func:`_pitch`)


def _ink_gaps(crop: np.ndarray) -> _Ink | None:
    """Word gaps, ink extent, heights and stroke width of one straightened text line; None
    when the crop shows no clear ink."""
    import numpy as np

    low, high = np.percentile(crop, (2, 98))
    if high - low < 40:
        return None
    ink = crop < _otsu(crop)
    rows = ink.sum(axis=1)
    peak = int(rows.max())
    if peak == 0:
        return None
    x_height = int((rows >= 0.4 * peak).sum())
    # The line's band: rows with some ink, the run around the densest row (a neighbouring
    # line's ascenders or descenders inside the box would fill the gaps).
    centre = int(np.argmax(rows))
    inked = rows >= max(1, 0.05 * peak)
    top = centre
    while top > 0 and inked[top - 1]:
        top -= 1
    bottom = centre
    while bottom < len(rows) - 1 and inked[bottom + 1]:
        bottom += 1
    cols = ink[top : bottom + 1].sum(axis=0)
    filled = np.flatnonzero(cols)
    if len(filled) < 2 or x_height < 3:
        return None
    blanks: list[tuple[int, int]] = []  # every blank run between inked columns
    start = None
    for x in range(int(filled[0]), int(filled[-1]) + 1):
        if cols[x] == 0:
            if start is None:
                start = x
        elif start is not None:
            blanks.append((start, x - 1))
            start = None
    letter = _pitch(blanks, int(filled[0]), int(filled[-1]))
    core = np.flatnonzero(rows >= 0.4 * peak)
    # The stroke width of each half of the line, and the line's the thinner one: a line is
    # only as bold as all of it (a list entry opening with a bold term is set in regular type).
    middle = (int(filled[0]) + int(filled[-1])) // 2 + 1
    stroke = min(_stroke_width(ink[core, :middle]), _stroke_width(ink[core, middle:]))
    cap = int(core[-1]) - top + 1
    found = _Ink([], int(filled[0]), int(filled[-1]), bottom - top + 1, cap, stroke, len(core))
    found.blanks, found.letter = blanks, letter
    found.gaps = _wide_blanks(found, letter)
    return found


def _stroke_width(core: np.ndarray) -> float:
    """The mean length of the horizontal runs of ink in ``core`` (rows of a line's x-height
    band); infinite when it holds no ink."""
    starts = int((core[:, 1:] & ~core[:, :-1]).sum() + core[:, 0].sum())
    return float(core.sum()) / starts if starts else float("inf")


def _pitch(blanks: list[tuple[int, int]], first: int, last: int) -> float | None:
    """The character pitch of a line set in fixed-width type (receipt printers, typewriters),
    from its blank runs; None for proportional type or too few characters to tell.

    In fixed-width type every character takes the same advance, so the centres of the inked
    runs between blanks (about one per character) stand at whole multiples of the pitch (a
    word space is one more): most neighbouring centres are 1 or 2 pitches apart."""
    starts = [first, *(b + 1 for _, b in blanks)]
    ends = [*(a - 1 for a, _ in blanks), last]
    centres = [(a + b) / 2 for a, b in zip(starts, ends, strict=True)]
    steps = [b - a for a, b in itertools.pairwise(centres)]
    if len(steps) < _MIN_BLANKS:
        return None
    pitch = float(statistics.median(steps))
    if pitch <= 0:
        return None
    near = sum(
        1 for d in steps if round(d / pitch) >= 1 and abs(d / pitch - round(d / pitch)) < 0.15
    )
    return pitch if near >= FIXED_PITCH_SHARE * len(steps) else None


def _wide_blanks(found: _Ink, pitch: float | None) -> list[tuple[int, int]]:
    """The blank runs of ``found`` wide enough to be word gaps, given its character pitch
    (fixed-width type: narrow letters such as ``i`` leave wide blanks within a word)."""
    threshold = max(2.0, WORD_GAP_PER_X_HEIGHT * found.x_height)
    if pitch:
        threshold = max(threshold, FIXED_PITCH_GAP * pitch)
    return [(a, b) for a, b in found.blanks if b - a + 1 >= threshold]


def _otsu(values: np.ndarray) -> float:
    """Otsu's threshold of a grey image (the level that best splits ink from paper)."""
    import numpy as np

    hist = np.bincount(values.ravel().astype(np.uint8), minlength=256).astype(np.float64)
    total = hist.sum()
    levels = np.arange(256, dtype=np.float64)
    weight = np.cumsum(hist)
    mean = np.cumsum(hist * levels)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean[-1] * weight / total - mean) ** 2 / (weight * (total - weight))
    between = np.nan_to_num(between)
    return float(np.argmax(between)) + 0.5


def _recognise(engine: Any, crop: np.ndarray) -> float:
    """The recogniser's score for ``crop`` read as is (no direction classifier)."""
    result, _ = engine(crop, use_det=False, use_cls=False, use_rec=True)
    if not result:
        return 0.0
    return float(result[0][1])


def _orientation(engine: Any, arr: np.ndarray, boxes: Sequence[_Box]) -> int:
    """The clockwise angle the text on ``arr`` is turned by: 0, 90, 180 or 270."""
    import numpy as np

    vertical = horizontal = 0
    for box in boxes:
        w, h = _quad_size(box.quad)
        weight = len(box.text)
        if h > 1.5 * w:
            vertical += weight
        elif w > 1.5 * h:
            horizontal += weight
    candidates = (90, 270) if vertical > horizontal else (0, 180)
    tall = candidates[0] == 90
    samples = sorted(
        (b for b in boxes if len(b.text) >= _MIN_SAMPLE_CHARS and _is_tall(b.quad) == tall),
        key=lambda b: len(b.text),
        reverse=True,
    )[:_ORIENTATION_SAMPLES]
    if not samples:
        return 0
    scores = dict.fromkeys(candidates, 0.0)
    for sample in samples:
        xs = [p[0] for p in sample.quad]
        ys = [p[1] for p in sample.quad]
        crop = arr[int(min(ys)) : int(max(ys)) + 1, int(min(xs)) : int(max(xs)) + 1]
        if crop.size == 0:
            continue
        for angle in candidates:
            turned = np.ascontiguousarray(np.rot90(crop, k=angle // 90))
            scores[angle] += _recognise(engine, turned)
    best = max(candidates, key=lambda a: scores[a])
    # Keep an upright reading unless the other way round is clearly better.
    if best != candidates[0] and scores[best] < scores[candidates[0]] + 0.1 * len(samples):
        best = candidates[0]
    log.debug("OCR orientation scores %s -> %d", scores, best)
    return best


def _quad_size(quad: Sequence[Sequence[float]]) -> tuple[float, float]:
    (x0, y0), (x1, y1), _, (x3, y3) = quad[:4]
    return ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5, ((x3 - x0) ** 2 + (y3 - y0) ** 2) ** 0.5


def _is_tall(quad: Sequence[Sequence[float]]) -> bool:
    w, h = _quad_size(quad)
    return h > w


# --- boxes → lines ---------------------------------------------------------------------------


def _lines(boxes: Sequence[_Box], scale: float) -> list[OcrLine]:
    """Boxes → lines in page points: same-line fragments joined, sizes estimated, sorted."""
    lines = []
    for box in boxes:
        xs = [p[0] * scale for p in box.quad]
        ys = [p[1] * scale for p in box.quad]
        x0, x1, top, bottom = min(xs), max(xs), min(ys), max(ys)
        if box.words:
            words = [(t, round(a * scale, 2), round(b * scale, 2)) for t, a, b in box.words]
            # The detector's box is padded beyond the ink on both sides; the words' extent
            # is the ink's, which keeps a narrow gutter between two columns as wide as drawn.
            x0, x1 = max(x0, words[0][1]), min(x1, max(w[2] for w in words))
        else:
            words = _even_words(box.text, x0, x1)
        line = OcrLine(box.text, x0, top, x1, bottom, bottom, 0.0, confidence=box.score)
        line.words = words
        ink = box.ink
        if ink is not None and ink.cap >= max(3, MIN_CAP_SHARE * (bottom - top) / scale):
            line.cap_height = ink.cap * scale
            if sum(ch.isalnum() for ch in box.text) >= MIN_STROKE_CHARS:
                line.stroke = ink.stroke / max(ink.x_height, 1)
        lines.append(line)
    lines = _join_fragments(sorted(lines, key=lambda ln: (ln.top, ln.x0)))
    heights = [_size_of(ln) for ln in lines]
    body = _weighted_median([(h, len(ln.text)) for h, ln in zip(heights, lines, strict=True)])
    strokes = [(stroke, len(ln.text)) for ln in lines if (stroke := _stroke_of(ln)) is not None]
    normal = bold_from = 0.0
    if len(strokes) >= 3:
        normal = _weighted_median(strokes)
        # Uneven print (thermal receipts, photocopies) spreads the strokes of regular type:
        # bold must then also stand clear of that spread (a robust z-score).
        spread = _weighted_median([(abs(s - normal), n) for s, n in strokes])
        bold_from = max(BOLD_STROKE_RATIO * normal, normal + BOLD_SPREADS * 1.4826 * spread)
    for line, h in zip(lines, heights, strict=True):
        size = h
        tolerance = SIZE_SNAP_TOLERANCE if line.cap_height is None else MEASURED_SNAP_TOLERANCE
        if body and abs(h - body) <= tolerance * body:
            size = body
        line.size = round(size * FONT_SIZE_PER_BOX_HEIGHT, 2)
        stroke = _stroke_of(line)
        line.bold = bool(bold_from and stroke is not None and stroke >= bold_from)
        # Box bottoms move with descenders, tops less (capitals and ascenders are common):
        # place the baseline from the top, at about four fifths of the (snapped) height.
        line.baseline = round(line.top + 0.8 * size, 2)
        line.x0, line.top = round(line.x0, 2), round(line.top, 2)
        line.x1, line.bottom = round(line.x1, 2), round(line.bottom, 2)
        line.confidence = round(line.confidence, 4)
    return _reading_order(lines)


def _size_of(line: OcrLine) -> float:
    """The line's font size estimate: from its measured cap height when there is one (about
    :data:`CAP_HEIGHT_PER_SIZE` of the size), else from its box height."""
    if line.cap_height is not None:
        return line.cap_height / CAP_HEIGHT_PER_SIZE
    return line.bottom - line.top


def _stroke_of(line: OcrLine) -> float | None:
    """The line's stroke width per x-height (bold type has thicker strokes)."""
    return line.stroke


def _even_words(text: str, x0: float, x1: float) -> list[_Word]:
    """The words of ``text`` spread over ``x0..x1`` by their share of its characters (for a box
    whose pixels could not be read word by word, such as one short cell taller than wide)."""
    per_char = (x1 - x0) / max(len(text), 1)
    out: list[_Word] = []
    for match in re.finditer(r"\S+", text):
        a = x0 + match.start() * per_char
        b = x0 + match.end() * per_char
        out.append((match.group(), round(a, 2), round(b, 2)))
    return out


def _join_fragments(lines: list[OcrLine]) -> list[OcrLine]:
    """Join boxes on the same visual line separated by less than about a word gap, unless
    the gap between them is a gutter (:func:`_gutter`)."""
    out: list[OcrLine] = []
    for line in lines:
        for other in reversed(out[-8:]):
            h = min(line.bottom - line.top, other.bottom - other.top)
            overlap = min(line.bottom, other.bottom) - max(line.top, other.top)
            left, right = (other, line) if other.x0 <= line.x0 else (line, other)
            gap = right.x0 - left.x1
            if (
                h > 0
                and overlap >= 0.6 * h
                and -0.5 * h <= gap <= (_max_join_gap(left, right) * h)
                and not (gap > GUTTER_MIN_GAP * h and _gutter(left, right, lines, h))
            ):
                chars = len(left.text) + len(right.text)
                other.confidence = (
                    left.confidence * len(left.text) + right.confidence * len(right.text)
                ) / chars
                longer = left if len(left.text) >= len(right.text) else right
                other.cap_height, other.stroke = longer.cap_height, longer.stroke
                other.text = f"{left.text} {right.text}"
                if left.words is not None and right.words is not None:
                    other.words = [*left.words, *right.words]
                else:
                    other.words = None
                other.x0, other.x1 = left.x0, max(left.x1, right.x1)
                other.top, other.bottom = min(line.top, other.top), max(line.bottom, other.bottom)
                break
        else:
            out.append(line)
    return out


def _max_join_gap(left: OcrLine, right: OcrLine) -> float:
    """How far apart (in line heights) ``left`` and ``right`` may stand and still be one line:
    about a word space, or an em and more after a section number (``5.2   Results``), which
    typesetters set apart from its heading's words."""
    if _SECTION_NUMBER.match(left.text) and right.text[:1].isalpha():
        return SECTION_NUMBER_GAP
    return 0.8


def _gutter(left: OcrLine, right: OcrLine, lines: Sequence[OcrLine], h: float) -> bool:
    """Whether the blank between ``left`` and ``right`` (on one row) is a gutter between two
    columns of text or of a table rather than a wide word space: no line near them (within
    :data:`GUTTER_ROWS` line heights above or below) runs across it, and at least two end or
    start at its edges (a narrow gutter is about as wide as a word space stretched by
    justification, so its width alone does not tell)."""
    g0, g1 = left.x1, right.x0
    top, bottom = min(left.top, right.top), max(left.bottom, right.bottom)
    crossing = edged = 0
    for line in lines:
        if line is left or line is right:
            continue
        if line.bottom < top - GUTTER_ROWS * h or line.top > bottom + GUTTER_ROWS * h:
            continue
        if line.x0 < g0 - 0.5 * h and line.x1 > g1 + 0.5 * h:
            crossing += 1
        elif abs(line.x1 - g0) <= h or abs(line.x0 - g1) <= h:
            edged += 1
    return crossing == 0 and edged >= 2


def _reading_order(lines: list[OcrLine]) -> list[OcrLine]:
    """Top to bottom; lines whose vertical ranges overlap by half count as one row (left first)."""
    ordered = sorted(lines, key=lambda ln: (ln.top + ln.bottom) / 2)
    rows: list[list[OcrLine]] = []
    for line in ordered:
        if rows:
            ref = rows[-1][0]
            h = min(line.bottom - line.top, ref.bottom - ref.top)
            if min(line.bottom, ref.bottom) - max(line.top, ref.top) >= 0.5 * h:
                rows[-1].append(line)
                continue
        rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda ln: ln.x0)]


def _weighted_median(values: Sequence[tuple[float, int]]) -> float:
    total = sum(w for _, w in values)
    if not total:
        return statistics.median(v for v, _ in values) if values else 0.0
    acc = 0
    for value, weight in sorted(values):
        acc += weight
        if acc * 2 >= total:
            return value
    return values[-1][0]  # pragma: no cover - the loop always returns


# --- images ----------------------------------------------------------------------------------


def _to_bgr_array(image: Image.Image | np.ndarray) -> np.ndarray:
    """A BGR uint8 array, the channel order RapidOCR's models expect.

    A numpy array is taken as RGB (or grey), like a PIL image.
    """
    import numpy as np

    if isinstance(image, np.ndarray):
        arr = image
        if arr.ndim == 2:
            arr = np.stack([arr] * 3, axis=-1)
        elif arr.ndim == 3 and arr.shape[2] == 4:
            arr = arr[:, :, :3]
        return np.ascontiguousarray(arr.astype(np.uint8, copy=False)[:, :, ::-1])
    if image.mode != "RGB":
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            # Transparent areas read as white paper, not black.
            from PIL import Image as PILImage

            rgba = image.convert("RGBA")
            paper = PILImage.new("RGB", rgba.size, (255, 255, 255))
            paper.paste(rgba, mask=rgba.getchannel("A"))
            image = paper
        else:
            image = image.convert("RGB")
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8)[:, :, ::-1])


def _resize(arr: np.ndarray, factor: float) -> tuple[np.ndarray, float]:
    """``arr`` scaled by about ``factor``; returns it and the exact horizontal factor."""
    import numpy as np
    from PIL import Image as PILImage

    h, w = arr.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    small = PILImage.fromarray(arr).resize(size, PILImage.Resampling.LANCZOS)
    return np.asarray(small, dtype=np.uint8), size[0] / w
