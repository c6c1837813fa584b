"""Images: the image-file backend, OCR of scanned PDF pages, embedded images and screenshots.

**Image files** (PNG, JPEG, TIFF, GIF, BMP, WebP; detected from magic bytes in
:mod:`lamina.engine.detect`): one page per frame of a TIFF (other formats: the first frame), the
page size in points at the image's DPI (72 when it has none, so 1 px = 1 pt), EXIF orientation
applied. With OCR (every tier but ``fast``, unless ``disable_ocr``) the text becomes items through
the PDF layout rules; without it the page holds one :class:`~lamina.types.ImageItem` and no text.
Images over :data:`MAX_IMAGE_PIXELS` (decompression bombs) and undecodable data raise
:class:`~lamina.engine.errors.InvalidDocumentError`.

**PDF pages** (:func:`enrich_pdf_page`, called by :mod:`lamina.engine.pdf` for each page):

- a page without a usable text layer (fewer than :data:`MIN_TEXT_CHARS` visible characters, or
  a garbled one, with images covering at least :data:`MIN_IMAGE_COVERAGE` of it) is rendered at
  :data:`lamina.engine.ocr.OCR_DPI` and read by OCR when OCR is on; its lines replace the text
  layer's, and a page found turned by 90/180/270 degrees is described upright (size, boxes,
  ``original_orientation_angle`` = the clockwise angle the content was turned by);
- ``images_to_save: ["embedded"]`` extracts each image object (at its own resolution, masks and
  transforms applied, PNG-encoded one at a time; images under :data:`MIN_IMAGE_SIDE` px are
  skipped) as ``page_{n}_image_{i}.png`` with its box, and adds an ImageItem
  (``url`` = that filename, ``md`` = ``![caption](filename)``) at its place in the reading
  order. ImageItems are only added when embedded images are saved, so ``url`` always names a
  file of the job; on an OCR'd page, the scan itself (an image covering most of the page) is
  saved but gets no item, since its text is already there;
- ``images_to_save: ["screenshot"]`` renders each page at :data:`SCREENSHOT_DPI` as
  ``page_{n}.png`` (upright when OCR turned the page).

``layout`` in ``images_to_save`` is accepted and produces nothing yet.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from lamina._forks import passage
from lamina.engine.errors import InvalidDocumentError
from lamina.engine.limits import DEFAULT_MAX_IMAGE_PIXELS, current_limits, render_scale
from lamina.engine.result import ExtractedImage, PageResult
from lamina.types import BBox, ImageItem, ParseConfiguration

if TYPE_CHECKING:
    import pypdfium2
    from PIL import Image

    from lamina.engine.ocr import OcrPage
    from lamina.engine.pipeline import RawPage

log = logging.getLogger("lamina.engine.images")

#: Largest image (width x height, per frame) the engine decodes by default: a guard against
#: decompression bombs, checked before any pixel is decoded. The server's
#: ``max_image_pixels`` setting replaces it per job (:mod:`lamina.engine.limits`).
MAX_IMAGE_PIXELS: Final = DEFAULT_MAX_IMAGE_PIXELS
#: Embedded images narrower or lower than this (pixels) are not extracted.
MIN_IMAGE_SIDE: Final = 16
#: Resolution of page screenshots.
SCREENSHOT_DPI: Final = 150
#: A PDF page with fewer visible characters than this has no usable text layer...
MIN_TEXT_CHARS: Final = 20
#: ...when images cover at least this share of it (then it is OCR'd, if OCR is on).
MIN_IMAGE_COVERAGE: Final = 0.5
#: A text layer whose decoded share is below this is garbage and OCR'd like a missing one.
MIN_TEXT_CONFIDENCE: Final = 0.5
#: An embedded image covering this share of an OCR'd page is the scan itself.
SCAN_COVERAGE: Final = 0.8
_DEFAULT_DPI: Final = 72.0
_IMAGE_KINDS: Final = ("png", "jpeg", "tiff", "gif", "bmp", "webp")


@dataclass(frozen=True, slots=True)
class ImageOptions:
    """What the configuration asks of this module."""

    ocr: bool = False
    languages: tuple[str, ...] = ()
    embedded: bool = False
    screenshot: bool = False
    fail_on_ocr_error: bool = False
    """``processing_control.job_failure_conditions.fail_on_image_ocr_error``: a PDF page whose
    OCR fails fails (else it keeps its text layer and the failure is listed in the stats)."""

    @classmethod
    def from_config(cls, config: ParseConfiguration) -> ImageOptions:
        """OCR is on for every tier but ``fast``, unless ``disable_ocr`` is set (top level or
        under ``processing_options``); images as listed in ``output_options.images_to_save``."""
        processing = config.processing_options
        disabled = _truthy((config.model_extra or {}).get("disable_ocr")) or (
            processing is not None and _truthy((processing.model_extra or {}).get("disable_ocr"))
        )
        languages: tuple[str, ...] = ()
        if processing is not None and processing.ocr_parameters is not None:
            languages = tuple(processing.ocr_parameters.languages or ())
        wanted = set((config.output_options.images_to_save or []) if config.output_options else [])
        control = config.processing_control
        conditions = control.job_failure_conditions if control is not None else None
        return cls(
            ocr=config.tier != "fast" and not disabled,
            languages=languages,
            embedded="embedded" in wanted,
            screenshot="screenshot" in wanted,
            fail_on_ocr_error=bool(conditions and conditions.fail_on_image_ocr_error),
        )


@dataclass(slots=True)
class PageExtras:
    """What this module added to one page: saved images, their items, OCR facts."""

    images: list[ExtractedImage] = field(default_factory=list)
    image_items: list[ImageItem] = field(default_factory=list)
    ocr_seconds: float | None = None
    ocr_error: str | None = None


def _last_line(message: str) -> str:
    """The last line of an error message, at most 300 characters (rapidocr's errors carry the
    whole traceback of the failed inference)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


