"""Image files and PDF images: detection, pages at their DPI, OCR or an image item, limits,
embedded image extraction with boxes, screenshots."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from lamina.engine import (
    InvalidDocumentError,
    ParseResult,
    detect_file_type,
    images,
    ocr,
    parse_document,
)
from lamina.types import ImageItem, ParseConfiguration, TextItem
from tests.fixtures import images as fx

needs_ocr = pytest.mark.skipif(
    not ocr.is_available(),
    reason="the 'ocr' extra is not installed",
)


def _config(tier: str = "fast", **options: object) -> ParseConfiguration:
    return ParseConfiguration.model_validate({"tier": tier, **options})


def _parse(
    data: bytes, tier: str = "fast", name: str | None = None, **options: object
) -> ParseResult:
    return parse_document(data, filename=name, config=_config(tier, **options))


# --- detection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "kind"),
    [
        ("PNG", "png"),
        ("JPEG", "jpeg"),
        ("TIFF", "tiff"),
        ("GIF", "gif"),
        ("BMP", "bmp"),
        ("WEBP", "webp"),
    ],
)
def test_image_types_are_detected(fmt: str, kind: str) -> None:
    data = fx.image_bytes(fx.text_image(size_px=12), fmt)
    assert detect_file_type(data, "upload.txt") == kind


def test_text_starting_with_bm_is_not_a_bitmap() -> None:
    assert detect_file_type(b"BMW annual report\n\nSales rose.\n") == "txt"


# --- image files -----------------------------------------------------------------------------


@needs_ocr
@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_image_file_is_read_by_ocr(fmt: str) -> None:
    data = fx.image_bytes(fx.text_image(size_px=40), fmt)
    result = _parse(data, tier="cost_effective")
    page = result.pages[0]
    assert result.file_type == fmt.lower() and result.page_count == 1
    assert page.text == fx.IMAGE_TEXT
    item = page.items[0]
    assert isinstance(item, TextItem) and item.bbox
    # No DPI in the file: 72 dpi, 1 px = 1 pt; the text starts after the 40 px margin.
    image = fx.text_image(size_px=40)
    assert (page.page_width, page.page_height) == (image.width, image.height)
    assert item.bbox[0].x == pytest.approx(40, abs=6)
    assert page.metadata is not None and page.metadata.confidence is not None
    assert page.metadata.confidence > 0.8
    assert not any(isinstance(i, ImageItem) for i in page.items)


@needs_ocr
def test_multipage_tiff_gives_one_page_per_frame() -> None:
    data = fx.multipage_tiff(("First page", "Second page"))
    result = _parse(data, tier="cost_effective")
    assert result.page_count == 2
    assert [p.text for p in result.pages] == ["First page", "Second page"]
    only_second = _parse(data, tier="cost_effective", page_ranges={"target_pages": "2"})
    assert [(p.page_number, p.text) for p in only_second.pages] == [(2, "Second page")]


def test_fast_tier_gives_an_image_item_and_no_text() -> None:
    image = fx.text_image()
    data = fx.image_bytes(image, "PNG", dpi=(144, 144))
    for options in ({"tier": "fast"}, {"tier": "cost_effective", "disable_ocr": True}):
        result = parse_document(data, filename="scan.png", config=_config(**options))
        page = result.pages[0]
        assert page.text == ""
        assert [i.type for i in page.items] == ["image"]
        item = page.items[0]
        assert isinstance(item, ImageItem) and item.url == "scan.png"
        assert page.markdown == "![](scan.png)"
        # 144 dpi: half a point per pixel.
        assert page.page_width == pytest.approx(image.width / 2, abs=0.01)
        assert item.bbox is not None and item.bbox[0].w == pytest.approx(image.width / 2, abs=0.01)
        assert result.images == []


def test_image_file_saved_as_embedded_and_screenshot() -> None:
    data = fx.image_bytes(fx.text_image(), "JPEG")
    result = _parse(data, output_options={"images_to_save": ["embedded", "screenshot"]})
    assert [(i.filename, i.category) for i in result.images] == [
        ("page_1_image_0.png", "embedded"),
        ("page_1.png", "screenshot"),
    ]
    item = result.pages[0].items[0]
    assert isinstance(item, ImageItem) and item.url == "page_1_image_0.png"
    with Image.open(io.BytesIO(result.images[0].data)) as png:
        assert png.format == "PNG" and png.size == fx.text_image().size


def test_decompression_bomb_is_refused() -> None:
    with pytest.raises(InvalidDocumentError, match=r"too large: 400000000 pixels.*limit"):
        _parse(fx.bomb_png())


def test_image_over_the_pixel_limit_is_refused() -> None:
    from lamina.engine import EngineLimits, parse_document

    data = fx.image_bytes(fx.text_image(), "PNG")
    with pytest.raises(InvalidDocumentError, match=r"image is too large: \d+ x \d+ = \d+ pixels"):
        parse_document(data, limits=EngineLimits(max_image_pixels=10_000))


@pytest.mark.parametrize(
    "data", [fx.corrupt_png(), b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"\xff\xd8\xff\xe0garbage"]
)
def test_corrupt_image_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidDocumentError, match=r"Not a valid (png|jpeg) image"):
        _parse(data)


# --- PDF images ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def picture_pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return fx.make_pdf_with_picture(tmp_path_factory.mktemp("pictures")).read_bytes()


def test_embedded_images_are_extracted_with_boxes(picture_pdf: bytes) -> None:
    result = _parse(picture_pdf, output_options={"images_to_save": ["embedded"]})
    assert [i.filename for i in result.images] == ["page_1_image_0.png"]  # the dot is skipped
    image = result.images[0]
    assert image.category == "embedded" and image.page_number == 1
    assert image.bbox == pytest.approx(fx.PICTURE_BOX, abs=0.5)
    with Image.open(io.BytesIO(image.data)) as png:
        assert png.format == "PNG" and png.size == (400, 200)
    items = result.pages[0].items
    assert [i.type for i in items] == ["text", "image", "text"]  # in reading order
    item = items[1]
    assert isinstance(item, ImageItem)
    assert item.url == "page_1_image_0.png" and item.md == "![](page_1_image_0.png)"
    assert item.bbox is not None
    x, y, w, h = fx.PICTURE_BOX
    assert (item.bbox[0].x, item.bbox[0].y, item.bbox[0].w, item.bbox[0].h) == pytest.approx(
        (x, y, w, h), abs=0.5
    )
    assert "![](page_1_image_0.png)" in result.pages[0].markdown
    assert result.stats["images"] == 1


def test_no_image_items_unless_embedded_images_are_saved(picture_pdf: bytes) -> None:
    result = _parse(picture_pdf)
    assert result.images == []
    assert [i.type for i in result.pages[0].items] == ["text", "text"]


def test_screenshots(picture_pdf: bytes) -> None:
    result = _parse(picture_pdf, output_options={"images_to_save": ["screenshot"]})
    assert [(i.filename, i.category, i.bbox) for i in result.images] == [
        ("page_1.png", "screenshot", None)
    ]
    with Image.open(io.BytesIO(result.images[0].data)) as png:
        # A4 at 150 dpi.
        width, height = png.size
        assert width == pytest.approx(595.28 * 150 / 72, abs=1)
        assert height == pytest.approx(841.89 * 150 / 72, abs=1)
    assert [i.type for i in result.pages[0].items] == ["text", "text"]


@needs_ocr
def test_scan_image_is_saved_but_not_an_item(tmp_path: Path) -> None:
    data = fx.make_scanned_pdf(tmp_path).read_bytes()
    result = _parse(data, tier="cost_effective", output_options={"images_to_save": ["embedded"]})
    assert [i.filename for i in result.images] == ["page_1_image_0.png"]
    assert result.images[0].bbox == pytest.approx((0, 0, 595.28, 841.89), abs=0.5)
    assert not any(isinstance(i, ImageItem) for i in result.pages[0].items)
    assert fx.SCAN_TITLE in result.pages[0].text


@needs_ocr
@pytest.mark.parametrize("fail", [False, True])
def test_a_failed_ocr_is_reported_or_fails_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: bool
) -> None:
    """onnxruntime failing mid-run (out of memory, say) cannot be made to happen here, so its
    session's ``run`` is replaced by one that raises: a third-party failure, not our code."""
    import onnxruntime

    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bad allocation")

    data = fx.make_scanned_pdf(tmp_path).read_bytes()
    monkeypatch.setattr(onnxruntime.InferenceSession, "run", out_of_memory)
    conditions = {"job_failure_conditions": {"fail_on_image_ocr_error": fail}}
    result = _parse(data, tier="cost_effective", processing_control=conditions)
    (page,) = result.pages
    if fail:
        assert page.error is not None
        assert page.error.endswith("OCR failed: RuntimeError: bad allocation")
        assert "ocr_errors" not in result.stats
    else:
        assert page.error is None  # the page keeps its (empty) text layer
        assert result.stats["ocr_errors"] == ["page 1: RuntimeError: bad allocation"]


def test_image_options_from_config() -> None:
    opts = images.ImageOptions.from_config(
        _config(
            "cost_effective",
            output_options={"images_to_save": ["screenshot", "layout"]},
            processing_options={"ocr_parameters": {"languages": ["en", "fr"]}},
        )
    )
    assert opts == images.ImageOptions(
        ocr=True, languages=("en", "fr"), embedded=False, screenshot=True
    )
    assert not images.ImageOptions.from_config(_config("fast")).ocr
    assert not images.ImageOptions.from_config(_config("agentic", disable_ocr="true")).ocr
