"""The unmodified classic ``LlamaParse`` class (``llama-cloud-services`` 0.6.94, and the
``llama-index-readers-llama-parse`` reader on top) against a real ``lamina serve``.

The client runs in its own venv (its pins clash with ours: see ``requirements.txt``), driven
by ``driver.py``, once for all scenarios; each test checks one scenario's Documents against
the same server's Parse v2 result for the same document (``/api/v2/parse``), so "right" means
what our engine produced, page for page, under the classic names and shapes.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.business import INVOICE, make_invoice_pdf
from tests.fixtures.documents import make_corrupt_pdf, make_headings_lists_pdf, make_multipage_pdf
from tests.fixtures.images import make_pdf_with_picture
from tests.fixtures.server import LiveServer, serve
from tests.fixtures.venvs import venv_python

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
KEY = "classic-key"
CLASSIC_SEPARATOR = "\n---\n"
# What the classic defaults mean in Parse v2 (save_images=True → embedded images; screenshots
# do not change the pages' content).
V2_EQUIVALENT = {
    "tier": "cost_effective",
    "output_options": {"images_to_save": ["embedded", "screenshot"]},
}


@pytest.fixture(scope="module")
def docs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("classic-docs")
    make_multipage_pdf(folder, pages=3).rename(folder / "multipage.pdf")
    make_headings_lists_pdf(folder).rename(folder / "headings.pdf")
    make_pdf_with_picture(folder).rename(folder / "picture.pdf")
    make_corrupt_pdf(folder).rename(folder / "corrupt.pdf")
    make_invoice_pdf(folder)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = serve(
        tmp_path_factory.mktemp("classic") / "data",
        "--workers",
        "2",
        LAMINA_API_KEYS=f"{KEY}:proj-classic",
        LAMINA_POLL_INTERVAL_SECONDS="0.5",
    )
    yield live
    live.stop()


@pytest.fixture(scope="module")
def results(server: LiveServer, docs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    python = venv_python(HERE / "requirements.txt", "classic")
    out = tmp_path_factory.mktemp("classic-out") / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLAMA_CLOUD_", "LAMINA_"))}
    subprocess.run(
        [str(python), str(HERE / "driver.py"), server.base_url, KEY, str(docs_dir), str(out)],
        check=True,
        env=env,
        timeout=600,
    )
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def v2(server: LiveServer, docs_dir: Path) -> Iterator[Any]:
    """The server's own Parse v2 result of a document: ``v2("multipage.pdf")`` → pages."""
    client = httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60
    )
    cache: dict[str, Any] = {}

    def get(name: str) -> Any:
        if name not in cache:
            job = client.post(
                "/api/v2/parse/upload",
                files={"file": (name, (docs_dir / name).read_bytes(), "application/pdf")},
                data={"configuration": json.dumps(V2_EQUIVALENT)},
            ).json()
            for _ in range(600):
                body = client.get(
                    f"/api/v2/parse/{job['id']}", params={"expand": "markdown,text"}
                ).json()
                if body["job"]["status"] not in ("PENDING", "RUNNING"):
                    break
                time.sleep(0.1)
            assert body["job"]["status"] == "COMPLETED", body
            cache[name] = body
        return cache[name]

    yield get
    client.close()


def ok(results: Any, name: str) -> Any:
    entry = results[name]
    assert entry["ok"], f"{name} raised {entry['type']}: {entry['error']}\n{entry['traceback']}"
    return entry["value"]


def page_markdown(v2_body: Any) -> list[str]:
    return [p["markdown"] for p in v2_body["markdown"]["pages"]]


def page_text(v2_body: Any) -> list[str]:
    return [p["text"] for p in v2_body["text"]["pages"]]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_markdown_split_by_page(results: Any, v2: Any, mode: str) -> None:
    documents = ok(results, f"markdown_split_{mode}")
    assert [d["text"] for d in documents] == page_markdown(v2("multipage.pdf"))
    assert "Section 2" in documents[1]["text"]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_markdown_whole_document(results: Any, v2: Any, mode: str) -> None:
    documents = ok(results, f"markdown_whole_{mode}")
    assert len(documents) == 1
    assert documents[0]["text"] == CLASSIC_SEPARATOR.join(page_markdown(v2("multipage.pdf")))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_text_modes(results: Any, v2: Any, mode: str) -> None:
    pages = page_text(v2("multipage.pdf"))
    assert [d["text"] for d in ok(results, f"text_split_{mode}")] == pages
    whole = ok(results, f"text_whole_{mode}")
    assert [d["text"] for d in whole] == [CLASSIC_SEPARATOR.join(pages)]