# --- results ---------------------------------------------------------------------------------


def collect_images(extras: Iterable[PageExtras | None]) -> list[ExtractedImage]:
    """Every page's saved images, in page order."""
    return [image for extra in extras if extra is not None for image in extra.images]


def image_stats(extras: Sequence[PageExtras | None], options: ImageOptions) -> dict[str, Any]:
    """Counts and timings for the job's stats (served as ``job_metadata``)."""
    from lamina.engine import ocr

    stats: dict[str, Any] = {}
    ocr_times = [e.ocr_seconds for e in extras if e is not None and e.ocr_seconds is not None]
    if options.ocr:
        stats["ocr_pages"] = len(ocr_times)
        stats["ocr_seconds"] = round(sum(ocr_times), 3)
        unsupported = ocr.unsupported_languages(options.languages)
        if unsupported:
            stats["ocr_unsupported_languages"] = unsupported
            log.warning(
                "OCR languages %s are not covered by the bundled models (Chinese and English); "
                "pages were read with them anyway",
                unsupported,
            )
    failures = [e.ocr_error for e in extras if e is not None and e.ocr_error]
    if failures:  # the pages kept their text layer (fail_on_image_ocr_error fails them)
        stats["ocr_errors"] = failures
    images = sum(len(e.images) for e in extras if e is not None)
    if images:
        stats["images"] = images
    return stats


def image_item(
    url: str, box: tuple[float, float, float, float] | None, caption: str = ""
) -> ImageItem:
    """An image item; ``box`` is (x0, top, x1, bottom) in page points."""
    bbox = None
    if box is not None:
        x0, y0, x1, y1 = box
        bbox = [BBox(x=round(x0, 2), y=round(y0, 2), w=round(x1 - x0, 2), h=round(y1 - y0, 2))]
    return ImageItem(caption=caption, url=url, md=f"![{caption}]({url})", bbox=bbox)


def png_bytes(image: Image.Image) -> bytes:
    """``image`` encoded as PNG (modes PNG cannot hold are converted)."""
    if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def _extracted(
    filename: str,
    page: int,
    category: str,
    image: Image.Image,
    box: tuple[float, float, float, float] | None,
) -> ExtractedImage:
    bbox = None
    if box is not None:
        x0, y0, x1, y1 = box
        bbox = (round(x0, 2), round(y0, 2), round(x1 - x0, 2), round(y1 - y0, 2))
    return ExtractedImage(
        filename=filename,
        page_number=page,
        category=category,
        content_type="image/png",
        bbox=bbox,
        data=png_bytes(image),
    )


# --- PDF pages -------------------------------------------------------------------------------

BoxMapper = Callable[[float, float, float, float], tuple[float, ...]]


