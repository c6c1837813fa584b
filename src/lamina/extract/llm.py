"""The model extractor (tiers ``agentic``, ``agentic_plus``, ``turbo``): an OpenAI-compatible
chat-completions endpoint returns JSON that follows the schema; citations come from locating each
returned value in the parse items, with the same document model the local extractor uses.

The endpoint is configured by the server (``LAMINA_MODEL_URL``, ``LAMINA_MODEL_NAME``,
``LAMINA_MODEL_API_KEY``). Requests use ``response_format: {"type": "json_schema", ...}``; the
document goes in as markdown with each page wrapped in ``<page number="N">`` tags, followed by
its layout (the visual rows of each page with their position, which keeps a photo's columns
together: ``TOTAL  RM  60.30`` on one row) and the candidate values the local rules found for
each field, with their confidence and reasons. Transient failures (connection errors,
408/409/429/5xx) are retried with exponential backoff.

Each answered value is checked against those candidates: a value the rules also found takes the
candidate's citations (page, text, box) and a confidence that reflects the agreement; any other
value is located in the text (lower confidence), and a value found nowhere gets the lowest.
Like the local extractor's, the overall confidence is discounted for OCR'd pages
(:mod:`lamina.extract._confidence`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from lamina.extract import ExtractionOutput
from lamina.extract._confidence import leaf_meta, parsing_of
from lamina.extract._document import Document
from lamina.extract._layout import build_layout
from lamina.extract._local import LocalExtractor
from lamina.extract._schema import Node, coerce, compile_schema
from lamina.extract._values import find_date

DEFAULT_SYSTEM_PROMPT = (
    "You extract structured data from documents. Answer with JSON that follows the given "
    "schema exactly. Copy values as they appear in the document; use null for anything the "
    "document does not state. Never invent values. Dates with format date are YYYY-MM-DD; "
    "numbers are plain numbers without currency symbols or thousands separators."
)
RETRY_STATUS = frozenset({408, 409, 429})
AGREES_WITH_BEST = 0.95
"""The model's value is the rules' best candidate: two independent readings agree."""
AGREES_WITH_OTHER = 0.8
"""The model picked another of the rules' candidates (it overruled the rules' ranking)."""
LOCATED_CONFIDENCE = 0.7
"""The value is in the text but the rules did not propose it."""
UNLOCATED_CONFIDENCE = 0.35
"""The value is nowhere in the text (reformatted, or invented)."""
MAX_LAYOUT_ROWS = 400
"""Pages with more rows than this go in as markdown only (the layout would double the prompt)."""


class ModelError(Exception):
    """The model endpoint failed or answered with something that is not the schema's JSON."""


@dataclass(frozen=True)
class ModelEndpoint:
    """Where and how to call the model."""

    url: str
    model: str | None = None
    api_key: str | None = None
    timeout: float = 120.0
    max_retries: int = 3

    @classmethod
    def maybe(
        cls, url: str | None, model: str | None, api_key: str | None, timeout: float = 120.0
    ) -> ModelEndpoint | None:
        """An endpoint when ``url`` is set, else None."""
        return cls(url, model, api_key, timeout) if url else None

    @property
    def chat_url(self) -> str:
        base = self.url.rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/chat/completions"


def document_prompt(doc: Document) -> str:
    """The document as page-tagged markdown, then its layout rows (see :func:`layout_prompt`)."""
    parts = [
        f'<page number="{number}">\n{doc.markdown.get(number, "")}\n</page>'
        for number in sorted(doc.pages)
    ]
    layout = layout_prompt(doc)
    if layout:
        parts.append(layout)
    return "\n".join(parts)


def layout_prompt(doc: Document) -> str:
    """The visual rows of each page, top to bottom, as ``[y%] text`` (the row's top as a
    percentage of the page height; pieces of a row separated by two spaces). Empty when the
    parse gave no boxes."""
    layout = build_layout(doc)
    if not any(row.box for row in layout.rows):
        return ""
    parts = []
    for number in sorted(doc.pages):
        rows = [r for r in layout.rows if r.page == number]
        if not rows or len(rows) > MAX_LAYOUT_ROWS:
            continue
        height = doc.pages[number].height or 1.0
        lines = [
            f"[{100 * (row.box[1] if row.box else 0.0) / height:.0f}%] {row.text}" for row in rows
        ]
        parts.append(f'<layout page="{number}">\n' + "\n".join(lines) + "\n</layout>")
    return "\n".join(parts)


