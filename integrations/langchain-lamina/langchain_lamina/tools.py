"""``LaminaExtractTool``: a LangChain tool that extracts typed fields from a document, with a
citation (page, text, boxes) and a confidence for every field."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from lamina import (
    AsyncClient,
    Client,
    ExtractResult,
    LaminaError,
)
from lamina.ingest import (
    ClientSettings,
    describe_fields,
    open_async_client,
    open_client,
    page_selection,
    schema_about,
    schema_title,
    tool_error_message,
    tool_name_for,
    tool_source,
)

PAGES_PATTERN = r"^\s*\d+\s*(-\s*\d+\s*)?(,\s*\d+\s*(-\s*\d+\s*)?)*$"


class LaminaExtractInput(BaseModel):
    """What a model passes to :class:`LaminaExtractTool`."""

    file_path: str = Field(
        description=(
            "Path of the document on the local disk (PDF, Word, PowerPoint, Excel/CSV, HTML, "
            "image or text), e.g. 'invoices/march.pdf'; or a Lamina file id ('dfl-...') or "
            "parse job id ('pjb-...') returned earlier."
        )
    )
    pages: str | None = Field(
        default=None,
        pattern=PAGES_PATTERN,
        description=(
            "Optional 1-based pages to read, e.g. '1', '2-4' or '1,3,5-7'. Leave empty to read "
            "the whole document."
        ),
    )


class LaminaExtractTool(BaseTool):
    """Extract the fields of ``schema`` from a document, for agents.

    Example::

        tool = LaminaExtractTool(schema=Invoice)  # named "extract_invoice"
        call = {"name": tool.name, "args": {"file_path": "inv.pdf"}, "id": "1"}
        message = tool.invoke({**call, "type": "tool_call"})  # a ToolMessage
        message.content  # '{"invoice_number": "INV-1", "total": 1234.5, ...}'
        message.artifact["fields"][0]["citations"][0]["page"]  # 1

    ``schema`` (a pydantic model class or a JSON Schema dict) is fixed at construction: the
    model only chooses the file and, optionally, the pages. Its fields, types and descriptions
    are listed in the tool ``description`` and its title names the tool (``Invoice`` →
    ``extract_invoice``); pass ``name`` / ``description`` to choose your own.

    Output (``response_format="content_and_artifact"``): the content the model reads is the
    extracted data as compact JSON; the artifact is :meth:`lamina.ExtractResult.to_dict` —
    ``{"job_id", "data", "fields": [{"path", "value", "confidence", "reasoning", "citations":
    [{"page", "matching_text", "bounding_boxes": [{"x", "y", "w", "h"}], "page_dimensions"}]}]}``
    (pages 1-based, boxes in PDF points, origin top-left) — plain JSON, so it survives
    checkpointers; rebuild the typed record with ``Invoice.model_validate(artifact["data"])``.

    Errors a model can fix or explain — a missing file, an unknown id, a damaged or unreadable
    document, pages out of range, a document that lacks the required fields, a job that timed
    out — raise :class:`~langchain_core.tools.ToolException` with a message saying what to do.
    ``handle_tool_error`` is True by default, so the message comes back as the tool's output
    (a ``ToolMessage`` with ``status="error"`` when called with a tool call) and the agent can
    react; set it to False to have ``invoke`` raise instead. Configuration errors (bad schema,
    unknown tier, no server, bad key) are not the model's to fix: they raise Lamina's own
    exceptions. Arguments that do not fit the input schema (e.g. ``pages="two"``) raise
    pydantic's ``ValidationError`` as for every LangChain tool.

    With no ``client`` and no ``base_url`` the Lamina engine runs in this process (no key, no
    server, no network) and a client is opened per call; inject a :class:`lamina.Client` (and a
    :class:`lamina.AsyncClient` for ``ainvoke``) to reuse one. ``ainvoke`` is natively async.
    """

    model_config = ConfigDict(populate_by_name=True)

    name: str = ""
    description: str = ""
    args_schema: type[BaseModel] = LaminaExtractInput
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: bool | str | Callable[[ToolException], Any] | None = True

    data_schema: type[BaseModel] | dict[str, Any] = Field(alias="schema")
    """The extraction schema: a pydantic model class or a JSON Schema dict."""
    tier: str = "cost_effective"
    """Extract tier: ``cost_effective`` (offline rules) or ``agentic``/``agentic_plus``/``turbo``
    (an LLM the server is configured with)."""
    extract_options: dict[str, Any] = Field(default_factory=dict)
    """More Extract v2 configuration (``system_prompt``, ``parse_tier``, ``extraction_target``
    as ``target``...), passed to :meth:`lamina.Client.extract`."""
    job_timeout: float | None = 600.0
    """Seconds to wait for one extraction job."""
    client: Client | None = Field(default=None, exclude=True)
    async_client: AsyncClient | None = Field(default=None, exclude=True)
    base_url: str | None = None
    api_key: SecretStr | None = None
    data_dir: str | None = None

    @model_validator(mode="after")
    def _name_and_describe(self) -> LaminaExtractTool:
        """Derive the name and description from the schema unless given."""
        if not self.name:
            self.name = tool_name_for(self.data_schema)
        if not self.description:
            self.description = _description(self.data_schema)
        return self

    # --- running -------------------------------------------------------------------------------

    def _run(
        self,
        file_path: str,
        pages: str | None = None,
        run_manager: CallbackManagerForToolRun | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Extract from ``file_path``: (data as JSON, full result with citations)."""
        source = _check_input(file_path)
        try:
            with open_client(self.client, self._settings()) as client:
                result = client.extract(source, self.data_schema, **self._call_options(pages))
        except LaminaError as exc:
            raise _tool_error(exc, file_path, self.data_schema) from exc
        return _output(result)

    async def _arun(
        self,
        file_path: str,
        pages: str | None = None,
        run_manager: AsyncCallbackManagerForToolRun | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Extract from ``file_path`` on :class:`lamina.AsyncClient`; see :meth:`_run`."""
        source = _check_input(file_path)
        try:
            async with open_async_client(
                self.async_client, self.client, self._settings()
            ) as client:
                result = await client.extract(source, self.data_schema, **self._call_options(pages))
        except LaminaError as exc:
            raise _tool_error(exc, file_path, self.data_schema) from exc
        return _output(result)

    # --- helpers -------------------------------------------------------------------------------

    def _settings(self) -> ClientSettings:
        return ClientSettings(base_url=self.base_url, api_key=self.api_key, data_dir=self.data_dir)

    def _call_options(self, pages: str | None) -> dict[str, Any]:
        options: dict[str, Any] = {**self.extract_options, "tier": self.tier}
        options["timeout"] = self.job_timeout
        try:
            selected = page_selection(pages)
        except ValueError as exc:
            raise ToolException(str(exc)) from exc
        if selected:
            options["target_pages"] = selected
        return options


def _description(schema: type[BaseModel] | Mapping[str, Any]) -> str:
    title = schema_title(schema)
    what = f"{title} data" if title else "structured data"
    about = schema_about(schema)
    return (
        f"Extract {what} from one document file with Lamina (PDF, Word, PowerPoint, "
        "Excel/CSV, HTML, image or text). Give the file's local path (or a Lamina 'dfl-'/'pjb-' "
        "id) and optionally 1-based pages such as '1-3'. Returns the data as JSON with these "
        "fields (a field the document does not show is null):\n"
        + describe_fields(schema)
        + (f"\nAbout {title or 'the data'}: {about}" if about else "")
    )


def _check_input(file_path: str) -> str:
    """The path or id to extract from, or a ToolException the model can act on."""
    try:
        return tool_source(file_path)
    except ValueError as exc:
        raise ToolException(str(exc)) from None


def _output(result: ExtractResult[Any]) -> tuple[str, dict[str, Any]]:
    artifact = result.to_dict()
    content = json.dumps(artifact["data"], ensure_ascii=False, default=str)
    return content, artifact


def _tool_error(
    exc: LaminaError, file_path: str, schema: type[BaseModel] | Mapping[str, Any]
) -> Exception:
    """A ToolException for what the model can act on; anything else is returned unchanged."""
    message = tool_error_message(exc, file_path, schema)
    return ToolException(message) if message else exc