def enrich_pdf_page(
    page: pypdfium2.PdfPage, raw: RawPage, options: ImageOptions, to_display: BoxMapper
) -> PageExtras:
    """OCR (when the page needs it), embedded images and a screenshot for one PDF page.

    ``to_display`` maps a box in PDF user space (left, bottom, right, top) to the displayed
    page (x0, top, x1, bottom). Updates ``raw`` in place when OCR replaces its text; OCR
    failures are recorded on the page (``ocr_error``, listed in the job's stats as
    ``ocr_errors``) and leave the text layer as it was, or with ``fail_on_ocr_error`` fail the
    page.
    """
    from lamina.engine.ocr import OcrUnavailableError

    extras = PageExtras()
    ocr_page: OcrPage | None = None
    if options.ocr and needs_ocr(page, raw):
        try:
            ocr_page = _ocr_pdf_page(page, raw)
        except OcrUnavailableError:
            raise
        except Exception as exc:
            reason = _last_line(str(exc)) or type(exc).__name__
            if options.fail_on_ocr_error:
                raise RuntimeError(f"OCR failed: {reason}") from exc  # the page fails
            log.warning("OCR of page %d failed: %s", raw.number, exc)
            extras.ocr_error = f"page {raw.number}: {reason}"
        else:
            extras.ocr_seconds = ocr_page.seconds
    if options.embedded:
        _embedded_images(page, raw, to_display, ocr_page, extras)
    if options.screenshot:
        width, height = page.get_size()
        shot = rendered(page, render_scale(width, height, SCREENSHOT_DPI))
        if ocr_page is not None and ocr_page.angle:
            shot = shot.rotate(ocr_page.angle, expand=True)  # PIL turns counter-clockwise
        extras.images.append(
            _extracted(f"page_{raw.number}.png", raw.number, "screenshot", shot, None)
        )
        del shot
    return extras


def needs_ocr(page: pypdfium2.PdfPage, raw: RawPage) -> bool:
    """True when the page has no usable text layer and images cover much of it."""
    chars = sum(len(line.text.strip()) for line in raw.lines)
    garbled = raw.confidence is not None and raw.confidence < MIN_TEXT_CONFIDENCE
    if chars >= MIN_TEXT_CHARS and not garbled:
        return False
    return image_coverage(page) >= MIN_IMAGE_COVERAGE


def image_coverage(page: pypdfium2.PdfPage) -> float:
    """Share of the page's area under image objects (overlaps counted once per axis-box)."""
    import pypdfium2.raw as pdfium_c

    left, bottom, right, top = page.get_cropbox()
    area = max((right - left) * (top - bottom), 1e-6)
    covered = 0.0
    boxes: list[tuple[float, float, float, float]] = []
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4):
        try:
            x0, y0, x1, y1 = obj.get_bounds()
        except Exception:
            continue
        box = (max(x0, left), max(y0, bottom), min(x1, right), min(y1, top))
        if box[2] > box[0] and box[3] > box[1]:
            boxes.append(box)
        if len(boxes) > 500:
            break
    for x0, y0, x1, y1 in boxes:
        covered += (x1 - x0) * (y1 - y0)
    return min(1.0, covered / area)


def _ocr_pdf_page(page: pypdfium2.PdfPage, raw: RawPage) -> OcrPage:
    from lamina.engine import ocr

    width, height = page.get_size()
    image = rendered(page, render_scale(width, height, ocr.OCR_DPI))
    points_per_pixel = raw.width / image.width if image.width else 72 / ocr.OCR_DPI
    result = ocr.ocr_image(image, points_per_pixel)
    del image
    raw.lines = list(result.lines)
    raw.confidence = result.confidence if result.confidence is not None else 0.0
    raw.rotation = result.angle
    if not raw.segments:
        raw.segments = list(result.segments)  # a scan's rulings are pixels, not paths
    if result.angle in (90, 270):
        raw.width, raw.height = raw.height, raw.width
    if result.angle:
        # Whatever else was read in displayed coordinates no longer fits the upright page.
        raw.segments = list(result.segments)
        raw.links = []
    return result


