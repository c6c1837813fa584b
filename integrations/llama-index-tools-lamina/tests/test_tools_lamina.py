"""LaminaToolSpec: the parse_file and extract_data tools on real documents."""

from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import support
from llama_index.core.tools import FunctionTool
from llama_index.core.tools.calling import call_tool
from llama_index.core.tools.tool_spec.base import BaseToolSpec
from llama_index.tools.lamina import LaminaToolSpec
from pydantic import BaseModel, Field


def test_mro() -> None:
    assert BaseToolSpec.__name__ in [b.__name__ for b in LaminaToolSpec.__mro__]


def test_tool_list_has_sync_and_async_parse_file(client) -> None:
    (tool,) = LaminaToolSpec(client=client).to_tool_list()
    assert isinstance(tool, FunctionTool)
    assert tool.metadata.name == "parse_file"
    assert "Markdown" in tool.metadata.description
    schema = tool.metadata.get_parameters_dict()
    assert schema["required"] == ["path"]
    assert set(schema["properties"]) == {"path", "pages"}
    assert tool.async_fn is not None


def test_parse_file_returns_markdown_with_page_markers(client, corpus) -> None:
    (tool,) = LaminaToolSpec(client=client).to_tool_list()
    output = tool.call(path=str(corpus["multipage"]))
    assert not output.is_error
    text = output.content
    assert text.startswith("<!-- page 1 -->\n# Section 1")
    assert "<!-- page 3 -->" in text and "This is page 3." in text


def test_pages_selects_pages(client, corpus) -> None:
    text = LaminaToolSpec(client=client).parse_file(str(corpus["multipage"]), pages="2")
    assert "This is page 2." in text and "This is page 1." not in text


async def test_async_tool_matches_sync(client, async_client, corpus) -> None:
    spec = LaminaToolSpec(client=client, async_client=async_client)
    (tool,) = spec.to_tool_list()
    output = await tool.acall(path=str(corpus["markdown"]))
    assert output.content == spec.parse_file(str(corpus["markdown"]))
    assert "| Name | Value |" in output.content


async def test_async_without_injected_client(data_dir, corpus) -> None:
    text = await LaminaToolSpec(data_dir=str(data_dir)).aparse_file(str(corpus["text"]))
    assert "First paragraph" in text


def test_errors_tell_the_model_what_to_do(client, tmp_path, corpus) -> None:
    spec = LaminaToolSpec(client=client)
    with pytest.raises(ValueError, match=r"File not found.*existing local file"):
        spec.parse_file(str(tmp_path / "missing.pdf"))
    corrupt = support.documents.make_corrupt_pdf(tmp_path)
    with pytest.raises(ValueError, match=r"Could not parse .*damaged or truncated"):
        spec.parse_file(str(corrupt))


@pytest.mark.parametrize("pages", ["two", "0", "3-1", "1;2"])
def test_bad_pages_get_a_clear_error_before_any_job(client, corpus, pages) -> None:
    spec = LaminaToolSpec(client=client)
    before = client.parsing.list(page_size=1).total_size
    with pytest.raises(ValueError, match=r"Invalid pages .*'1', '2-4' or '1,3,5-7'") as info:
        spec.parse_file(str(corpus["multipage"]), pages=pages)
    assert "422" not in str(info.value)
    (tool,) = spec.to_tool_list()
    output = call_tool(tool, {"path": str(corpus["multipage"]), "pages": pages})
    assert output.is_error and "Invalid pages" in output.content
    assert client.parsing.list(page_size=1).total_size == before


def test_parse_file_description_lists_formats_and_parameters(client) -> None:
    (tool,) = LaminaToolSpec(client=client).to_tool_list()
    description = tool.metadata.description
    for word in ("PDF", ".docx", ".pptx", ".xlsx", "HTML", "Markdown", "CSV", "PNG", "pages"):
        assert word in description


def test_long_output_is_capped(client, corpus) -> None:
    text = LaminaToolSpec(client=client, max_chars=40).parse_file(str(corpus["multipage"]))
    assert text.endswith("ask for fewer pages]") and len(text) < 120


def test_served_and_embedded_give_the_same_markdown(client, served_url, corpus) -> None:
    embedded = LaminaToolSpec(client=client).parse_file(str(corpus["headings"]))
    served = LaminaToolSpec(base_url=served_url).parse_file(str(corpus["headings"]))
    assert served == embedded


# --- extraction --------------------------------------------------------------------------------


class LineItem(BaseModel):
    description: str
    quantity: int
    unit_price: float
    amount: float


class Invoice(BaseModel):
    """A bill sent by a vendor."""

    invoice_number: str = Field(description="Invoice identifier")
    invoice_date: date
    total: float = Field(description="Amount due")
    customer: str | None = None
    line_items: list[LineItem] = []


def extract_tool(spec: LaminaToolSpec) -> FunctionTool:
    parse, extract = spec.to_tool_list()
    assert parse.metadata.name == "parse_file"
    return extract


def test_no_schema_no_extraction_tool(client) -> None:
    assert [t.metadata.name for t in LaminaToolSpec(client=client).to_tool_list()] == ["parse_file"]
    with pytest.raises(ValueError, match="No extraction schema"):
        LaminaToolSpec(client=client).extract_data("invoice.pdf")
    with pytest.raises(TypeError, match="pydantic model class or a JSON Schema"):
        LaminaToolSpec(schema="Invoice")  # type: ignore[arg-type]


