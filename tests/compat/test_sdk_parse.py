"""Parse v2 through the official SDK: create, upload-and-parse, get with every expand value the
SDK accepts, list with pagination and status filter, cancel, delete, list_versions."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from llama_cloud import BadRequestError, LlamaCloud, NotFoundError, UnprocessableEntityError
from llama_cloud.types import (
    ParsingCancelResponse,
    ParsingCreateResponse,
    ParsingDeleteResponse,
    ParsingGetResponse,
    ParsingListResponse,
    ParsingListVersionsResponse,
)

from tests.compat.conftest import PROJECT, conforms, present
from tests.fixtures.documents import SIMPLE_PARAGRAPH, SIMPLE_TITLE
from tests.fixtures.images import make_pdf_with_picture

pytestmark = pytest.mark.slow

CONTENT_EXPANDS = {  # expand value → key in result_content_metadata
    "text_content_metadata": "text",
    "markdown_content_metadata": "markdown",
    "items_content_metadata": "items",
    "metadata_content_metadata": "metadata",
}
ABSENT_CONTENT_EXPANDS = {  # outputs this server does not produce: exists is false
    "forms_content_metadata": "forms",
    "raw_words_content_metadata": "raw_words",
    "xlsx_content_metadata": "xlsx",
    "output_pdf_content_metadata": "outputPDF",
}


def _get(sdk: LlamaCloud, job_id: str, *expand: str, **params: Any) -> ParsingGetResponse:
    raw = sdk.parsing.with_raw_response.get(job_id, expand=list(expand), **params).json()
    response = conforms(ParsingGetResponse, raw)
    present(response.job, "id", "project_id", "status", "created_at", "updated_at", "tier")
    return response


@pytest.fixture(scope="module")
def done_job(sdk: LlamaCloud, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A completed job over a PDF with a picture, saving embedded images and screenshots."""
    pdf = make_pdf_with_picture(tmp_path_factory.mktemp("pic")).read_bytes()
    file = sdk.files.create(file=("picture.pdf", io.BytesIO(pdf)), purpose="parse")
    raw = sdk.parsing.with_raw_response.create(
        tier="cost_effective",
        version="latest",
        file_id=file.id,
        output_options={"images_to_save": ["embedded", "screenshot"]},
    ).json()
    job = conforms(ParsingCreateResponse, raw)
    present(job, "id", "project_id", "status", "created_at", "updated_at", "tier", "name")
    assert job.project_id == PROJECT and job.status in ("PENDING", "RUNNING")
    done = sdk.parsing.wait_for_completion(job.id, polling_interval=0.2, timeout=60)
    assert done.status == "COMPLETED", done.error_message
    return job.id


def test_get_markdown_text_items_metadata(sdk: LlamaCloud, done_job: str) -> None:
    result = _get(sdk, done_job, "markdown", "text", "items", "metadata")
    assert result.markdown and result.text and result.items and result.metadata
    page = result.markdown.pages[0]
    present(page, "page_number", "markdown", "success")
    present(result.text.pages[0], "page_number", "text")
    items_page = result.items.pages[0]
    present(items_page, "page_number", "page_width", "page_height", "items", "success")
    present(result.metadata.pages[0], "page_number", "confidence")
    assert result.text_full is None and result.markdown_full is None  # only what was asked


@pytest.mark.parametrize("expand", ["text_full", "markdown_full"])
def test_get_full_text(sdk: LlamaCloud, done_job: str, expand: str) -> None:
    result = _get(sdk, done_job, expand)
    assert getattr(result, expand)


@pytest.mark.parametrize("expand", ["job_metadata", "raw_parameters"])
def test_get_job_and_raw_parameters(sdk: LlamaCloud, done_job: str, expand: str) -> None:
    value = getattr(_get(sdk, done_job, expand), expand)
    assert isinstance(value, dict) and value


def test_sdk_only_expands_are_accepted(sdk: LlamaCloud, done_job: str) -> None:
    result = _get(sdk, done_job, "usage", "forms")
    assert result.job.id == done_job
    assert result.job.usage is not None and result.job.usage.credits == 0.0  # nothing billed
    assert result.forms is None  # forms are not detected (documented), never invented


@pytest.mark.parametrize("expand", sorted(CONTENT_EXPANDS))
def test_get_content_metadata(sdk: LlamaCloud, done_job: str, expand: str) -> None:
    result = _get(sdk, done_job, expand)
    assert result.result_content_metadata is not None
    meta = result.result_content_metadata[CONTENT_EXPANDS[expand]]
    present(meta, "size_bytes", "exists", "presigned_url")
    assert meta.exists and meta.size_bytes > 0 and meta.presigned_url
    download = httpx.get(meta.presigned_url)
    assert download.status_code == 200 and len(download.content) == meta.size_bytes