def test_bytes_and_lists_of_files(results: Any, v2: Any) -> None:
    assert [d["text"] for d in ok(results, "bytes_input")] == page_markdown(v2("multipage.pdf"))
    whole = [d["text"] for d in ok(results, "file_list")]
    assert whole == [
        CLASSIC_SEPARATOR.join(page_markdown(v2("multipage.pdf"))),
        CLASSIC_SEPARATOR.join(page_markdown(v2("headings.pdf"))),
    ]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_json_result_pages_items_images(results: Any, v2: Any, mode: str) -> None:
    (result,) = ok(results, f"json_{mode}")
    assert result["job_id"].startswith("pjb-")
    assert result["job_metadata"]["job_pages"] == 1
    (page,) = result["pages"]
    expected = v2("picture.pdf")
    assert page["page"] == 1
    assert page["md"] == page_markdown(expected)[0]
    assert page["text"] == page_text(expected)[0]
    assert page["status"] == "OK" and page["width"] > 0 and page["height"] > 0
    values = [item["value"] for item in page["items"]]
    assert "Figure text above the picture." in values
    assert all({"x", "y", "w", "h"} <= set(item["bBox"]) for item in page["items"])
    names = {image["name"]: image for image in page["images"]}
    assert "page_1.jpg" in names  # take_screenshot, under the classic screenshot name
    assert names["page_1.jpg"]["type"] == "full_page_screenshot"
    embedded = [i for n, i in names.items() if n != "page_1.jpg"]
    assert len(embedded) == 1 and embedded[0]["original_width"] == 400


def test_get_images_downloads_each_image(results: Any) -> None:
    images = ok(results, "images")
    assert {i["name"] for i in images} >= {"page_1.jpg"}
    assert len(images) == 2
    for image in images:
        data = Path(image["path"]).read_bytes()
        assert image["size"] > 100
        if image["name"].endswith(".jpg"):
            assert data[:3] == b"\xff\xd8\xff"  # served as JPEG, as the name says
        else:
            assert data[:8] == b"\x89PNG\r\n\x1a\n"


def test_job_result_object(results: Any, v2: Any) -> None:
    value = ok(results, "job_result")
    expected = v2("picture.pdf")
    assert [d["text"] for d in value["markdown_pages"]] == page_markdown(expected)
    assert value["markdown_pages"][0]["metadata"]["page_number"] == 1
    assert [d["text"] for d in value["text_pages"]] == page_text(expected)
    assert value["raw_markdown"] == page_markdown(expected)[0]
    assert value["raw_text"] == page_text(expected)[0]
    assert value["object_images"] == 1 and value["screenshots"] == 1
    assert value["again_pages"] == 1


def test_target_pages_and_separator(results: Any, v2: Any) -> None:
    (document,) = ok(results, "options")  # split on the custom separator does not apply
    pages = page_markdown(v2("multipage.pdf"))
    assert document["text"] == pages[0] + "\n<<3>>\n" + pages[2]  # 0-based 0,2 → pages 1, 3


def test_partition_pages(results: Any, v2: Any) -> None:
    """Two jobs (target pages 0-1 and 2-3, the second clamped to the last page), joined."""
    (document,) = ok(results, "partitioned")
    assert document["text"] == CLASSIC_SEPARATOR.join(page_markdown(v2("multipage.pdf")))


def test_refused_option_raises_with_the_reason(results: Any) -> None:
    entry = results["refused_raise"]
    assert not entry["ok"]
    assert "parsing_instruction" in entry["error"] and "cannot honour" in entry["error"]


def test_refused_option_with_client_default_ignore_errors(results: Any) -> None:
    """``ignore_errors=True`` is the client's default: it catches every exception itself and
    returns ``[]`` after printing our message. Nothing a server can send changes that; the
    message reaches the user only through the printout, so callers should set
    ``ignore_errors=False`` (this records the client's behaviour, it is not ours)."""
    assert ok(results, "refused_default") == []


def test_failed_job_raises_job_failed(results: Any) -> None:
    entry = results["failed_raise"]
    assert not entry["ok"]
    assert entry["type"] == "JobFailedException"
    assert "ERROR" in entry["error"] and "Error message:" in entry["error"]
    assert "No error message found" not in entry["error"]


def test_llama_index_reader_package(results: Any, v2: Any) -> None:
    documents = ok(results, "reader_package")
    assert [d["text"] for d in documents] == page_markdown(v2("headings.pdf"))


# --- LlamaExtract (the classic extraction API) -----------------------------------------------


def test_extraction_agent_lifecycle(results: Any) -> None:
    value = ok(results, "extract_agent")
    assert value["data"] == {"invoice_number": INVOICE["invoice_number"], "total": INVOICE["total"]}
    assert value["status"] == "SUCCESS" and value["job_status"] == "SUCCESS"
    assert value["has_metadata"]  # confidence_scores asked for
    assert value["agent_id_matches"] and value["agents"] == ["invoices"]
    assert value["runs_total"] == 1 and value["runs_after_delete"] == 0
    assert value["file_name"] == "invoice.pdf"
    assert value["agents_after_delete"] == []


def test_stateless_extraction_from_file_and_text(results: Any) -> None:
    value = ok(results, "extract_stateless")
    assert value["data"] == {"invoice_number": INVOICE["invoice_number"], "total": INVOICE["total"]}
    assert value["text_data"] == {"invoice_number": "INV-77", "total": 12.0}


def test_model_mode_without_a_model_raises_with_the_way_out(results: Any) -> None:
    entry = results["extract_default_mode"]
    assert not entry["ok"]
    assert "LAMINA_MODEL_URL" in entry["error"]
