"""LaminaExtractTool invoked for real: LangChain's standard integration suite on the embedded
engine and on ``lamina serve`` over loopback, and a scripted agent turn."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import support
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_lamina import LaminaExtractTool
from langchain_tests.integration_tests import ToolsIntegrationTests
from pydantic import BaseModel

import lamina


class LineItem(BaseModel):
    description: str
    quantity: int
    unit_price: float
    amount: float


class Invoice(BaseModel):
    invoice_number: str
    invoice_date: date
    total: float
    line_items: list[LineItem] = []


class TestLaminaExtractToolEmbedded(ToolsIntegrationTests):
    """The standard suite against the in-process engine (an injected client)."""

    @pytest.fixture(autouse=True)
    def _inputs(self, client: lamina.Client, invoice_pdf: Path) -> None:
        self._client = client
        self._pdf = invoice_pdf

    @property
    def tool_constructor(self) -> type[LaminaExtractTool]:
        return LaminaExtractTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"schema": Invoice, "client": self._client}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"file_path": str(self._pdf)}


@pytest.mark.server
class TestLaminaExtractToolServed(ToolsIntegrationTests):
    """The standard suite against ``lamina serve`` on loopback (``base_url``), with pages."""

    @pytest.fixture(autouse=True)
    def _inputs(self, served_url: str, invoice_pdf: Path) -> None:
        self._url = served_url
        self._pdf = invoice_pdf

    @property
    def tool_constructor(self) -> type[LaminaExtractTool]:
        return LaminaExtractTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"schema": support.business.invoice_schema(), "base_url": self._url}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"file_path": str(self._pdf), "pages": "1"}


@pytest.mark.server
async def test_served_and_embedded_give_the_same_result(
    client: lamina.Client, served_url: str, invoice_pdf: Path
) -> None:
    args = {"file_path": str(invoice_pdf)}
    embedded = LaminaExtractTool(schema=Invoice, client=client)
    served = LaminaExtractTool(schema=Invoice, base_url=served_url)
    _, local = await embedded._arun(**args)
    _, remote = await served._arun(**args)
    assert remote["data"] == local["data"]
    assert remote["fields"] == local["fields"]


def test_a_scripted_agent_turn(client: lamina.Client, invoice_pdf: Path) -> None:
    """A chat model asks for the tool, the tool answers, the model reads the content."""
    tool = LaminaExtractTool(schema=Invoice, client=client)
    call = {"name": tool.name, "args": {"file_path": str(invoice_pdf)}, "id": "call-1"}
    model = GenericFakeChatModel(
        messages=iter(
            [AIMessage(content="", tool_calls=[call]), AIMessage(content="The total is 1234.5.")]
        )
    )
    history: list[Any] = [HumanMessage("What is the invoice total?")]
    request = model.invoke(history)
    history.append(request)
    for tool_call in request.tool_calls:
        answer = tool.invoke({**tool_call, "type": "tool_call"})
        assert isinstance(answer, ToolMessage) and answer.tool_call_id == "call-1"
        history.append(answer)
    assert json.loads(history[-1].content)["total"] == support.business.INVOICE["total"]
    assert history[-1].artifact["fields"]
    assert model.invoke(history).content == "The total is 1234.5."
