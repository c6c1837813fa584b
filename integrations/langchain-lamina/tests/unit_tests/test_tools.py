"""LaminaExtractTool with every network socket blocked: LangChain's standard unit suite, the
description built from the schema, and real extractions on the in-process engine."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pydantic
import pytest
from conftest import support
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, ToolException
from langchain_lamina import LaminaExtractInput, LaminaExtractTool
from langchain_tests.unit_tests import ToolsUnitTests
from pydantic import BaseModel, Field

import lamina

INVOICE = support.business.INVOICE
INVOICE_ITEMS = support.business.INVOICE_ITEMS


class LineItem(BaseModel):
    description: str
    quantity: int
    unit_price: float = Field(description="Price of one unit")
    amount: float


class Invoice(BaseModel):
    """A bill sent by a vendor."""

    invoice_number: str = Field(description="Invoice identifier")
    invoice_date: date
    total: float = Field(description="Amount due")
    customer: str | None = None
    line_items: list[LineItem] = []


class TestLaminaExtractToolUnit(ToolsUnitTests):
    """LangChain's standard unit tests (no call reaches Lamina)."""

    @property
    def tool_constructor(self) -> type[LaminaExtractTool]:
        return LaminaExtractTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"schema": Invoice}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"file_path": "invoices/march.pdf", "pages": "1-2"}


def call(tool: BaseTool, **args: Any) -> ToolMessage:
    """Invoke ``tool`` the way an agent does, with a tool call."""
    message = tool.invoke({"type": "tool_call", "id": "call-1", "name": tool.name, "args": args})
    assert isinstance(message, ToolMessage)
    return message


# --- construction and description -------------------------------------------------------------


def test_name_and_description_come_from_a_pydantic_model() -> None:
    tool = LaminaExtractTool(schema=Invoice)
    assert tool.name == "extract_invoice"
    assert tool.response_format == "content_and_artifact"
    assert tool.handle_tool_error is True
    assert tool.args_schema is LaminaExtractInput
    lines = tool.description.splitlines()
    assert lines[0].startswith("Extract Invoice data from one document file")
    assert "- invoice_number (string, required): Invoice identifier" in lines
    assert "- invoice_date (string, date, required)" in lines
    assert "- customer (string)" in lines  # Optional: not required
    assert "- line_items (list of objects)" in lines
    assert "  - unit_price (number, required): Price of one unit" in lines  # via $ref
    assert lines[-1] == "About Invoice: A bill sent by a vendor."


