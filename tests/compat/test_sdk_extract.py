"""Extract v2 through the official SDK: create (from a file and from a parse job), get with
every expand, list with pagination and filters, validate_schema, cancel, delete."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from llama_cloud import LlamaCloud, NotFoundError, UnprocessableEntityError
from llama_cloud.types import ExtractV2Job, ExtractV2SchemaValidateResponse

from tests.compat.conftest import PROJECT, conforms, present
from tests.fixtures.business import INVOICE, invoice_schema, make_invoice_pdf

pytestmark = pytest.mark.slow


def test_extract_flow(sdk: LlamaCloud, other_sdk: LlamaCloud, tmp_path: Path) -> None:
    pdf = make_invoice_pdf(tmp_path).read_bytes()
    file = sdk.files.create(file=("invoice.pdf", io.BytesIO(pdf)), purpose="extract")
    parse_job = sdk.parsing.create(tier="cost_effective", version="latest", file_id=file.id)
    sdk.parsing.wait_for_completion(parse_job.id, polling_interval=0.2, timeout=60)

    configuration = {
        "data_schema": invoice_schema(),
        "tier": "cost_effective",
        "cite_sources": True,
    }
    raw = sdk.extract.with_raw_response.create(
        file_input=parse_job.id,
        configuration=configuration,  # type: ignore[arg-type]
    ).json()
    job = conforms(ExtractV2Job, raw)
    present(job, "id", "project_id", "status", "file_input", "created_at", "configuration")
    assert job.id.startswith("exj-") and job.project_id == PROJECT
    done = sdk.extract.wait_for_completion(job.id, polling_interval=0.2, timeout=60)
    assert done.status == "COMPLETED"

    expands = ["extract_metadata", "configuration", "usage", "metadata"]
    got = conforms(ExtractV2Job, sdk.extract.with_raw_response.get(job.id, expand=expands).json())
    present(got, "extract_result", "extract_metadata", "configuration", "updated_at")
    assert isinstance(got.extract_result, dict)
    assert got.extract_result["total"] == INVOICE["total"]
    assert got.extract_result["invoice_date"] == INVOICE["invoice_date"]
    assert got.configuration is not None and got.configuration.tier == "cost_effective"
    metadata = got.extract_metadata
    assert metadata is not None and metadata.parse_job_id == parse_job.id
    assert metadata.field_metadata is not None and metadata.field_metadata.document_metadata
    total = metadata.field_metadata.document_metadata["total"]
    assert isinstance(total, dict)
    citation = total["citation"][0]  # type: ignore[index]
    assert citation["page"] == 1 and citation["matching_text"] == "$1,234.50"
    assert {"x", "y", "w", "h"} <= set(citation["bounding_boxes"][0])
    assert citation["page_dimensions"]["width"] > 500
    plain = sdk.extract.get(job.id)
    assert plain.extract_metadata is not None  # cite_sources=true includes it (as the SDK says)

    by_file = sdk.extract.run(
        file_input=file.id,
        configuration={"data_schema": invoice_schema(), "extraction_target": "per_doc"},
        polling_interval=0.2,
        polling_timeout=60,
    )
    assert isinstance(by_file.extract_result, dict)
    assert by_file.extract_result["invoice_number"] == INVOICE["invoice_number"]
    # One parse job: the pjb- input was reused; the dfl- input is parsed inside its job.
    assert [j.id for j in sdk.parsing.list()] == [parse_job.id]

    page = sdk.extract.with_raw_response.list(page_size=1).json()
    assert isinstance(page, dict) and page["next_page_token"]
    conforms(ExtractV2Job, page["items"][0])
    assert [j.id for j in sdk.extract.list(page_size=1)] == [by_file.id, job.id]
    assert [j.id for j in sdk.extract.list(status="COMPLETED", file_input=file.id)] == [by_file.id]

    validated = conforms(
        ExtractV2SchemaValidateResponse,
        sdk.extract.with_raw_response.validate_schema(data_schema=invoice_schema()).json(),
    )
    assert validated.data_schema["properties"]
    with pytest.raises(UnprocessableEntityError):
        sdk.extract.validate_schema(data_schema={"type": "array"})
    with pytest.raises(UnprocessableEntityError):
        sdk.extract.get(job.id, expand=["everything"])

    with pytest.raises(NotFoundError):
        other_sdk.extract.get(job.id)
    assert list(other_sdk.extract.list()) == []

    sdk.extract.delete(job.id)
    with pytest.raises(NotFoundError):
        sdk.extract.get(job.id)
