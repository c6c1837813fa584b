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

import logging
import os
import statistics
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from lamina.engine.errors import EngineError
from lamina.engine.layout import Line

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

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
    that did not survive the fork, and the lock may be held by a thread that is not here."""
    global _ENGINE, _ENGINE_LOCK
    _ENGINE = None
    _ENGINE_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_engine_in_child)


class OcrUnavailableError(EngineError):
    """OCR was needed but the ``ocr`` extra (rapidocr-onnxruntime) is not installed."""


@dataclass(slots=True)
class OcrLine(Line):
    """A line read by OCR: a layout :class:`Line` plus the recogniser's score (0..1)."""

    confidence: float = 1.0


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
    lines = _lines(boxes, scale)
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
    )


# --- RapidOCR calls --------------------------------------------------------------------------

_Box = tuple[list[list[float]], str, float]  # (quad points, text, score)


def _run(engine: Any, arr: np.ndarray) -> list[_Box]:
    result, _ = engine(arr)
    out: list[_Box] = []
    for quad, text, score in result or ():
        if text and text.strip():
            out.append((quad, text.strip(), float(score)))
    return out


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
    for quad, text, _ in boxes:
        w, h = _quad_size(quad)
        weight = len(text)
        if h > 1.5 * w:
            vertical += weight
        elif w > 1.5 * h:
            horizontal += weight
    candidates = (90, 270) if vertical > horizontal else (0, 180)
    tall = candidates[0] == 90
    samples = sorted(
        (b for b in boxes if len(b[1]) >= _MIN_SAMPLE_CHARS and _is_tall(b[0]) == tall),
        key=lambda b: len(b[1]),
        reverse=True,
    )[:_ORIENTATION_SAMPLES]
    if not samples:
        return 0
    scores = dict.fromkeys(candidates, 0.0)
    for quad, _, _ in samples:
        xs = [p[0] for p in quad]
        ys = [p[1] for p in quad]
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
    for quad, text, score in boxes:
        xs = [p[0] * scale for p in quad]
        ys = [p[1] * scale for p in quad]
        x0, x1, top, bottom = min(xs), max(xs), min(ys), max(ys)
        lines.append(OcrLine(text, x0, top, x1, bottom, bottom, 0.0, confidence=score))
    lines = _join_fragments(sorted(lines, key=lambda ln: (ln.top, ln.x0)))
    heights = [ln.bottom - ln.top for ln in lines]
    body = _weighted_median([(h, len(ln.text)) for h, ln in zip(heights, lines, strict=True)])
    for line, h in zip(lines, heights, strict=True):
        size = h
        if body and abs(h - body) <= SIZE_SNAP_TOLERANCE * body:
            size = body
        line.size = round(size * FONT_SIZE_PER_BOX_HEIGHT, 2)
        # Box bottoms move with descenders, tops less (capitals and ascenders are common):
        # place the baseline from the top, at about four fifths of the (snapped) height.
        line.baseline = round(line.top + 0.8 * size, 2)
        line.x0, line.top = round(line.x0, 2), round(line.top, 2)
        line.x1, line.bottom = round(line.x1, 2), round(line.bottom, 2)
        line.confidence = round(line.confidence, 4)
    return _reading_order(lines)


def _join_fragments(lines: list[OcrLine]) -> list[OcrLine]:
    """Join boxes on the same visual line separated by less than about a word gap."""
    out: list[OcrLine] = []
    for line in lines:
        for other in reversed(out[-8:]):
            h = min(line.bottom - line.top, other.bottom - other.top)
            overlap = min(line.bottom, other.bottom) - max(line.top, other.top)
            left, right = (other, line) if other.x0 <= line.x0 else (line, other)
            gap = right.x0 - left.x1
            if h > 0 and overlap >= 0.6 * h and -0.5 * h <= gap <= 0.8 * h:
                chars = len(left.text) + len(right.text)
                other.confidence = (
                    left.confidence * len(left.text) + right.confidence * len(right.text)
                ) / chars
                other.text = f"{left.text} {right.text}"
                other.x0, other.x1 = left.x0, max(left.x1, right.x1)
                other.top, other.bottom = min(line.top, other.top), max(line.bottom, other.bottom)
                break
        else:
            out.append(line)
    return out


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
