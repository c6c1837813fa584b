"""Directories (``client.beta.directories``) and v2 batches (``client.batches``) through the
official SDK: create, list, get, update, delete, add and upload files, list files; a batch over
a directory with a built-in configuration preset, get (with results), list, cancel.

The v1 ``/api/v1/beta/batch-processing`` endpoints are not called by the 2.19 SDK; their shapes
are checked against the seed in ``tests/batch/test_batch_api.py``.
"""

from __future__ import annotations

import io
import time

import pytest
from llama_cloud import BadRequestError, LlamaCloud, NotFoundError, UnprocessableEntityError
from llama_cloud.types import (
    BatchCancelResponse,
    BatchCreateResponse,
    BatchGetResponse,
    BatchListResponse,
)
from llama_cloud.types.batch_create_params import Config
from llama_cloud.types.beta import (
    DirectoryCreateResponse,
    DirectoryGetResponse,
    DirectoryListResponse,
    DirectoryUpdateResponse,
)
from llama_cloud.types.beta.directories import (
    FileAddResponse,
    FileGetResponse,
    FileListResponse,
    FileUploadResponse,
)

from tests.compat.conftest import PROJECT, conforms, present

pytestmark = pytest.mark.slow

DIRECTORY_FIELDS = ("id", "name", "project_id", "created_at", "updated_at", "type")
FILE_FIELDS = ("id", "directory_id", "display_name", "project_id", "unique_id", "file_id")
BATCH_FIELDS = ("id", "config", "project_id", "source_directory_id", "status", "created_at")
PRESET = "cfg-PARSE_FAST"  # a built-in parse_v2 configuration preset


def _directory(sdk: LlamaCloud, name: str) -> str:
    raw = sdk.beta.directories.with_raw_response.create(name=name, description="compat").json()
    created = conforms(DirectoryCreateResponse, raw)
    present(created, *DIRECTORY_FIELDS, "description")
    assert created.project_id == PROJECT and created.name == name
    return created.id


def _upload(sdk: LlamaCloud, directory_id: str, name: str, text: str) -> FileUploadResponse:
    raw = sdk.beta.directories.files.with_raw_response.upload(
        directory_id,
        upload_file=(name, io.BytesIO(text.encode()), "text/plain"),
        metadata='{"source": "compat"}',
    ).json()
    uploaded = conforms(FileUploadResponse, raw)
    present(uploaded, *FILE_FIELDS)
    return uploaded


def test_directory_lifecycle(sdk: LlamaCloud, other_sdk: LlamaCloud) -> None:
    directory_id = _directory(sdk, "compat-docs")

    got = conforms(
        DirectoryGetResponse, sdk.beta.directories.with_raw_response.get(directory_id).json()
    )
    present(got, *DIRECTORY_FIELDS)
    updated = conforms(
        DirectoryUpdateResponse,
        sdk.beta.directories.with_raw_response.update(
            directory_id, name="compat-renamed", description="changed"
        ).json(),
    )
    assert (updated.name, updated.description) == ("compat-renamed", "changed")

    page = sdk.beta.directories.with_raw_response.list(page_size=1).json()
    assert isinstance(page, dict) and "total_size" in page
    for raw in page["items"]:
        present(conforms(DirectoryListResponse, raw), *DIRECTORY_FIELDS)
    names = {d.name for d in sdk.beta.directories.list(page_size=1)}  # follows the tokens
    assert "compat-renamed" in names
    assert [d.id for d in sdk.beta.directories.list(name="compat-renamed")] == [directory_id]

    uploaded = _upload(sdk, directory_id, "notes.txt", "Upload through the SDK.\n")
    assert uploaded.directory_id == directory_id and uploaded.metadata == {"source": "compat"}
    stored = sdk.files.create(file=("added.txt", io.BytesIO(b"Added by id.\n")), purpose="parse")
    added = conforms(
        FileAddResponse,
        sdk.beta.directories.files.with_raw_response.add(
            directory_id, file_id=stored.id, display_name="added.txt"
        ).json(),
    )
    present(added, *FILE_FIELDS)
    assert added.file_id == stored.id

    listed = sdk.beta.directories.files.with_raw_response.list(directory_id, page_size=1).json()
    assert isinstance(listed, dict) and listed["total_size"] == 2 and listed["next_page_token"]
    every = list(sdk.beta.directories.files.list(directory_id, page_size=1))
    assert sorted(f.display_name for f in every) == ["added.txt", "notes.txt"]
    for raw in listed["items"]:
        present(conforms(FileListResponse, raw), *FILE_FIELDS)
    one = sdk.beta.directories.files.with_raw_response.get(
        added.id, directory_id=directory_id
    ).json()
    present(conforms(FileGetResponse, one), *FILE_FIELDS)

    with pytest.raises(NotFoundError):  # another project's key sees nothing
        other_sdk.beta.directories.get(directory_id)
    sdk.beta.directories.files.delete(added.id, directory_id=directory_id)
    assert [f.id for f in sdk.beta.directories.files.list(directory_id)] == [uploaded.id]
    sdk.beta.directories.delete(directory_id)
    with pytest.raises(NotFoundError):
        sdk.beta.directories.get(directory_id)
    with pytest.raises(UnprocessableEntityError):
        sdk.beta.directories.create(name="")


