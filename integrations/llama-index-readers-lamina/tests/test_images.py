"""LaminaReader(images=...): the images a parse job saved, as LlamaIndex ``ImageDocument``s."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from llama_index.core.schema import Document, ImageDocument, MetadataMode
from llama_index.readers.lamina import LaminaReader
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

import lamina
from lamina.ingest import JobOptions, image_kinds, with_images

PAGE = (595.28, 841.89)
# reportlab places from the bottom-left; Lamina boxes are top-left: y = 841.89 - 500 - 96.
PLACED = {"x": 100.0, "y": 245.89, "w": 128.0, "h": 96.0}


def _png() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    for x in range(64):
        image.putpixel((x, x % 48), (0, 0, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def picture_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two pages; page 1 has a 64x48 PNG drawn at 128x96 points."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=PAGE)
    pdf.drawString(72, 800, "Page one has a picture.")
    pdf.drawImage(ImageReader(io.BytesIO(_png())), 100, 500, width=128, height=96)
    pdf.showPage()
    pdf.drawString(72, 800, "Page two has none.")
    pdf.showPage()
    pdf.save()
    path = tmp_path_factory.mktemp("images") / "picture.pdf"
    path.write_bytes(out.getvalue())
    return path


def reader(client: lamina.Client, **kwargs: object) -> LaminaReader:
    return LaminaReader(client=client, show_progress=False, **kwargs)


def images_of(docs: list[Document]) -> list[ImageDocument]:
    return [d for d in docs if isinstance(d, ImageDocument)]


def decoded(doc: ImageDocument) -> Image.Image:
    image = Image.open(doc.resolve_image())
    image.load()
    return image


def test_embedded_image_becomes_an_image_document(client, picture_pdf) -> None:
    docs = reader(client, images="embedded").load_data(picture_pdf)
    pages = [d for d in docs if not isinstance(d, ImageDocument)]
    images = images_of(docs)
    assert [d.metadata["page_number"] for d in pages] == [1, 2]
    assert docs[: len(pages)] == pages  # images come after the pages of their file
    assert len(images) == 1
    doc = images[0]
    meta = doc.metadata
    assert meta["page_number"] == 1
    assert meta["file_name"] == "picture.pdf"
    assert meta["image_category"] == "embedded"
    assert meta["image_file_name"].endswith(".png")
    assert "job_id" not in meta
    assert doc.image_mimetype == "image/png"
    [box] = json.loads(meta["bbox"])
    assert box == pytest.approx(PLACED, abs=1)
    assert box["x"] >= 0 and box["x"] + box["w"] <= PAGE[0]
    assert box["y"] >= 0 and box["y"] + box["h"] <= PAGE[1]
    png = decoded(doc)
    assert (png.format, png.size) == ("PNG", (64, 48))
    assert png.convert("RGB").getpixel((10, 30)) == (200, 30, 30)
    for value in meta.values():
        assert isinstance(value, str | int | float | bool)


def test_image_bulky_keys_are_kept_out_of_embedding_and_llm_text(client, picture_pdf) -> None:
    [doc] = images_of(reader(client, images="embedded").load_data(picture_pdf))
    for mode in (MetadataMode.EMBED, MetadataMode.LLM):
        content = doc.get_metadata_str(mode)
        assert "file_name: picture.pdf" in content
        assert "page_number: 1" in content
        for key in ("bbox", "job_id", "file_path", "image_file_name", "image_size_bytes"):
            assert f"{key}:" not in content


def test_screenshots_one_per_page(client, picture_pdf) -> None:
    docs = reader(client, images="screenshot", granularity="document").load_data(picture_pdf)
    assert not isinstance(docs[0], ImageDocument)
    shots = images_of(docs)
    assert [d.metadata["page_number"] for d in shots] == [1, 2]
    assert {d.metadata["image_category"] for d in shots} == {"screenshot"}
    for shot in shots:
        assert "bbox" not in shot.metadata
        png = decoded(shot)
        assert png.format == "PNG"
        assert png.width == pytest.approx(PAGE[0] * 150 / 72, abs=2)


def test_both_kinds_and_ids_stable_across_loads(client, picture_pdf) -> None:
    load = reader(client, images=["embedded", "screenshot"])
    first, second = load.load_data(picture_pdf), load.load_data(picture_pdf)
    ids = [d.id_ for d in first]
    assert ids == [d.id_ for d in second]
    assert [d.hash for d in first] == [d.hash for d in second]  # nothing volatile inside
    assert len(set(ids)) == len(ids) == 2 + 1 + 2
    categories = sorted(d.metadata["image_category"] for d in images_of(first))
    assert categories == ["embedded", "screenshot", "screenshot"]


def test_default_yields_no_image_documents(client, picture_pdf) -> None:
    docs = reader(client).load_data(picture_pdf)
    assert len(docs) == 2 and not images_of(docs)


async def test_async_images_match_sync(client, async_client, picture_pdf) -> None:
    sync_docs = reader(client, images="embedded").load_data(picture_pdf)
    async_docs = await LaminaReader(
        async_client=async_client, images="embedded", show_progress=False
    ).aload_data(picture_pdf)
    assert [d.id_ for d in async_docs] == [d.id_ for d in sync_docs]
    [image] = images_of(async_docs)
    assert image.image == images_of(sync_docs)[0].image
    assert decoded(image).size == (64, 48)


def test_unknown_image_kind_is_rejected() -> None:
    with pytest.raises(ValueError):
        LaminaReader(images="layout", show_progress=False)
    with pytest.raises(ValueError, match="images must be one of"):
        image_kinds(["embedded", "thumbnails"])


def test_with_images_keeps_other_output_options() -> None:
    options = JobOptions(
        parse_options={"output_options": {"images_to_save": ["layout"], "save_output_pdf": True}}
    )
    asked = with_images(options, ("embedded",))
    assert asked.expand[-1] == "images_content_metadata"
    assert asked.parse_options["output_options"] == {
        "images_to_save": ["layout", "embedded"],
        "save_output_pdf": True,
    }
    assert with_images(options, ()) is options


def test_served_images_match_embedded(client, served_url, picture_pdf) -> None:
    served = LaminaReader(base_url=served_url, images="embedded", show_progress=False)
    served_docs = served.load_data(picture_pdf)
    embedded_docs = reader(client, images="embedded").load_data(picture_pdf)
    assert [d.id_ for d in served_docs] == [d.id_ for d in embedded_docs]
    [image] = images_of(served_docs)
    assert image.image == images_of(embedded_docs)[0].image


def test_no_pdfium_bitmap_warnings_on_the_console(client, picture_pdf, caplog) -> None:
    """pypdfium2 logs "Explicitly closing <PdfBitmap ...>" for every bitmap closed carelessly."""
    with caplog.at_level(logging.DEBUG):
        docs = reader(client, images=["embedded", "screenshot"]).load_data(picture_pdf)
    assert len(images_of(docs)) == 3
    assert not [r for r in caplog.records if "PdfBitmap" in r.getMessage()]