def hints_prompt(hints: dict[str, list[dict[str, Any]]]) -> str:
    """The rules' candidate values per field, for the model to confirm or overrule."""
    if not hints:
        return ""
    lines = [
        "Candidate values found by layout rules (they may be wrong: check each against the "
        "document; answer with the document's value):"
    ]
    for key, entries in hints.items():
        shown = "; ".join(
            f"{e['text']!r} (confidence {e['confidence']:.2f}: {e['reasoning']})" for e in entries
        )
        lines.append(f"- {key}: {shown}")
    return "\n".join(lines)


class ChatClient:
    """POSTs chat completions with retries; ``sleep`` and ``transport`` are injectable."""

    def __init__(
        self,
        endpoint: ModelEndpoint,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = endpoint
        self._transport = transport
        self._sleep = sleep

    def complete_json(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> Any:
        """Send ``messages`` asking for JSON following ``schema``; returns the parsed JSON."""
        body: dict[str, Any] = {
            "messages": messages,
            "temperature": 0,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "extraction", "schema": schema, "strict": False},
            },
        }
        if self.endpoint.model:
            body["model"] = self.endpoint.model
        headers = {"Content-Type": "application/json"}
        if self.endpoint.api_key:
            headers["Authorization"] = f"Bearer {self.endpoint.api_key}"
        response = self._post(body, headers)
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ModelError(f"The model endpoint answered without a message: {exc}") from exc
        return _parse_json(content)

    def _post(self, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        last = ""
        with httpx.Client(timeout=self.endpoint.timeout, transport=self._transport) as client:
            for attempt in range(self.endpoint.max_retries + 1):
                if attempt:
                    self._sleep(min(2.0 ** (attempt - 1), 30.0))
                try:
                    response = client.post(self.endpoint.chat_url, json=body, headers=headers)
                except httpx.HTTPError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                    continue
                if response.is_success:
                    return response
                last = f"HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code not in RETRY_STATUS and response.status_code < 500:
                    break
        raise ModelError(f"The model endpoint {self.endpoint.chat_url} failed: {last}")


def _parse_json(content: Any) -> Any:
    if not isinstance(content, str):
        return content
    text = content.strip()
    fenced = re.match(r"^```(?:json)?\s*(.*?)\s*```$", text, re.S)
    if fenced:
        text = fenced.group(1)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(f"The model did not answer with JSON: {text[:200]!r}") from exc


# --- extraction ---------------------------------------------------------------------------------


def extract_llm(
    doc: Document,
    schema: dict[str, Any],
    endpoint: ModelEndpoint,
    *,
    target: str = "per_doc",
    system_prompt: str | None = None,
    parsing_confidence: float | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ExtractionOutput:
    """Extract ``schema`` from ``doc`` with the model at ``endpoint``.

    Raises :class:`ModelError` when the endpoint fails after retries or answers badly, and
    :class:`~lamina.extract.SchemaError` for an unusable schema.
    """
    root = compile_schema(schema)
    chat = ChatClient(endpoint, transport=transport, sleep=sleep)
    system = DEFAULT_SYSTEM_PROMPT + (f"\n\n{system_prompt}" if system_prompt else "")
    count = len(doc.pages)

    def ask(part: Document, wanted: dict[str, Any], what: str, hints: Hints) -> Any:
        content = f"Extract {what} from this document.\n\n{document_prompt(part)}"
        if hints:
            content += "\n\n" + hints_prompt(hints)
        messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": content},
        ]
        return chat.complete_json(messages, wanted)

    if target == "per_page":
        records, metas = [], []
        for number in sorted(doc.pages):
            part = doc.subset([number])
            hints = LocalExtractor(part).hints(root)
            answer = coerce(root, ask(part, schema, "the data", hints))
            records.append(answer)
            metas.append(_Citer(part, parsing_confidence, hints).tree(root, answer, number))
        return ExtractionOutput(records, {"page_metadata": metas}, count)
    if target == "per_table_row":
        wrapped = {
            "type": "object",
            "properties": {"rows": {"type": "array", "items": schema}},
            "required": ["rows"],
        }
        answer = ask(doc, wrapped, "one object per table row", {})
        rows = answer.get("rows") if isinstance(answer, dict) else answer
        rows = [coerce(root, r) for r in rows or [] if isinstance(r, dict)]
        cite = _Citer(doc, parsing_confidence, {})
        return ExtractionOutput(rows, {"row_metadata": [cite.tree(root, r) for r in rows]}, count)
    hints = LocalExtractor(doc).hints(root)
    answer = coerce(root, ask(doc, schema, "the data", hints))
    if not isinstance(answer, dict):
        raise ModelError("The model did not answer with a JSON object")
    meta = _Citer(doc, parsing_confidence, hints).tree(root, answer)
    return ExtractionOutput(answer, {"document_metadata": meta}, count)


Hints = dict[str, list[dict[str, Any]]]


class _Citer:
    """Field metadata for model answers: each top-level leaf checked against the rules'
    candidates (``hints``), every other leaf located in the document."""

    def __init__(self, doc: Document, parsing_confidence: float | None, hints: Hints) -> None:
        self.doc = doc
        self.parsing_confidence = parsing_confidence
        self.hints = hints

    def tree(self, node: Node, value: Any, page: int | None = None, key: str = "") -> Any:
        if node.kind == "object":
            value = value if isinstance(value, dict) else {}
            top = not key
            return {
                k: self.tree(sub, value.get(k), page, k if top else "/")
                for k, sub in node.properties.items()
            }
        if node.kind == "array":
            items = node.items
            values = value if isinstance(value, list) else []
            return [self.tree(items, v, page, "/") if items else self.leaf(v, page) for v in values]
        return self.leaf(value, page, self.hints.get(key, []))

    def leaf(
        self, value: Any, page: int | None, hints: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        if value is None:
            return self._meta(0.0, "The model found no value.", [])
        for rank, hint in enumerate(hints or []):
            if _same(hint.get("value"), value):
                if rank == 0:
                    conf = max(AGREES_WITH_BEST, hint["extraction_confidence"])
                    why = "Returned by the model; the layout rules found the same value"
                else:
                    conf = AGREES_WITH_OTHER
                    why = "Returned by the model; the layout rules ranked it lower"
                return self._meta(conf, f"{why} ({hint['reasoning']})", hint["citation"])
        citations = locate_value(self.doc, value, prefer_page=page)
        if citations:
            return self._meta(
                LOCATED_CONFIDENCE, "Returned by the model; found in the text.", citations
            )
        return self._meta(
            UNLOCATED_CONFIDENCE, "Returned by the model; not found verbatim in the text.", []
        )

    def _meta(self, conf: float, reasoning: str, citations: list[dict[str, Any]]) -> dict[str, Any]:
        parsing = self.parsing_confidence
        if parsing is None:
            parsing = parsing_of(citations, {n: p.confidence for n, p in self.doc.pages.items()})
        return leaf_meta(conf, reasoning, citations, parsing=parsing)


def _same(a: Any, b: Any) -> bool:
    """Two values are the same answer: equal, equal as numbers, or equal as text once case,
    spaces and punctuation are folded."""
    if a == b:
        return True
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(float(a) - float(b)) < 0.005
    fold = lambda v: re.sub(r"[^0-9a-z]", "", str(v).lower())  # noqa: E731
    if bool(fold(a)) and fold(a) == fold(b):
        return True
    if isinstance(a, str) and isinstance(b, str):  # dates compared as dates
        da, db = find_date(a), find_date(b)
        return bool(da and db and da[0] == db[0])
    return False


def locate_value(
    doc: Document, value: Any, *, prefer_page: int | None = None
) -> list[dict[str, Any]]:
    """Citations for a typed value: the text as is, numbers in their usual written forms, ISO
    dates in any format the document wrote them in."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        for text in _number_forms(float(value)):
            found = doc.locate(text, prefer_page=prefer_page)
            if found:
                return found
        return []
    text = str(value)
    found = doc.locate(text, prefer_page=prefer_page)
    if found or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return found
    for line in doc.lines:
        date = find_date(line.text)
        if date and date[0] == text:
            return doc.locate(line.text[date[1][0] : date[1][1]], prefer_page=line.page)
    return []


def _number_forms(value: float) -> list[str]:
    forms = [f"{value:,.2f}", f"{value:.2f}", f"{value:,.2f}".replace(",", " ")]
    if value.is_integer():
        forms = [f"{int(value):,}", str(int(value)), *forms]
    else:
        forms.append(repr(value))
    eu = f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    forms.append(eu)
    return list(dict.fromkeys(forms))