def test_extract_tool_metadata_lists_the_fields(client) -> None:
    tool = extract_tool(LaminaToolSpec(client=client, schema=Invoice))
    meta = tool.metadata
    assert meta.name == "extract_invoice"
    assert tool.async_fn is not None
    lines = meta.description.splitlines()
    assert "- invoice_number (string, required): Invoice identifier" in lines
    assert "  - unit_price (number, required)" in lines
    assert "Invoice: A bill sent by a vendor." in lines[0]
    params = meta.get_parameters_dict()
    assert params["required"] == ["path"] and set(params["properties"]) == {"path", "pages"}
    meta.to_openai_tool()  # within LlamaIndex's 1024-character limit


def test_long_schemas_are_cut_to_fit() -> None:
    schema = {
        "title": "Wide",
        "type": "object",
        "properties": {
            f"field_{i}": {"type": "string", "description": f"The value number {i} of the form"}
            for i in range(80)
        },
    }
    meta = extract_tool(LaminaToolSpec(schema=schema)).metadata
    assert len(meta.description) <= 1024
    assert meta.description.splitlines()[-1].startswith("- ... and ")
    meta.to_openai_tool()


def test_extract_data_returns_data_and_citations(client, invoice_pdf) -> None:
    output = extract_tool(LaminaToolSpec(client=client, schema=Invoice)).call(path=str(invoice_pdf))
    assert not output.is_error
    result = json.loads(output.content)
    invoice = Invoice.model_validate(result["data"])
    assert invoice.invoice_number == support.business.INVOICE["invoice_number"]
    assert invoice.total == support.business.INVOICE["total"]
    assert [i.model_dump() for i in invoice.line_items] == support.business.INVOICE_ITEMS
    assert result["job_id"].startswith("exj-")
    total = next(f for f in result["fields"] if f["path"] == "total")
    assert total["confidence"] > 0.5
    (citation,) = total["citations"]
    assert citation["page"] == 1 and citation["matching_text"] == "$1,234.50"
    size = citation["page_dimensions"]
    for box in citation["bounding_boxes"]:
        assert box["x"] >= 0 and box["x"] + box["w"] <= size["width"]
        assert box["y"] >= 0 and box["y"] + box["h"] <= size["height"]


async def test_async_extract_matches_sync(client, async_client, invoice_pdf) -> None:
    schema = support.business.invoice_schema()
    spec = LaminaToolSpec(client=client, async_client=async_client, schema=schema)
    sync = json.loads(spec.extract_data(str(invoice_pdf), pages="1"))
    output = await extract_tool(spec).acall(path=str(invoice_pdf), pages="1")
    result = json.loads(output.content)
    assert result["data"] == sync["data"] and result["fields"] == sync["fields"]
    assert result["data"]["vendor"] == support.business.INVOICE_VENDOR
    # Only a sync client injected: the async form opens one configured the same way.
    alone = await LaminaToolSpec(client=client, schema=schema).aextract_data(str(invoice_pdf))
    assert json.loads(alone)["data"] == sync["data"]


async def test_extract_without_injected_client(data_dir, invoice_pdf) -> None:
    spec = LaminaToolSpec(data_dir=str(data_dir), schema=Invoice)
    assert json.loads(spec.extract_data(str(invoice_pdf)))["data"]["total"] == 1234.5
    assert json.loads(await spec.aextract_data(str(invoice_pdf)))["data"]["total"] == 1234.5


def test_extract_from_a_file_id(client, invoice_pdf) -> None:
    uploaded = client.files.create(invoice_pdf, purpose="extract")
    text = LaminaToolSpec(client=client, schema=Invoice).extract_data(uploaded.id)
    assert json.loads(text)["data"]["invoice_number"] == "INV-2024-0042"


def test_extract_errors_tell_the_model_what_to_do(client, tmp_path, invoice_pdf) -> None:
    class NeedsPO(BaseModel):
        po_number: str

    spec = LaminaToolSpec(client=client, schema=Invoice)
    with pytest.raises(ValueError, match=r"File not found.*existing local file"):
        spec.extract_data(str(tmp_path / "missing.pdf"))
    with pytest.raises(ValueError, match=r"is a folder"):
        spec.extract_data(str(tmp_path))
    with pytest.raises(ValueError, match=r"No Lamina file or parse job has the id"):
        spec.extract_data("dfl-00000000-0000-0000-0000-000000000000")
    corrupt = support.documents.make_corrupt_pdf(tmp_path)
    with pytest.raises(ValueError, match=r"Could not extract .*damaged or truncated"):
        spec.extract_data(str(corrupt))
    with pytest.raises(ValueError, match=r"target_pages '2' selects no page"):
        spec.extract_data(str(invoice_pdf), pages="2")
    with pytest.raises(ValueError, match=r"does not hold the data NeedsPO needs \(po_number"):
        LaminaToolSpec(client=client, schema=NeedsPO).extract_data(str(invoice_pdf))
    # As an agent calls it, the message comes back as an error output.
    output = call_tool(extract_tool(spec), {"path": str(tmp_path / "missing.pdf")})
    assert output.is_error and "File not found" in output.content


def test_bad_schema_is_a_configuration_error(client, invoice_pdf) -> None:
    import lamina

    bad_schema = {"type": "object", "properties": {"a": {"type": "x"}}}
    spec = LaminaToolSpec(client=client, schema=bad_schema)
    with pytest.raises(lamina.UnprocessableEntityError):
        spec.extract_data(str(invoice_pdf))


def test_served_and_embedded_extract_the_same(client, served_url, invoice_pdf) -> None:
    path = str(invoice_pdf)
    embedded = json.loads(LaminaToolSpec(client=client, schema=Invoice).extract_data(path))
    served = json.loads(LaminaToolSpec(base_url=served_url, schema=Invoice).extract_data(path))
    assert served["data"] == embedded["data"] and served["fields"] == embedded["fields"]
