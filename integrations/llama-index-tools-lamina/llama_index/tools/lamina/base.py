"""``LaminaToolSpec``: agent tools that parse documents with Lamina."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llama_index.core.tools.tool_spec.base import BaseToolSpec
from pydantic import SecretStr

from lamina import AsyncClient, Client, LaminaError
from lamina.types import FailedPage, ParseResponse


class LaminaToolSpec(BaseToolSpec):
    """Tools for agents: ``parse_file`` turns a local document into Markdown.

    >>> tools = LaminaToolSpec().to_tool_list()  # doctest: +SKIP

    With no client and no ``base_url`` the Lamina engine runs in this process. Failures raise
    ``ValueError`` with a message the model can act on (wrong path, unreadable file, bad page
    selection); LlamaIndex agents hand it back to the model as an error tool output.
    """

    spec_functions = [("parse_file", "aparse_file")]

    def __init__(
        self,
        *,
        client: Client | None = None,
        async_client: AsyncClient | None = None,
        base_url: str | None = None,
        api_key: str | SecretStr | None = None,
        data_dir: str | None = None,
        tier: str = "fast",
        max_chars: int | None = 100_000,
    ) -> None:
        """Set up the tools; ``max_chars`` caps the Markdown returned (None: no cap)."""
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
        """Parse a local document file (PDF, plain text or Markdown) and return its content as
        Markdown, with headings, lists, code and tables kept. Each page starts with a
        `<!-- page N -->` marker (N counts from 1) so you can cite page numbers.

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
        """Parse a local document file (PDF, plain text or Markdown) and return its content as
        Markdown, with headings, lists, code and tables kept. Each page starts with a
        `<!-- page N -->` marker (N counts from 1) so you can cite page numbers.

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

    # --- helpers ---------------------------------------------------------------------------------

    def _options(self, path: str, pages: str | None) -> dict[str, Any]:
        if not Path(path).is_file():
            raise ValueError(f"File not found: {path!r}. Give the path of an existing local file.")
        options: dict[str, Any] = {"tier": self.tier, "expand": ("markdown",)}
        if pages and pages.strip():
            options["page_ranges"] = {"target_pages": pages.replace(" ", "")}
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