def _embedded_images(
    page: pypdfium2.PdfPage,
    raw: RawPage,
    to_display: BoxMapper,
    ocr_page: OcrPage | None,
    extras: PageExtras,
) -> None:
    import pypdfium2.raw as pdfium_c

    page_area = max(raw.width * raw.height, 1e-6)
    index = 0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4):
        try:
            px_w, px_h = obj.get_px_size()
            if min(px_w, px_h) < MIN_IMAGE_SIDE or px_w * px_h > current_limits().max_image_pixels:
                continue
            box = tuple(to_display(*obj.get_bounds()))
            if ocr_page is not None:
                box = ocr_page.to_upright((box[0], box[1], box[2], box[3]))
            image = _object_image(obj, px_w, px_h)
        except Exception as exc:
            log.warning("image %d on page %d could not be extracted: %s", index, raw.number, exc)
            continue
        if image is None:
            continue
        x0, y0, x1, y1 = box
        filename = f"page_{raw.number}_image_{index}.png"
        index += 1
        extras.images.append(_extracted(filename, raw.number, "embedded", image, (x0, y0, x1, y1)))
        del image
        is_scan = ocr_page is not None and (x1 - x0) * (y1 - y0) >= SCAN_COVERAGE * page_area
        if not is_scan:
            extras.image_items.append(image_item(filename, (x0, y0, x1, y1)))


def _object_image(obj: Any, px_w: int, px_h: int) -> Image.Image | None:
    """An image object's pixels as PIL: rendered (mask, rotation applied), else as stored.

    pdfium renders a stretched image as large as its longest side in both directions (a strip
    of 4000 x 30 pixels drawn as a square renders 4000 x 4000), so an image that could cross the
    pixel limit that way is taken as stored.
    """
    bitmap = None
    if max(px_w, px_h) ** 2 <= current_limits().max_image_pixels:
        with contextlib.suppress(Exception):
            bitmap = obj.get_bitmap(render=True)
    if bitmap is None:
        bitmap = obj.get_bitmap(render=False)
    try:
        image = bitmap.to_pil()
        if min(image.size) < MIN_IMAGE_SIDE:
            return None
        return image.copy()
    finally:
        _close_bitmap(bitmap)


def rendered(page: pypdfium2.PdfPage, scale: float) -> Image.Image:
    """``page`` rendered at ``scale`` as a PIL image that owns its pixels; the pdfium bitmap is
    closed at once instead of whenever the garbage collector gets to it."""
    bitmap = page.render(scale=scale)
    try:
        return bitmap.to_pil().copy()
    finally:
        _close_bitmap(bitmap)


def _close_bitmap(bitmap: Any) -> None:
    """Close a pdfium bitmap whose pixels were copied out. pypdfium2 logs "Explicitly closing
    <PdfBitmap> ... potentially unsafe" on every close of a bitmap whose buffer pdfium owns, in
    case a view of the buffer lives on; ours never does (the image was copied), so the warning
    is switched off for this close."""
    bitmap.warn_on_close = False
    bitmap.close()


# --- image files -----------------------------------------------------------------------------


def parse_image_file(
    data: bytes,
    kind: str,
    config: ParseConfiguration,
    filename: str | None = None,
) -> tuple[int, list[PageResult], list[ExtractedImage], dict[str, Any]]:
    """Parse an image file: (page count, pages, saved images, stats)."""
    from lamina.engine import pipeline, progress
    from lamina.engine.pages import select_pages

    options = ImageOptions.from_config(config)
    image = open_image(data, kind)
    frames = getattr(image, "n_frames", 1) if kind == "tiff" else 1
    raws: list[RawPage] = []
    extras: list[PageExtras | None] = []
    for number in progress.tracked(select_pages(frames, config.page_ranges)):
        try:
            frame = load_frame(image, number - 1, kind)
        except InvalidDocumentError as exc:
            if frames == 1:
                raise
            raws.append(pipeline.RawPage(number=number, error=f"Page {number}: {exc}"))
            extras.append(None)
            continue
        with passage():  # a fork waits for the page (OCR mid-inference, see lamina._forks)
            raw, extra = _image_page(frame, number, options, filename)
        del frame
        raws.append(raw)
        extras.append(extra)
    pages = pipeline.build_pages(raws, pipeline.LayoutOptions.from_config(config))
    return frames, pages, collect_images(extras), image_stats(extras, options)