def test_batch_over_a_directory(sdk: LlamaCloud, other_sdk: LlamaCloud) -> None:
    directory_id = _directory(sdk, "compat-batch")
    files = {_upload(sdk, directory_id, f"n{i}.txt", f"# Note {i}\n\nBody {i}.\n").id for i in "12"}

    config: Config = {"job": {"type": "parse_v2", "configuration_id": PRESET}}
    raw = sdk.batches.with_raw_response.create(source_directory_id=directory_id, config=config)
    created = conforms(BatchCreateResponse, raw.json())
    present(created, *BATCH_FIELDS)
    assert created.config.job.configuration_id == PRESET and created.project_id == PROJECT
    assert created.status in ("PENDING", "RUNNING")

    deadline = time.monotonic() + 60
    while True:
        body = sdk.batches.with_raw_response.get(created.id, expand=["results"]).json()
        got = conforms(BatchGetResponse, body)
        if got.status == "COMPLETED":
            break
        assert got.status in ("PENDING", "RUNNING") and time.monotonic() < deadline
        time.sleep(0.2)
    present(got, *BATCH_FIELDS, "results", "updated_at")
    assert got.results is not None and {r.source_directory_file_id for r in got.results} == files
    for result in got.results:
        assert result.job_reference is not None and result.job_reference.type == "parse_v2"
        assert sdk.parsing.get(result.job_reference.id).job.status == "COMPLETED"

    listed = sdk.batches.with_raw_response.list(source_directory_id=directory_id).json()
    assert isinstance(listed, dict) and listed["total_size"] == 1
    present(conforms(BatchListResponse, listed["items"][0]), *BATCH_FIELDS)
    assert [b.id for b in sdk.batches.list(status="COMPLETED")] == [created.id]
    with pytest.raises(BadRequestError):  # a finished batch cannot be cancelled
        sdk.batches.cancel(created.id)
    with pytest.raises(NotFoundError):
        other_sdk.batches.get(created.id)

    # Cancel a batch before its items finish: many files, cancelled right after creation.
    busy = _directory(sdk, "compat-cancel")
    for i in range(30):
        _upload(sdk, busy, f"c{i}.txt", f"Cancel me {i}.\n" * 50)
    second = sdk.batches.create(source_directory_id=busy, config=config)
    try:
        raw_cancel = sdk.batches.with_raw_response.cancel(second.id).json()
    except BadRequestError:  # finished already on a fast machine: nothing left to cancel
        pytest.skip("the batch finished before it could be cancelled")
    cancelled = conforms(BatchCancelResponse, raw_cancel)
    present(cancelled, *BATCH_FIELDS)
    assert cancelled.status == "CANCELLED"
    assert sdk.batches.get(second.id).status == "CANCELLED"

    with pytest.raises(NotFoundError):  # neither a preset nor a saved configuration
        sdk.batches.create(
            source_directory_id=directory_id,
            config={"job": {"type": "parse_v2", "configuration_id": "cfg-unknown"}},
        )
    with pytest.raises(UnprocessableEntityError):
        sdk.batches.create(
            source_directory_id=directory_id,
            config={"job": {"type": "split_v1", "configuration_id": "cfg-unknown"}},  # type: ignore[typeddict-item]
        )
    with pytest.raises(NotFoundError):
        sdk.batches.create(source_directory_id="dir-missing", config=config)
