"""``LaminaToolSpec``: agent tools that parse documents and extract typed data with Lamina."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llama_index.core.tools.tool_spec.base import SPEC_FUNCTION_TYPE, BaseToolSpec
from llama_index.core.tools.types import ToolMetadata
from pydantic import BaseModel, Field, SecretStr

from lamina import (
    AsyncClient,
    Client,
    ExtractResult,
    LaminaError,
)
from lamina.ingest import (
    ExtractionSchema,
    describe_fields,
    json_schema_of,
    page_selection,
    schema_about,
    schema_title,
    tool_error_message,
    tool_name_for,
    tool_source,
)
from lamina.types import FailedPage, ParseResponse

PAGES_PATTERN = r"^\s*\d+\s*(-\s*\d+\s*)?(,\s*\d+\s*(-\s*\d+\s*)?)*$"
MAX_DESCRIPTION = 1024
"""What LlamaIndex accepts for an OpenAI tool description."""


class ExtractDataInput(BaseModel):
    """The arguments of the ``extract_data`` tool."""

    path: str = Field(
        description=(
            "Path of the document on the local disk (PDF, Word, PowerPoint, Excel/CSV, HTML, "
            "image or text), e.g. 'invoices/march.pdf'; or a Lamina file id ('dfl-...') or "
            "parse job id ('pjb-...')."
        )
    )
    pages: str | None = Field(
        default=None,
        pattern=PAGES_PATTERN,
        description="Optional 1-based pages to read, e.g. '1', '2-4' or '1,3,5-7'.",
    )


class LaminaToolSpec(BaseToolSpec):
    """Tools for agents: ``parse_file`` turns a local document into Markdown; with a
    ``schema``, ``extract_data`` extracts typed fields with citations and confidences.

    >>> tools = LaminaToolSpec().to_tool_list()  # doctest: +SKIP
    >>> tools = LaminaToolSpec(schema=Invoice).to_tool_list()  # doctest: +SKIP

    ``schema`` (a pydantic model class or a JSON Schema dict) is fixed here: the model only
    chooses the file and pages. The extraction tool is named after it (``Invoice`` →
    ``extract_invoice``, else ``extract_data``) and its description lists the fields, their
    types and descriptions (cut to LlamaIndex's 1024 characters).

    With no client and no ``base_url`` the Lamina engine runs in this process. Failures raise
    ``ValueError`` with a message the model can act on (wrong path, unreadable file, bad page
    selection, a document without the required fields); LlamaIndex agents hand it back to the
    model as an error tool output. Configuration errors (a bad schema or tier, no server) raise
    Lamina's own exceptions.
    """

    spec_functions: list[SPEC_FUNCTION_TYPE] = [("parse_file", "aparse_file")]

    def __init__(
        self,
        *,
        client: Client | None = None,
        async_client: AsyncClient | None = None,
        base_url: str | None = None,
        api_key: str | SecretStr | None = None,
        data_dir: str | None = None,
        tier: str = "cost_effective",
        max_chars: int | None = 100_000,
        schema: ExtractionSchema | None = None,
        extract_tier: str = "cost_effective",
        extract_options: Mapping[str, Any] | None = None,
        job_timeout: float | None = 600.0,
    ) -> None:
        """Set up the tools.

        ``tier``/``max_chars``: parse tier and cap on the Markdown returned (None: no cap).
        ``schema``: what ``extract_data`` extracts (no schema, no extraction tool);
        ``extract_tier``, ``extract_options`` (more Extract v2 configuration, e.g.
        ``system_prompt``) and ``job_timeout`` (seconds) configure it.
        """
        if schema is not None:
            json_schema_of(schema)  # a TypeError now rather than at the first call
            self.spec_functions = [*self.spec_functions, ("extract_data", "aextract_data")]
        self.schema = schema
        self.extract_tier = extract_tier
        self.extract_options = dict(extract_options or {})
        self.job_timeout = job_timeout
        self._client = client
        self._async_client = async_client
        self._settings: dict[str, Any] = {
            "base_url": base_url,
            "api_key": api_key,
            "data_dir": data_dir,
        }
        self.tier = tier
        self.max_chars = max_chars

    def parse_file(self, path: str, pages: str | None = None) -> str:
        """Parse a local document file and return its content as Markdown, with headings,
        lists, code and tables kept. Reads PDF (scans too), Word (.docx), PowerPoint (.pptx),
        Excel (.xlsx), HTML, Markdown, plain text, CSV/TSV and images (PNG, JPEG, TIFF, GIF,
        BMP, WebP). Each page (slide, sheet) starts with a `<!-- page N -->` marker (N counts
        from 1) so you can cite page numbers.

        Args:
            path: Path of the file on the local disk, e.g. "reports/q3.pdf".
            pages: Optional 1-based pages to read, e.g. "1", "2-4" or "1,3,5-7". Leave empty
                to read the whole document.
        """
        options = self._options(path, pages)
        try:
            if self._client is not None:
                response = self._client.parse(path, **options)
            else:
                with Client(**self._settings) as client:
                    response = client.parse(path, **options)
        except LaminaError as exc:
            raise ValueError(f"Could not parse {path!r}: {exc}") from exc
        return self._render(response)

    async def aparse_file(self, path: str, pages: str | None = None) -> str:
        """Parse a local document file and return its content as Markdown, with headings,
        lists, code and tables kept. Reads PDF (scans too), Word (.docx), PowerPoint (.pptx),
        Excel (.xlsx), HTML, Markdown, plain text, CSV/TSV and images (PNG, JPEG, TIFF, GIF,
        BMP, WebP). Each page (slide, sheet) starts with a `<!-- page N -->` marker (N counts
        from 1) so you can cite page numbers.

        Args:
            path: Path of the file on the local disk, e.g. "reports/q3.pdf".
            pages: Optional 1-based pages to read, e.g. "1", "2-4" or "1,3,5-7". Leave empty
                to read the whole document.
        """
        options = self._options(path, pages)
        try:
            if self._async_client is not None:
                response = await self._async_client.parse(path, **options)
            else:
                async with AsyncClient(**self._settings) as client:
                    response = await client.parse(path, **options)
        except LaminaError as exc:
            raise ValueError(f"Could not parse {path!r}: {exc}") from exc
        return self._render(response)

    def extract_data(self, path: str, pages: str | None = None) -> str:
        """Extract the schema's fields from a document; JSON text with ``data`` (the values)
        and ``fields`` (per field: ``path``, ``value``, ``confidence``, ``reasoning`` and
        ``citations``, each with ``page`` (1-based), ``matching_text``, ``bounding_boxes``
        (PDF points, origin top-left) and ``page_dimensions``), plus the ``job_id``.

        Args:
            path: Path of the file on the local disk, or a Lamina file id (dfl-...) or parse
                job id (pjb-...).
            pages: Optional 1-based pages to read, e.g. "1", "2-4" or "1,3,5-7".
        """
        schema, source, options = self._extract_call(path, pages)
        try:
            if self._client is not None:
                result = self._client.extract(source, schema, **options)
            else:
                with Client(**self._settings) as client:
                    result = client.extract(source, schema, **options)
        except LaminaError as exc:
            raise _extract_error(exc, path, schema) from exc
        return _extract_text(result)

    async def aextract_data(self, path: str, pages: str | None = None) -> str:
        """Extract the schema's fields from a document; see :meth:`extract_data`.

        Args:
            path: Path of the file on the local disk, or a Lamina file id (dfl-...) or parse
                job id (pjb-...).
            pages: Optional 1-based pages to read, e.g. "1", "2-4" or "1,3,5-7".
        """
        schema, source, options = self._extract_call(path, pages)
        try:
            if self._async_client is not None:
                result = await self._async_client.extract(source, schema, **options)
            else:
                async with AsyncClient(**self._async_settings()) as client:
                    result = await client.extract(source, schema, **options)
        except LaminaError as exc:
            raise _extract_error(exc, path, schema) from exc
        return _extract_text(result)

    def get_metadata_from_fn_name(
        self, fn_name: str, spec_functions: list[SPEC_FUNCTION_TYPE] | None = None
    ) -> ToolMetadata | None:
        """The extraction tool's name, description (with the fields) and argument schema;
        the other tools' come from their signatures and docstrings."""
        if fn_name in ("extract_data", "aextract_data") and self.schema is not None:
            return ToolMetadata(
                name=tool_name_for(self.schema),
                description=_extract_description(self.schema),
                fn_schema=ExtractDataInput,
            )
        return super().get_metadata_from_fn_name(fn_name, spec_functions=spec_functions)

    # --- helpers ---------------------------------------------------------------------------------

    def _extract_call(
        self, path: str, pages: str | None
    ) -> tuple[ExtractionSchema, str, dict[str, Any]]:
        if self.schema is None:
            raise ValueError("No extraction schema: create LaminaToolSpec(schema=...) first.")
        options: dict[str, Any] = {
            **self.extract_options,
            "tier": self.extract_tier,
            "timeout": self.job_timeout,
        }
        selected = page_selection(pages)
        if selected:
            options["target_pages"] = selected
        return self.schema, tool_source(path), options

    def _async_settings(self) -> dict[str, Any]:
        """An injected sync client's settings, else the spec's own."""
        if self._client is None:
            return self._settings
        config = self._client.config
        return {"base_url": config.base_url, "api_key": config.api_key, "data_dir": config.data_dir}

    def _options(self, path: str, pages: str | None) -> dict[str, Any]:
        if not Path(path).is_file():
            raise ValueError(f"File not found: {path!r}. Give the path of an existing local file.")
        options: dict[str, Any] = {"tier": self.tier, "expand": ("markdown",)}
        selected = page_selection(pages)
        if selected:
            options["page_ranges"] = {"target_pages": selected}
        return options

    def _render(self, response: ParseResponse) -> str:
        parts = []
        for page in response.markdown.pages if response.markdown else []:
            if isinstance(page, FailedPage):
                parts.append(f"<!-- page {page.page_number}: not parsed ({page.error}) -->")
            else:
                parts.append(f"<!-- page {page.page_number} -->\n{page.markdown}")
        text = "\n\n".join(parts)
        if self.max_chars is not None and len(text) > self.max_chars:
            cut = text[: self.max_chars]
            text = f"{cut}\n\n[truncated at {self.max_chars} characters; ask for fewer pages]"
        return text


# --- extraction helpers --------------------------------------------------------------------------


def _extract_description(schema: ExtractionSchema) -> str:
    title = schema_title(schema)
    about = schema_about(schema)
    head = (
        f"Extract {title + ' data' if title else 'structured data'} from one document file "
        "(PDF, Word, PowerPoint, Excel/CSV, HTML, image or text) given by its local path or a "
        "Lamina dfl-/pjb- id, optionally only some 1-based pages. Returns JSON: 'data' with the "
        "fields below (null when the document does not show one) and 'fields' with each value's "
        "confidence and citations (page, matching text, boxes)."
    )
    if about:
        head += f" {title or 'The data'}: {about}"
    budget = MAX_DESCRIPTION - len(head) - len("\nFields:\n")
    return f"{head}\nFields:\n{describe_fields(schema, max_chars=budget)}"[:MAX_DESCRIPTION]


def _extract_text(result: ExtractResult[Any]) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, default=str)


def _extract_error(exc: LaminaError, path: str, schema: ExtractionSchema) -> Exception:
    """A ValueError for what the model can act on; anything else is returned unchanged."""
    message = tool_error_message(exc, path, schema)
    return ValueError(message) if message else exc
