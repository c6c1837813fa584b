"""``client.extract``: the one-call helper (sync and async, pydantic or dict schemas) and the
plain job calls, against the embedded server (the same app ``lamina serve`` runs)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import BaseModel

import lamina
from lamina.types import Citation
from tests.fixtures.business import INVOICE, INVOICE_ITEMS, invoice_schema, make_invoice_pdf


class LineItem(BaseModel):
    description: str
    quantity: int
    unit_price: float
    amount: float


class Invoice(BaseModel):
    invoice_number: str
    invoice_date: date
    total: float
    customer: str | None = None
    line_items: list[LineItem] = []


@pytest.fixture
def invoice_pdf(tmp_path: Path) -> Path:
    return make_invoice_pdf(tmp_path)


def test_helper_with_a_pydantic_model(lamina_home: Path, invoice_pdf: Path) -> None:
    with lamina.Client() as client:
        result = client.extract(invoice_pdf, Invoice, timeout=60)
    invoice = result.data
    assert isinstance(invoice, Invoice)
    assert invoice.invoice_number == INVOICE["invoice_number"]
    assert invoice.invoice_date == date(2024, 3, 5)
    assert [i.model_dump() for i in invoice.line_items] == INVOICE_ITEMS
    assert result.job.id.startswith("exj-") and result.job.status == "COMPLETED"

    total = result.citations("total")
    assert isinstance(total[0], Citation) and total[0].page == 1
    assert total[0].bounding_boxes and total[0].page_dimensions
    fields = {f.path: f for f in result.fields()}
    assert fields["line_items[1].amount"].value == 300.0
    assert fields["total"].confidence and fields["total"].confidence > 0.5
    as_dict = result.to_dict()
    assert as_dict["data"]["total"] == INVOICE["total"]
    assert {"path", "value", "confidence", "reasoning", "citations"} <= set(as_dict["fields"][0])


def test_helper_with_a_dict_schema_on_a_file_id_and_per_page(
    lamina_home: Path, invoice_pdf: Path
) -> None:
    with lamina.Client() as client:
        file = client.files.create(invoice_pdf, purpose="extract")
        result = client.extract(file.id, invoice_schema(), target="per_page", timeout=60)
        assert len(result.records) == 1 and result.records[0]["total"] == INVOICE["total"]
        with pytest.raises(ValueError, match="records"):
            _ = result.data
        assert result.fields(0)[0].path == "invoice_number"


def test_job_calls_and_typed_errors(
    lamina_home: Path, invoice_pdf: Path, docs_corrupt: bytes
) -> None:
    with lamina.Client() as client:
        file = client.files.create(invoice_pdf)
        job = client.extract.create(file.id, configuration={"data_schema": invoice_schema()})
        done = client.extract.wait(job.id, timeout=60)
        assert done.status == "COMPLETED" and isinstance(done.extract_result, dict)
        fetched = client.extract.get(job.id, expand=["extract_metadata", "configuration"])
        assert fetched.extract_metadata and fetched.configuration
        assert [j.id for j in client.extract.iter(page_size=1)] == [job.id]
        assert client.extract.validate_schema(Invoice).data_schema["properties"]
        with pytest.raises(lamina.UnprocessableEntityError) as bad:
            client.extract.validate_schema({"type": "object", "properties": {"a": {"type": "x"}}})
        assert bad.value.detail[0].loc[-1] == "type"
        client.extract.delete(job.id)
        with pytest.raises(lamina.NotFoundError):
            client.extract.get(job.id)

        broken = client.files.create(docs_corrupt, filename="broken.pdf")
        with pytest.raises(lamina.JobFailedError) as failed:
            client.extract(broken.id, invoice_schema(), timeout=60)
        assert failed.value.job_id.startswith("exj-")


def test_model_that_does_not_fit_raises_with_the_raw_result(
    lamina_home: Path, invoice_pdf: Path
) -> None:
    class NeedsPO(BaseModel):
        po_number: str

    with lamina.Client() as client, pytest.raises(lamina.ExtractionValidationError) as info:
        client.extract(invoice_pdf, NeedsPO, timeout=60)
    assert info.value.data == {"po_number": None}
    assert info.value.result.fields()[0].confidence == 0.0


async def test_async_helper(lamina_home: Path, invoice_pdf: Path) -> None:
    async with lamina.AsyncClient() as client:
        result = await client.extract(invoice_pdf, Invoice, timeout=60)
        assert result.data.total == INVOICE["total"]
        jobs = [j async for j in client.extract.iter()]
        assert [j.id for j in jobs] == [result.job.id]
        await client.extract.delete(result.job.id)


@pytest.fixture
def docs_corrupt(tmp_path: Path) -> bytes:
    from tests.fixtures.documents import make_corrupt_pdf

    return make_corrupt_pdf(tmp_path).read_bytes()
