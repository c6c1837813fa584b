"""End to end through the embedded server: a scanned PDF at ``cost_effective`` is read by OCR
in a worker, its page screenshot is stored, listed in ``images_content_metadata`` and
downloadable through its presigned URL."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

import lamina
from lamina.types import HeadingItem
from tests.fixtures import images as fx

pytest.importorskip("rapidocr_onnxruntime", reason="the 'ocr' extra is not installed")
pytestmark = pytest.mark.slow


def test_scanned_pdf_ocr_and_screenshot_through_the_embedded_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "home"))
    scan = fx.make_scanned_pdf(tmp_path)
    with lamina.Client() as client:
        result = client.parse(
            scan,
            tier="cost_effective",
            expand=["markdown", "items", "metadata", "images_content_metadata"],
            output_options={"images_to_save": ["screenshot"]},
            timeout=120,
        )
        assert result.job.status == "COMPLETED"
        assert result.markdown is not None
        markdown = getattr(result.markdown.pages[0], "markdown", "")
        assert markdown.startswith(f"# {fx.SCAN_TITLE}")
        assert result.items is not None
        items = getattr(result.items.pages[0], "items", [])
        heading = next(i for i in items if isinstance(i, HeadingItem))
        assert heading.bbox and heading.bbox[0].x == pytest.approx(72, abs=8)
        assert result.metadata is not None
        page_meta = result.metadata.pages[0]
        assert page_meta.original_orientation_angle == 0
        assert page_meta.confidence is not None and page_meta.confidence > 0.8

        images = result.images_content_metadata
        assert images is not None and images.total_count == 1
        shot = images.images[0]
        assert (shot.filename, shot.category, shot.page_number) == ("page_1.png", "screenshot", 1)
        assert shot.content_type == "image/png" and shot.presigned_url
        data = client.download(shot.presigned_url)
    assert len(data) == shot.size_bytes
    with Image.open(io.BytesIO(data)) as png:
        assert png.format == "PNG"
        assert png.width == pytest.approx(595.28 * 150 / 72, abs=1)