def _image_page(
    frame: Image.Image, number: int, options: ImageOptions, filename: str | None
) -> tuple[RawPage, PageExtras]:
    from lamina.engine import ocr, pipeline

    dpi_x, dpi_y = _dpi(frame)
    width = round(frame.width * 72 / dpi_x, 2)
    height = round(frame.height * 72 / dpi_y, 2)
    raw = pipeline.RawPage(number=number, width=width, height=height, confidence=0.0)
    extras = PageExtras()
    angle = 0
    if options.ocr:
        result = ocr.ocr_image(frame, width / frame.width)
        raw.lines = list(result.lines)
        raw.confidence = result.confidence if result.confidence is not None else 0.0
        raw.width, raw.height = result.width, result.height
        raw.rotation = angle = result.angle
        raw.segments = list(result.segments)
        extras.ocr_seconds = result.seconds
    upright = frame.rotate(angle, expand=True) if angle else frame
    page_box = (0.0, 0.0, raw.width, raw.height)
    if options.embedded:
        name = f"page_{number}_image_0.png"
        extras.images.append(_extracted(name, number, "embedded", upright, page_box))
        extras.image_items.append(image_item(name, page_box))
    elif not options.ocr:
        extras.image_items.append(image_item(filename or "image", page_box))
    if options.screenshot:
        extras.images.append(_extracted(f"page_{number}.png", number, "screenshot", upright, None))
    raw.extras = extras
    return raw, extras


def open_image(data: bytes, kind: str) -> Image.Image:
    """Open (not decode) an image, refusing ones over :data:`MAX_IMAGE_PIXELS`."""
    from PIL import Image as PILImage

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            image = PILImage.open(io.BytesIO(data))
    except PILImage.DecompressionBombError as exc:
        # Pillow refuses it before we can look (twice its own limit): report it our way.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = f"{found.group(1)} pixels" if found else "too many pixels"
        raise InvalidDocumentError(_too_large(kind, pixels)) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidDocumentError(
            f"Not a valid {kind} image: the file is damaged or truncated ({exc})."
        ) from exc
    _check_size(image, kind)
    return image


def _too_large(kind: str, pixels: str) -> str:
    return (
        f"The {kind} image is too large: {pixels}, over the limit of "
        f"{current_limits().max_image_pixels} "
        "pixels (a possible decompression bomb)."
    )


def load_frame(image: Image.Image, index: int, kind: str) -> Image.Image:
    """Frame ``index`` decoded, EXIF orientation applied, in a mode OCR and PNG can take."""
    from PIL import Image as PILImage
    from PIL import ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            image.seek(index)
            _check_size(image, kind)
            image.load()
            frame = ImageOps.exif_transpose(image) or image
            return _normalise_mode(frame)
    except InvalidDocumentError:
        raise
    except (PILImage.DecompressionBombError, MemoryError) as exc:
        raise InvalidDocumentError(f"The {kind} image is too large to decode: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        raise InvalidDocumentError(
            f"Not a valid {kind} image: the file is damaged or truncated ({exc})."
        ) from exc


def _check_size(image: Image.Image, kind: str) -> None:
    width, height = image.size
    if width * height > current_limits().max_image_pixels:
        raise InvalidDocumentError(
            _too_large(kind, f"{width} x {height} = {width * height} pixels")
        )
    if width <= 0 or height <= 0:
        raise InvalidDocumentError(f"Not a valid {kind} image: it has no pixels.")


def _normalise_mode(image: Image.Image) -> Image.Image:
    """A copy in L, RGB or RGBA: high bit depths scaled down, palettes and CMYK converted."""
    if image.mode in ("L", "RGB", "RGBA"):
        return image.copy()
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        import numpy as np
        from PIL import Image as PILImage

        arr = np.asarray(image, dtype=np.float64)
        low, high = float(arr.min()), float(arr.max())
        scaled = (arr - low) * (255.0 / (high - low)) if high > low else np.zeros_like(arr)
        return PILImage.fromarray(scaled.astype(np.uint8), mode="L")
    if image.mode in ("1", "LA") or (image.mode == "P" and "transparency" not in image.info):
        return image.convert("L" if image.mode != "LA" else "RGBA")
    if image.mode in ("P", "PA", "RGBa", "La"):
        return image.convert("RGBA")
    return image.convert("RGB")


def _dpi(image: Image.Image) -> tuple[float, float]:
    """The image's resolution, or 72 dpi when it has none or an implausible one."""
    dpi = image.info.get("dpi")
    try:
        x, y = (float(dpi[0]), float(dpi[1])) if dpi else (_DEFAULT_DPI, _DEFAULT_DPI)
    except (TypeError, ValueError, IndexError):
        return _DEFAULT_DPI, _DEFAULT_DPI
    if not (10 <= x <= 10_000 and 10 <= y <= 10_000):
        return _DEFAULT_DPI, _DEFAULT_DPI
    return x, y


def is_image_kind(kind: str) -> bool:
    """True for the image types this backend parses."""
    return kind in _IMAGE_KINDS
