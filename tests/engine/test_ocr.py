"""OCR of scanned pages on real generated scans: text, boxes, orientation, tiers, options.

Scans are text drawn into an image with a TrueType font and embedded in a PDF with no text
layer (``tests.fixtures.images``). Every OCR run takes about a second, so results are shared
by module-scoped fixtures.
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from lamina._install import install_command
from lamina.engine import ParseResult, parse_document
from lamina.types import HeadingItem, ParseConfiguration, TextItem
from tests.fixtures import images as fx

pytest.importorskip("rapidocr_onnxruntime", reason="the 'ocr' extra is not installed")

from lamina.engine import ocr

BENCH = Path("/work/shared/bench-data/ocr")


def _parse(path: Path, tier: object = "cost_effective", **options: object) -> ParseResult:
    config = ParseConfiguration.model_validate({"tier": tier, **options})
    return parse_document(path.read_bytes(), filename=path.name, config=config)


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, " ".join(a.split()), " ".join(b.split())).ratio()


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scans")


@pytest.fixture(scope="module")
def upright(scans: Path) -> ParseResult:
    return _parse(fx.make_scanned_pdf(scans, angle=0))


def test_scanned_page_is_read_into_items(upright: ParseResult) -> None:
    page = upright.pages[0]
    assert page.ok
    heading = next(i for i in page.items if isinstance(i, HeadingItem))
    assert heading.value == fx.SCAN_TITLE and heading.level == 1
    paragraph = next(i for i in page.items if isinstance(i, TextItem))
    assert _similar(paragraph.value, fx.SCAN_PARAGRAPH) > 0.95
    assert page.markdown.startswith(f"# {fx.SCAN_TITLE}\n\n")
    assert _similar(page.text, f"{fx.SCAN_TITLE}\n\n" + "\n".join(fx.SCAN_LINES)) > 0.95
    assert upright.stats["ocr_pages"] == 1 and upright.stats["ocr_seconds"] > 0


def test_ocr_boxes_are_in_page_points(upright: ParseResult) -> None:
    page = upright.pages[0]
    assert (page.page_width, page.page_height) == pytest.approx((595.28, 841.89), abs=0.5)
    heading = next(i for i in page.items if isinstance(i, HeadingItem))
    assert heading.bbox is not None
    box = heading.bbox[0]
    # Drawn at 1 inch from the top left, 20 pt: the box starts near (72, 72).
    assert box.x == pytest.approx(72, abs=6) and box.y == pytest.approx(74, abs=8)
    assert 12 < box.h < 32 and 150 < box.w < 300
    paragraph = next(i for i in page.items if isinstance(i, TextItem))
    assert paragraph.bbox is not None and len(paragraph.bbox) == 2  # one box per line
    first, second = paragraph.bbox
    assert first.y < second.y and abs(first.x - second.x) < 4
    assert paragraph.value[first.start_index : first.end_index].startswith("The inspection")


def test_page_confidence_and_orientation(upright: ParseResult) -> None:
    metadata = upright.pages[0].metadata
    assert metadata is not None
    assert metadata.original_orientation_angle == 0
    assert metadata.confidence is not None and 0.8 < metadata.confidence <= 1.0


def test_fast_tier_never_ocrs(scans: Path) -> None:
    result = _parse(fx.make_scanned_pdf(scans, angle=0, name="fast.pdf"), tier="fast")
    page = result.pages[0]
    assert page.text == "" and page.items == []
    assert page.metadata is not None and page.metadata.confidence == 0.0
    assert "ocr_pages" not in result.stats


@pytest.mark.parametrize(
    "options",
    [{"disable_ocr": True}, {"processing_options": {"disable_ocr": True}}],
    ids=["top-level", "processing_options"],
)
def test_disable_ocr(scans: Path, options: dict[str, object]) -> None:
    result = _parse(fx.make_scanned_pdf(scans, angle=0, name="no-ocr.pdf"), **options)
    assert result.pages[0].text == ""


@pytest.mark.parametrize("angle", [90, pytest.param(180, marks=pytest.mark.heavy)])
def test_rotated_scan_is_read_upright(scans: Path, angle: int) -> None:
    result = _parse(fx.make_scanned_pdf(scans, angle=angle))
    page = result.pages[0]
    assert page.metadata is not None and page.metadata.original_orientation_angle == angle
    # The upright page: A4 portrait, whichever way the scan was turned.
    assert (page.page_width, page.page_height) == pytest.approx((595.28, 841.89), abs=0.5)
    assert page.markdown.startswith(f"# {fx.SCAN_TITLE}")
    assert _similar(page.markdown, f"# {fx.SCAN_TITLE}\n\n{fx.SCAN_PARAGRAPH}") > 0.95
    heading = next(i for i in page.items if isinstance(i, HeadingItem))
    assert heading.bbox is not None
    assert heading.bbox[0].x == pytest.approx(72, abs=8)
    assert heading.bbox[0].y == pytest.approx(74, abs=10)


def test_ocr_image_takes_arrays_and_reports_line_scores() -> None:
    image = fx.text_image(size_px=40)
    page = ocr.ocr_image(np.asarray(image), points_per_pixel=0.5)
    assert [line.text for line in page.lines] == [fx.IMAGE_TEXT]
    line = page.lines[0]
    assert isinstance(line, ocr.OcrLine) and 0.8 < line.confidence <= 1.0
    # 40 px margins at 0.5 pt per pixel: the line starts about 20 pt in.
    assert line.x0 == pytest.approx(20, abs=4)
    assert page.width == pytest.approx(image.width / 2, abs=0.5)


def test_unsupported_languages_are_recorded(tmp_path: Path) -> None:
    assert ocr.unsupported_languages(["en", "ZH", "fr", "ar"]) == ["fr", "ar"]
    data = fx.image_bytes(fx.text_image(), "PNG")
    config = ParseConfiguration.model_validate(
        {"tier": "cost_effective", "processing_options": {"ocr_parameters": {"languages": ["de"]}}}
    )
    result = parse_document(data, config=config)
    assert result.stats["ocr_unsupported_languages"] == ["de"]
    assert fx.IMAGE_TEXT in result.pages[0].text  # read anyway


def test_missing_extra_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "_ENGINE", None)
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)  # import fails
    with pytest.raises(ocr.OcrUnavailableError, match=re.escape(install_command("ocr"))):
        ocr.get_engine()
    data = fx.image_bytes(fx.text_image(), "PNG")
    with pytest.raises(ocr.OcrUnavailableError, match="OCR needs the 'ocr' extra"):
        parse_document(data, config=ParseConfiguration(tier="cost_effective"))


@pytest.mark.heavy
@pytest.mark.skipif(not BENCH.is_dir(), reason="bench data not available")
def test_bench_scans(capsys: pytest.CaptureFixture[str]) -> None:
    """The shared OCR bench: one sentence scanned upright and turned 90/180/270."""
    report = []
    for path in sorted(BENCH.glob("*.pdf")):
        expected = path.with_name(path.stem + ".gt.md").read_text(encoding="utf-8")
        page = _parse(path).pages[0]
        similarity = _similar(page.text, expected)
        angle = page.metadata.original_orientation_angle if page.metadata else None
        report.append((path.name, similarity, angle))
        assert similarity > 0.9, (path.name, page.text)
    with capsys.disabled():
        for name, similarity, angle in report:
            print(f"\n  {name}: similarity {similarity:.3f}, orientation {angle}", end="")


FORK_AFTER_OCR = """
import os
import sys

from PIL import Image, ImageDraw

from lamina.engine import ocr

image = Image.new("RGB", (400, 80), "white")
ImageDraw.Draw(image).text((10, 30), "Hello fork", fill="black")
ocr.ocr_image(image, 0.36)  # the recogniser is loaded: ONNX sessions with thread pools
pid = os.fork()
if pid == 0:  # the child reads with a recogniser of its own, then exits as fork pools do
    status = 0 if ocr.ocr_image(image, 0.36).lines else 3
    sys.stdout.flush()
    os._exit(status)
_, status = os.waitpid(pid, 0)
print("child exit status", os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_process_that_used_ocr_can_fork(tmp_path: Path) -> None:
    """The child once hung in the fork hook itself: dropping the parent's recogniser there
    destroyed ONNX sessions whose thread pools were not copied."""
    import subprocess

    script = tmp_path / "fork_after_ocr.py"
    script.write_text(FORK_AFTER_OCR)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    assert "child exit status 0" in done.stdout
