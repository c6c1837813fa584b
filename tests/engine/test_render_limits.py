"""Render bombs (issue #10, item 5): a tiny PDF with a huge page makes every render (OCR,
screenshots, embedded images) ask for more pixels than the image limit. Each render is scaled
down to fit the limit (or the page fails with a message); memory stays bounded."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from lamina.engine import parse_document
from lamina.engine.limits import EngineLimits, LimitExceededError, applied, render_scale
from lamina.types import ParseConfiguration

REPO = Path(__file__).resolve().parents[2]
LIMIT = 4_000_000


def bomb_pdf(side_pt: float = 5000, image_px: tuple[int, int] = (16, 16)) -> bytes:
    """One ``side_pt`` x ``side_pt`` page covered by a small image stretched over it (so the
    page has no text layer and is OCR'd)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(side_pt, side_pt), invariant=1)
    image = Image.new("RGB", image_px, "white")
    pdf.drawImage(ImageReader(image), 0, 0, width=side_pt, height=side_pt)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_render_scale_fits_the_pixel_limit() -> None:
    assert render_scale(612, 792, 150, max_pixels=LIMIT) == pytest.approx(150 / 72)
    scale = render_scale(5000, 5000, 200, max_pixels=LIMIT)
    assert round(5000 * scale) ** 2 <= LIMIT
    assert scale < 200 / 72
    with applied(EngineLimits(max_image_pixels=LIMIT)):
        assert render_scale(14400, 14400, 200) * 14400 <= 2000
    with pytest.raises(LimitExceededError, match="pixel"):
        render_scale(14400, 14400, 200, max_pixels=1000)


def test_screenshots_and_embedded_images_stay_within_the_limit() -> None:
    config = ParseConfiguration.model_validate(
        {
            "tier": "fast",
            "output_options": {"images_to_save": ["screenshot", "embedded"]},
        }
    )
    # A wide strip of pixels stretched over a square page renders as a square of its length.
    data = bomb_pdf(5000, (4000, 30))
    result = parse_document(data, config=config, limits=EngineLimits(max_image_pixels=LIMIT))
    assert {image.category for image in result.images} == {"screenshot", "embedded"}
    for image in result.images:
        width, height = Image.open(io.BytesIO(image.data)).size
        assert width * height <= LIMIT, (image.filename, width, height)


_CHILD = """
import json, resource, sys
from lamina.engine import parse_document
from lamina.engine.limits import EngineLimits
from lamina.types import ParseConfiguration
sys.path.insert(0, %r)
from test_render_limits import bomb_pdf
config = ParseConfiguration.model_validate({"tier": "cost_effective"})
limits = EngineLimits(max_image_pixels=%d)
report = {}
for name, side in (("normal", 600), ("bomb", 5000)):
    result = parse_document(bomb_pdf(side), config=config, limits=limits)
    report[name] = {
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "errors": [p.error for p in result.pages],
        "ocr_pages": result.stats.get("ocr_pages"),
    }
print(json.dumps(report))
"""


@pytest.mark.slow
def test_ocr_of_a_huge_page_stays_within_the_pixel_limit() -> None:
    """A 5000 x 5000 pt page OCR'd at 200 dpi is 193 megapixels (about 0.8 GB for the bitmap
    alone, 1.4 GB more peak memory than a normal page before the limit applied to renders).
    With a 4 MP limit the render is scaled down: the huge page costs about what a normal page
    does (the OCR models themselves take most of the process's memory)."""
    pytest.importorskip("rapidocr_onnxruntime")
    child = subprocess.run(
        [sys.executable, "-c", _CHILD % (str(Path(__file__).parent), LIMIT)],
        capture_output=True,
        check=True,
        timeout=300,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
    )
    report = json.loads(child.stdout.decode().strip().splitlines()[-1])
    for run in report.values():
        assert run["ocr_pages"] == 1 and run["errors"] == [None], report
    assert report["bomb"]["rss_mb"] - report["normal"]["rss_mb"] < 300, report
