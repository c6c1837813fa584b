"""Files API through the official SDK: create, retrieve, list with pagination, content, delete."""

from __future__ import annotations

import io

import httpx
import pytest
from llama_cloud import AuthenticationError, LlamaCloud, NotFoundError
from llama_cloud.types import (
    FileCreateResponse,
    FileListResponse,
    FileRetrieveResponse,
    PresignedURL,
)

from tests.compat.conftest import PROJECT, conforms, present
from tests.server.conftest import LiveServer

pytestmark = pytest.mark.slow


def test_files_flow(sdk: LlamaCloud, other_sdk: LlamaCloud, docs: dict[str, bytes]) -> None:
    created = sdk.files.with_raw_response.create(
        file=("report.pdf", io.BytesIO(docs["simple"])),
        purpose="parse",
        external_file_id="ext-1",
    )
    file = conforms(FileCreateResponse, created.json())
    present(file, "id", "name", "project_id", "file_type", "purpose", "last_modified_at")
    assert file.id.startswith("dfl-") and file.project_id == PROJECT
    assert file.name == "report.pdf" and file.file_type == "pdf" and file.purpose == "parse"
    assert file.external_file_id == "ext-1" and file.download_url is not None

    retrieved = conforms(FileRetrieveResponse, sdk.files.with_raw_response.retrieve(file.id).json())
    assert retrieved.id == file.id and retrieved.name == "report.pdf"

    others = [
        sdk.files.create(file=(f"n{i}.txt", io.BytesIO(b"note %d" % i)), purpose="user_data")
        for i in range(3)
    ]
    page = sdk.files.with_raw_response.list(page_size=2).json()
    assert isinstance(page, dict) and page["total_size"] == 4 and page["next_page_token"]
    for item in page["items"]:
        conforms(FileListResponse, item)
    every = list(sdk.files.list(page_size=2))  # the SDK follows next_page_token
    assert sorted(f.id for f in every) == sorted([file.id, *(o.id for o in others)])
    assert [f.id for f in sdk.files.list(file_name="report.pdf")] == [file.id]
    assert [f.id for f in sdk.files.list(external_file_id="ext-1")] == [file.id]
    with_urls = sdk.files.list(expand=["download_url"], page_size=10)
    assert all(f.download_url is not None for f in with_urls.items)

    content = conforms(PresignedURL, sdk.files.with_raw_response.content(file.id).json())
    present(content, "url", "expires_at")
    assert httpx.get(content.url).content == docs["simple"]

    with pytest.raises(NotFoundError):  # another project's key sees nothing
        other_sdk.files.retrieve(file.id)
    with pytest.raises(NotFoundError):
        other_sdk.files.content(file.id)
    assert list(other_sdk.files.list()) == []

    sdk.files.delete(file.id)
    with pytest.raises(NotFoundError):
        sdk.files.retrieve(file.id)
    with pytest.raises(NotFoundError):
        sdk.files.delete(file.id)
    for other in others:
        sdk.files.delete(other.id)


def test_wrong_key_is_rejected(server: LiveServer) -> None:
    with pytest.raises(AuthenticationError):
        LlamaCloud(api_key="wrong", base_url=server.base_url, max_retries=0).files.list()
