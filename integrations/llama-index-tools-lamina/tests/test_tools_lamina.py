"""LaminaToolSpec: the parse_file tool on real documents."""

from __future__ import annotations

import pytest
from llama_index.core.tools import FunctionTool
from llama_index.core.tools.tool_spec.base import BaseToolSpec
from llama_index.tools.lamina import LaminaToolSpec


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
    from conftest import support

    spec = LaminaToolSpec(client=client)
    with pytest.raises(ValueError, match=r"File not found.*existing local file"):
        spec.parse_file(str(tmp_path / "missing.pdf"))
    corrupt = support.documents.make_corrupt_pdf(tmp_path)
    with pytest.raises(ValueError, match=r"Could not parse .*damaged or truncated"):
        spec.parse_file(str(corrupt))


def test_long_output_is_capped(client, corpus) -> None:
    text = LaminaToolSpec(client=client, max_chars=40).parse_file(str(corpus["multipage"]))
    assert text.endswith("ask for fewer pages]") and len(text) < 120


def test_served_and_embedded_give_the_same_markdown(client, served_url, corpus) -> None:
    embedded = LaminaToolSpec(client=client).parse_file(str(corpus["headings"]))
    served = LaminaToolSpec(base_url=served_url).parse_file(str(corpus["headings"]))
    assert served == embedded
