"""Against a real ``lamina serve`` subprocess: the official SDK, auth, and surviving SIGKILL."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from llama_cloud import AuthenticationError, LlamaCloud, NotFoundError

from lamina.types import ParseResponse, strict_validate
from tests.fixtures.documents import SIMPLE_PARAGRAPH, SIMPLE_TITLE
from tests.server.conftest import LiveServer, wait_for_job

pytestmark = pytest.mark.slow

StartServer = Callable[..., LiveServer]


def test_official_sdk_end_to_end(start_server: StartServer, docs: dict[str, bytes]) -> None:
    server = start_server("--api-key", "sdk-key:proj-sdk")
    client = LlamaCloud(api_key="sdk-key", base_url=server.base_url, max_retries=0)

    file = client.files.create(file=("report.pdf", io.BytesIO(docs["simple"])), purpose="parse")
    assert file.id.startswith("dfl-") and file.project_id == "proj-sdk"
    assert client.files.retrieve(file.id).name == "report.pdf"
    assert file.id in [f.id for f in client.files.list()]
    content = client.files.content(file.id)
    assert httpx.get(content.url).content == docs["simple"]

    job = client.parsing.create(tier="fast", version="latest", file_id=file.id)
    assert job.id.startswith("pjb-") and job.status in ("PENDING", "RUNNING")
    done = client.parsing.wait_for_completion(job.id, polling_interval=0.2, timeout=60)
    assert done.status == "COMPLETED"

    result = client.parsing.get(job.id, expand=["markdown", "items"])
    assert result.markdown is not None and result.items is not None
    assert SIMPLE_TITLE in result.markdown.pages[0].markdown  # type: ignore[union-attr]
    values = [getattr(i, "value", "") for i in result.items.pages[0].items]  # type: ignore[union-attr]
    assert SIMPLE_TITLE in values and SIMPLE_PARAGRAPH in values
    strict_validate(ParseResponse, result.model_dump(mode="json", exclude_none=True))

    parsed = client.parsing.parse(
        tier="fast",
        version="latest",
        upload_file=("notes.txt", io.BytesIO(docs["text"]), "text/plain"),
        expand=["text_full", "markdown_content_metadata"],
        polling_interval=0.2,
    )
    assert parsed.text_full and "Second paragraph." in parsed.text_full
    meta = (parsed.result_content_metadata or {})["markdown"]
    assert meta.exists and meta.presigned_url
    assert httpx.get(meta.presigned_url).status_code == 200

    listed = client.parsing.list(page_size=1)
    assert len(listed.items) == 1
    assert len(list(client.parsing.list(page_size=1))) == 2  # auto-pagination follows tokens
    assert client.parsing.list_versions().latest.fast
    assert client.parsing.delete(job.id).id == job.id
    with pytest.raises(NotFoundError):
        client.parsing.get(job.id)
    client.files.delete(file.id)
    with pytest.raises(NotFoundError):
        client.files.retrieve(file.id)
    with pytest.raises(AuthenticationError):
        LlamaCloud(api_key="wrong", base_url=server.base_url, max_retries=0).parsing.list()


def test_sigkill_mid_job_then_restart_completes(
    start_server: StartServer, doc_server: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    server = start_server("--workers", "1", data_dir=data)
    http = httpx.Client(base_url=server.base_url)
    body = {"source_url": f"{doc_server}/slow/4/doc.pdf", "tier": "fast", "version": "latest"}
    job_id = http.post("/api/v2/parse", json=body).json()["id"]
    deadline = time.monotonic() + 20
    while http.get(f"/api/v2/parse/{job_id}").json()["job"]["status"] != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    server.kill()  # server and its workers, no clean-up

    restarted = start_server("--workers", "1", data_dir=data)
    with httpx.Client(base_url=restarted.base_url) as http2:
        job = wait_for_job(http2, job_id, timeout=60)
        assert job["status"] == "COMPLETED"
        text = http2.get(f"/api/v2/parse/{job_id}", params={"expand": "text_full"}).json()
        assert SIMPLE_TITLE in text["text_full"]