@pytest.mark.parametrize("expand", sorted(ABSENT_CONTENT_EXPANDS))
def test_get_content_metadata_not_produced(sdk: LlamaCloud, done_job: str, expand: str) -> None:
    result = _get(sdk, done_job, expand)
    assert result.result_content_metadata is not None
    meta = result.result_content_metadata[ABSENT_CONTENT_EXPANDS[expand]]
    assert meta.exists is False and meta.size_bytes == 0


def test_get_images_content_metadata(sdk: LlamaCloud, done_job: str) -> None:
    images = _get(sdk, done_job, "images_content_metadata").images_content_metadata
    assert images is not None and images.total_count == len(images.images) >= 2
    categories = {i.category for i in images.images}
    assert {"embedded", "screenshot"} <= categories
    for image in images.images:
        present(image, "filename", "index", "content_type", "presigned_url", "category")
        assert httpx.get(image.presigned_url).content[:8] == b"\x89PNG\r\n\x1a\n"  # type: ignore[arg-type]
    wanted = images.images[0].filename
    only = _get(sdk, done_job, "images_content_metadata", image_filenames=wanted)
    assert only.images_content_metadata is not None
    assert [i.filename for i in only.images_content_metadata.images] == [wanted]


def test_unknown_expand_is_422(sdk: LlamaCloud, done_job: str) -> None:
    with pytest.raises(UnprocessableEntityError):
        sdk.parsing.get(done_job, expand=["everything"])


def test_upload_parse_list_cancel_delete(
    sdk: LlamaCloud, other_sdk: LlamaCloud, docs: dict[str, bytes], done_job: str
) -> None:
    parsed = sdk.parsing.parse(
        tier="fast",
        version="latest",
        upload_file=("report.pdf", io.BytesIO(docs["simple"]), "application/pdf"),
        expand=["markdown", "items", "text_full"],
        polling_interval=0.2,
    )
    assert parsed.markdown is not None and SIMPLE_TITLE in parsed.markdown.pages[0].markdown  # type: ignore[union-attr]
    values = [getattr(i, "value", "") for i in parsed.items.pages[0].items]  # type: ignore[union-attr]
    assert SIMPLE_PARAGRAPH in values and parsed.text_full

    # A job that stays PENDING long enough to cancel: a source that answers slowly is not
    # needed, cancelling right after creation races the worker, so retry until one is caught.
    cancelled = None
    for _ in range(10):
        job = sdk.parsing.create(
            tier="fast", version="latest", source_url="http://localhost:9/x.pdf"
        )
        try:
            raw = sdk.parsing.with_raw_response.cancel(job.id).json()
        except BadRequestError:
            continue  # already FAILED (loopback is refused by the outbound policy): try again
        cancelled = conforms(ParsingCancelResponse, raw)
        break
    assert cancelled is not None and cancelled.status == "CANCELLED"
    with pytest.raises(BadRequestError):  # a finished job cannot be cancelled
        sdk.parsing.cancel(done_job)

    page = sdk.parsing.with_raw_response.list(page_size=1).json()
    assert isinstance(page, dict) and page["next_page_token"] and page["total_size"] >= 3
    conforms(ParsingListResponse, page["items"][0])
    everything = list(sdk.parsing.list(page_size=1))  # follows next_page_token
    assert len({j.id for j in everything}) == page["total_size"]
    completed = list(sdk.parsing.list(status="COMPLETED"))
    assert completed and all(j.status == "COMPLETED" for j in completed)
    assert done_job in {j.id for j in completed}
    assert [j.id for j in sdk.parsing.list(status="CANCELLED")] == [cancelled.id]
    for item in everything:
        present(item, "id", "project_id", "status", "created_at")

    with pytest.raises(NotFoundError):
        other_sdk.parsing.get(done_job)
    assert list(other_sdk.parsing.list()) == []

    deleted = conforms(
        ParsingDeleteResponse, sdk.parsing.with_raw_response.delete(cancelled.id).json()
    )
    assert deleted.id == cancelled.id
    with pytest.raises(NotFoundError):
        sdk.parsing.get(cancelled.id)


def test_list_versions(sdk: LlamaCloud) -> None:
    # The SDK types each tier's versions as a closed Literal of LlamaCloud's release dates: the
    # server advertises exactly those (all mapped to our engine), so strict validation passes.
    raw = sdk.parsing.with_raw_response.list_versions()
    body = raw.json()
    versions = conforms(ParsingListVersionsResponse, body)
    present(versions.latest, "fast", "cost_effective", "agentic", "agentic_plus")
    for tier in ("fast", "cost_effective", "agentic", "agentic_plus"):
        assert body[tier] and all(isinstance(v, str) for v in body[tier])
        assert body["latest"][tier] in body[tier]


def test_create_errors(sdk: LlamaCloud, tmp_path: Path) -> None:
    with pytest.raises(UnprocessableEntityError):
        sdk.parsing.create(tier="ultra", version="latest", file_id="dfl-x")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        sdk.parsing.create(tier="fast", version="latest", file_id="dfl-missing")
    started = time.monotonic()
    with pytest.raises(UnprocessableEntityError):
        sdk.parsing.create(tier="fast", version="latest")
    assert time.monotonic() - started < 5
