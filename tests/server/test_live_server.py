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


def test_official_sdk_parse_then_extract(start_server: StartServer, tmp_path: Path) -> None:
    from llama_cloud import UnprocessableEntityError

    from tests.fixtures.business import INVOICE, invoice_schema, make_invoice_pdf

    server = start_server("--api-key", "sdk-key:proj-sdk", "--workers", "1")
    client = LlamaCloud(api_key="sdk-key", base_url=server.base_url, max_retries=0)
    pdf = make_invoice_pdf(tmp_path).read_bytes()
    file = client.files.create(file=("invoice.pdf", io.BytesIO(pdf)), purpose="extract")
    parse_job = client.parsing.create(tier="cost_effective", version="latest", file_id=file.id)
    client.parsing.wait_for_completion(parse_job.id, polling_interval=0.2, timeout=60)

    configuration = {
        "data_schema": invoice_schema(),
        "tier": "cost_effective",
        "cite_sources": True,
    }
    job = client.extract.create(file_input=parse_job.id, configuration=configuration)  # type: ignore[arg-type]
    assert job.id.startswith("exj-") and job.project_id == "proj-sdk"
    done = client.extract.wait_for_completion(job.id, polling_interval=0.2, timeout=60)
    assert done.status == "COMPLETED"
    result = client.extract.get(job.id, expand=["extract_metadata", "configuration", "usage"])
    assert isinstance(result.extract_result, dict)
    assert result.extract_result["total"] == INVOICE["total"]
    assert result.extract_result["invoice_date"] == INVOICE["invoice_date"]
    assert result.configuration is not None and result.configuration.tier == "cost_effective"
    metadata = result.extract_metadata
    assert metadata is not None and metadata.parse_job_id == parse_job.id
    assert metadata.field_metadata is not None and metadata.field_metadata.document_metadata
    total = metadata.field_metadata.document_metadata["total"]
    assert isinstance(total, dict)
    citation = total["citation"][0]  # type: ignore[index]
    assert citation["page"] == 1 and citation["matching_text"] == "$1,234.50"
    assert {"x", "y", "w", "h"} <= set(citation["bounding_boxes"][0])
    assert citation["page_dimensions"]["width"] > 500

    by_file = client.extract.run(
        file_input=file.id,
        configuration={"data_schema": invoice_schema(), "extraction_target": "per_doc"},
        polling_interval=0.2,
        polling_timeout=60,
    )
    assert isinstance(by_file.extract_result, dict)
    assert by_file.extract_result["invoice_number"] == INVOICE["invoice_number"]
    # Still one parse job: the pjb- input was reused; the dfl- input is parsed inside its job.
    assert len(client.parsing.list().items) == 1

    ids = [j.id for j in client.extract.list(page_size=1)]  # auto-pagination
    assert ids == [by_file.id, job.id]
    validated = client.extract.validate_schema(data_schema=invoice_schema())
    assert validated.data_schema["properties"]
    with pytest.raises(UnprocessableEntityError):
        client.extract.validate_schema(data_schema={"type": "array"})
    client.extract.delete(job.id)
    with pytest.raises(NotFoundError):
        client.extract.get(job.id)
