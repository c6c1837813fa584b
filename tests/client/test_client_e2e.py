"""The client against the real Lamina server, both ways: in-process (embedded transport, no
base URL) and over HTTP (a ``lamina serve`` subprocess on loopback). Nothing is mocked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import lamina
from lamina.types import FailedPage, ParseResponse
from tests.fixtures.documents import make_corrupt_pdf, make_multipage_pdf

pytestmark = pytest.mark.slow


@pytest.fixture(params=["embedded", "http"])
def client_kwargs(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Arguments that make a client talk to the embedded server or to ``lamina serve``."""
    if request.param == "embedded":
        pytest.importorskip("lamina.server.embedded", reason="the server is not written yet")
        return {"data_dir": tmp_path / "embedded-home"}
    return {"base_url": request.getfixturevalue("served")}


def content(result: ParseResponse) -> dict[str, Any]:
    """What a parse produced, without the job's ids and timestamps."""
    return result.model_dump(mode="json", exclude={"job"}, exclude_none=True)


def markdown_of(result: ParseResponse) -> list[str]:
    assert result.markdown is not None
    return [getattr(page, "markdown", "") for page in result.markdown.pages]


def test_parse_a_pdf(client_kwargs: dict[str, Any], pdf_file: Path) -> None:
    with lamina.Client(**client_kwargs) as client:
        result = client.parse(pdf_file)
    assert result.job.status == "COMPLETED"
    pages = markdown_of(result)
    assert len(pages) == 2
    assert "Section 1" in pages[0] and "This is page 1." in pages[0]
    assert "This is page 2." in pages[1]
    assert result.items is not None and len(result.items.pages) == 2
    assert result.metadata is not None and [p.page_number for p in result.metadata.pages] == [1, 2]


async def test_sync_and_async_clients_agree(
    client_kwargs: dict[str, Any], pdf_bytes: bytes
) -> None:
    with lamina.Client(**client_kwargs) as client:
        sync_result = client.parse(pdf_bytes, filename="report.pdf")
    async with lamina.AsyncClient(**client_kwargs) as aclient:
        async_result = await aclient.parse(pdf_bytes, filename="report.pdf")
    assert content(sync_result) == content(async_result)


def test_embedded_and_http_agree(served: str, tmp_path: Path, pdf_bytes: bytes) -> None:
    pytest.importorskip("lamina.server.embedded", reason="the server is not written yet")
    expand = ("markdown", "text", "items", "metadata")
    with lamina.Client(data_dir=tmp_path / "home") as embedded:
        local = embedded.parse(pdf_bytes, filename="report.pdf", expand=expand)
    with lamina.Client(base_url=served) as remote:
        over_http = remote.parse(pdf_bytes, filename="report.pdf", expand=expand)
    assert content(local) == content(over_http)


def test_files_round_trip(client_kwargs: dict[str, Any], pdf_bytes: bytes) -> None:
    with lamina.Client(**client_kwargs) as client:
        created = client.files.create(("round.pdf", pdf_bytes), external_file_id="ext-1")
        assert created.id.startswith("dfl-") and created.name == "round.pdf"
        assert client.files.get(created.id).id == created.id
        assert created.id in {f.id for f in client.files.iter(page_size=1)}
        assert client.download(client.files.content_url(created.id)) == pdf_bytes
        assert client.files.download(created.id) == pdf_bytes
        client.files.delete(created.id)
        with pytest.raises(lamina.NotFoundError):
            client.files.get(created.id)


def test_job_lifecycle(client_kwargs: dict[str, Any], tmp_path: Path) -> None:
    three_pages = make_multipage_pdf(tmp_path, pages=3).read_bytes()
    with lamina.Client(**client_kwargs) as client:
        job = client.parsing.create(
            upload_file=three_pages,
            filename="three.pdf",
            page_ranges={"target_pages": "2"},
        )
        assert job.id.startswith("pjb-") and job.status in {"PENDING", "RUNNING", "COMPLETED"}
        done = client.parsing.wait(job.id, timeout=120)
        assert done.status == "COMPLETED"
        result = client.parsing.get(job.id, expand=["markdown", "text_full"])
        assert len(markdown_of(result)) == 1 and "This is page 2." in markdown_of(result)[0]
        assert result.text_full is not None and "page 1." not in result.text_full
        assert job.id in {j.id for j in client.parsing.iter(page_size=2)}
        assert job.id in {j.id for j in client.parsing.iter(status="COMPLETED")}
        client.parsing.delete(job.id)
        with pytest.raises(lamina.NotFoundError):
            client.parsing.get(job.id)


def test_presigned_results_download_through_the_client(
    client_kwargs: dict[str, Any], pdf_bytes: bytes
) -> None:
    with lamina.Client(**client_kwargs) as client:
        result = client.parse(pdf_bytes, filename="r.pdf", expand=["markdown_content_metadata"])
        entries = result.result_content_metadata or {}
        urls = [entry.presigned_url for entry in entries.values() if entry.presigned_url]
        assert urls, entries
        downloaded = client.download(urls[0])
    assert b"This is page 1." in downloaded


def test_errors_from_our_server(
    client_kwargs: dict[str, Any], pdf_bytes: bytes, tmp_path: Path
) -> None:
    corrupt = make_corrupt_pdf(tmp_path)
    with lamina.Client(**client_kwargs) as client:
        uploaded = client.files.create(("r.pdf", pdf_bytes))
        with pytest.raises(lamina.ValidationError) as invalid:
            client.parsing.create(uploaded.id, tier="no_such_tier")
        assert any("tier" in detail.loc for detail in invalid.value.detail)
        with pytest.raises(lamina.NotFoundError):
            client.parsing.get("pjb-does-not-exist")
        with pytest.raises(lamina.JobFailedError) as failed:
            client.parse(corrupt)
        assert failed.value.error_message


async def test_async_errors_and_files(
    client_kwargs: dict[str, Any], pdf_bytes: bytes, tmp_path: Path
) -> None:
    corrupt = make_corrupt_pdf(tmp_path)
    async with lamina.AsyncClient(**client_kwargs) as client:
        created = await client.files.create(("a.pdf", pdf_bytes))
        assert created.id in [f.id async for f in client.files.iter()]
        assert await client.files.download(created.id) == pdf_bytes
        with pytest.raises(lamina.JobFailedError):
            await client.parse(corrupt)
        with pytest.raises(lamina.NotFoundError):
            await client.files.get("dfl-does-not-exist")


def test_failed_pages_are_data_not_errors(client_kwargs: dict[str, Any], pdf_file: Path) -> None:
    with lamina.Client(**client_kwargs) as client:
        result = client.parse(pdf_file, expand=["markdown"])
    assert result.markdown is not None
    assert not [p for p in result.markdown.pages if isinstance(p, FailedPage)]