def test_name_and_description_from_a_json_schema() -> None:
    schema = {
        "title": "Purchase Order",
        "type": "object",
        "properties": {
            "po_number": {"type": ["string", "null"], "description": "PO  number\n on the form"},
            "status": {"enum": ["open", "closed"]},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["po_number", "status"],
    }
    tool = LaminaExtractTool(schema=schema)
    assert tool.name == "extract_purchase_order"
    lines = tool.description.splitlines()
    assert "- po_number (string): PO number on the form" in lines  # nullable: not required
    assert "- status (one of 'open', 'closed', required)" in lines
    assert "- tags (list of string)" in lines
    untitled = LaminaExtractTool(schema={"type": "object", "properties": {"a": {}}})
    assert untitled.name == "extract_data"
    assert "Extract structured data" in untitled.description


def test_own_name_and_description_are_kept() -> None:
    tool = LaminaExtractTool(schema=Invoice, name="read_bill", description="Reads a bill.")
    assert (tool.name, tool.description) == ("read_bill", "Reads a bill.")


def test_tool_call_schema_is_file_and_pages_only() -> None:
    schema = LaminaExtractTool(schema=Invoice).tool_call_schema
    assert isinstance(schema, type) and issubclass(schema, BaseModel)
    params = schema.model_json_schema()
    assert set(params["properties"]) == {"file_path", "pages"}
    assert params["required"] == ["file_path"]
    assert "Invoice identifier" in params["description"]


def test_pages_must_be_a_page_list() -> None:
    tool = LaminaExtractTool(schema=Invoice)
    with pytest.raises(pydantic.ValidationError, match="pages"):
        tool.invoke({"file_path": "a.pdf", "pages": "the first two"})


def test_schema_is_required_and_checked() -> None:
    with pytest.raises(pydantic.ValidationError):
        LaminaExtractTool()  # type: ignore[call-arg]
    with pytest.raises(pydantic.ValidationError):
        LaminaExtractTool(schema="Invoice")  # type: ignore[arg-type]


# --- errors the model can act on ---------------------------------------------------------------


def test_missing_file_comes_back_as_an_error_message(tmp_path: Path) -> None:
    tool = LaminaExtractTool(schema=Invoice)
    message = call(tool, file_path=str(tmp_path / "nope.pdf"))
    assert message.status == "error" and message.artifact is None
    assert "File not found" in message.content and "existing local file" in message.content
    folder = call(tool, file_path=str(tmp_path))
    assert "is a folder" in folder.content


def test_errors_raise_when_handling_is_off(tmp_path: Path) -> None:
    tool = LaminaExtractTool(schema=Invoice, handle_tool_error=False)
    with pytest.raises(ToolException, match="File not found"):
        tool.invoke({"file_path": str(tmp_path / "nope.pdf")})


# --- real extractions on the in-process engine (sockets stay blocked) ---------------------------


@pytest.fixture
def tool(client: lamina.Client) -> LaminaExtractTool:
    return LaminaExtractTool(schema=Invoice, client=client)


def test_content_is_the_data_and_artifact_has_citations(
    tool: LaminaExtractTool, invoice_pdf: Path
) -> None:
    message = call(tool, file_path=str(invoice_pdf))
    assert message.status == "success"
    data = json.loads(message.content)
    invoice = Invoice.model_validate(data)
    assert invoice.invoice_number == INVOICE["invoice_number"]
    assert invoice.invoice_date == date.fromisoformat(INVOICE["invoice_date"])
    assert invoice.total == INVOICE["total"]
    assert [item.model_dump() for item in invoice.line_items] == INVOICE_ITEMS

    artifact = message.artifact
    assert artifact["data"] == data and artifact["job_id"].startswith("exj-")
    json.dumps(artifact)  # plain JSON: safe for checkpointers
    fields = {f["path"]: f for f in artifact["fields"]}
    assert fields["line_items[1].amount"]["value"] == 300.0
    total = fields["total"]
    assert total["confidence"] > 0.5
    (citation,) = total["citations"]
    assert citation["page"] == 1 and citation["matching_text"] == "$1,234.50"
    size = citation["page_dimensions"]
    for box in citation["bounding_boxes"]:
        assert box["x"] >= 0 and box["x"] + box["w"] <= size["width"]
        assert box["y"] >= 0 and box["y"] + box["h"] <= size["height"]


def test_plain_invoke_returns_the_content(tool: LaminaExtractTool, invoice_pdf: Path) -> None:
    content = tool.invoke({"file_path": str(invoice_pdf), "pages": " 1 "})
    assert json.loads(content)["total"] == INVOICE["total"]


def test_json_schema_and_file_id(client: lamina.Client, invoice_pdf: Path) -> None:
    tool = LaminaExtractTool(schema=support.business.invoice_schema(), client=client)
    uploaded = client.files.create(invoice_pdf, purpose="extract")
    data = json.loads(call(tool, file_path=uploaded.id).content)
    assert data["vendor"] == support.business.INVOICE_VENDOR
    assert data["po_number"] is None


async def test_ainvoke_is_native_and_matches(
    client: lamina.Client, async_client: lamina.AsyncClient, invoice_pdf: Path
) -> None:
    assert LaminaExtractTool._arun is not BaseTool._arun
    sync_tool = LaminaExtractTool(schema=Invoice, client=client)
    tools = [
        LaminaExtractTool(schema=Invoice, async_client=async_client),
        sync_tool,  # opens an AsyncClient configured like the sync one
    ]
    expected = call(sync_tool, file_path=str(invoice_pdf))
    for tool in tools:
        message = await tool.ainvoke(
            {
                "type": "tool_call",
                "id": "a",
                "name": tool.name,
                "args": {"file_path": str(invoice_pdf)},
            }
        )
        assert message.content == expected.content
        assert message.artifact["fields"] == expected.artifact["fields"]


Case = Literal["corrupt", "unknown_id", "pages", "does_not_fit"]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("corrupt", r"Could not extract from .*damaged or truncated.*readable document"),
        ("unknown_id", r"No Lamina file or parse job has the id 'dfl-0000"),
        ("pages", r"target_pages '4' selects no page: the document has 1 page"),
        ("does_not_fit", r"does not hold the data NeedsPO needs \(po_number: .*other pages"),
    ],
)
async def test_job_errors_are_tool_exceptions(
    client: lamina.Client, invoice_pdf: Path, tmp_path: Path, case: Case, expected: str
) -> None:
    class NeedsPO(BaseModel):
        po_number: str

    schema: type[BaseModel] = NeedsPO if case == "does_not_fit" else Invoice
    tool = LaminaExtractTool(schema=schema, client=client, handle_tool_error=False)
    args: dict[str, Any] = {"file_path": str(invoice_pdf)}
    if case == "corrupt":
        args["file_path"] = str(support.documents.make_corrupt_pdf(tmp_path))
    elif case == "unknown_id":
        args["file_path"] = "dfl-00000000-0000-0000-0000-000000000000"
    elif case == "pages":
        args["pages"] = "4"
    with pytest.raises(ToolException, match=expected):
        tool.invoke(args)
    with pytest.raises(ToolException, match=expected):
        await tool.ainvoke(args)


def test_configuration_errors_are_not_the_models(client: lamina.Client, invoice_pdf: Path) -> None:
    bad_schema = {"type": "object", "properties": {"a": {"type": "x"}}}
    tool = LaminaExtractTool(schema=bad_schema, client=client)
    with pytest.raises(lamina.UnprocessableEntityError):
        tool.invoke({"file_path": str(invoice_pdf)})


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_network_is_blocked_here() -> None:
    """The extractions above ran with this in force."""
    import socket

    from pytest_socket import SocketBlockedError

    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
