"""Extraction: parse items + a JSON Schema → data that follows the schema, with per-field
metadata (confidence, reasoning, citations with page, text and boxes).

Pure, like the engine: no files, database or server. Two backends share the document model,
the schema compiler and the citation locator:

- :func:`extract_local` (tier ``cost_effective``): layout and label rules, offline, no model.
- :mod:`lamina.extract.llm` (tiers ``agentic``, ``agentic_plus``, ``turbo``): an
  OpenAI-compatible chat endpoint with JSON-schema structured output; citations are found by
  locating each returned value in the parse items.

The output shape is the wire's: ``data`` is one object (``per_doc``) or a list (``per_page``,
``per_table_row``); ``field_metadata`` is ``{"document_metadata": ...}``, ``{"page_metadata":
[...]}`` or ``{"row_metadata": [...]}``, mirroring the data tree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lamina.extract._document import Document
from lamina.extract._local import Found, LocalExtractor
from lamina.extract._schema import Node, SchemaError, check_schema, coerce, compile_schema
from lamina.types import FailedPage, ItemsPage

__all__ = [
    "Document",
    "ExtractionOutput",
    "Node",
    "SchemaError",
    "check_schema",
    "coerce",
    "compile_schema",
    "extract_local",
]


@dataclass(frozen=True)
class ExtractionOutput:
    """What an extractor returns, in wire shapes."""

    data: dict[str, Any] | list[dict[str, Any]]
    field_metadata: dict[str, Any]
    pages_extracted: int


def extract_local(
    pages: Iterable[ItemsPage | FailedPage | dict[str, Any]] | Document,
    schema: dict[str, Any],
    *,
    target: str = "per_doc",
    parsing_confidence: float | None = None,
) -> ExtractionOutput:
    """Extract ``schema`` from parsed ``pages`` without a model.

    ``target``: ``per_doc`` (one object), ``per_page`` (one per page) or ``per_table_row`` (one
    per body row of every table whose header matches the schema's properties). Raises
    :class:`SchemaError` for an unusable schema.
    """
    root = compile_schema(schema)
    doc = pages if isinstance(pages, Document) else Document.from_pages(pages)
    count = len(doc.pages)
    if target == "per_page":
        records = []
        for number in sorted(doc.pages):
            extractor = LocalExtractor(doc.subset([number]), parsing_confidence=parsing_confidence)
            records.append(_finish(root, extractor.extract_object(root)))
        return ExtractionOutput(
            [r.value for r in records], {"page_metadata": [r.meta for r in records]}, count
        )
    extractor = LocalExtractor(doc, parsing_confidence=parsing_confidence)
    if target == "per_table_row":
        rows = [_finish(root, r) for r in extractor.table_rows(root, ())]
        return ExtractionOutput(
            [r.value for r in rows], {"row_metadata": [r.meta for r in rows]}, count
        )
    found = _finish(root, extractor.extract_object(root))
    return ExtractionOutput(found.value, {"document_metadata": found.meta}, count)


def _finish(root: Node, found: Found) -> Found:
    """Coerce to the schema (every declared property present, types as declared)."""
    return Found(coerce(root, found.value), found.meta)
