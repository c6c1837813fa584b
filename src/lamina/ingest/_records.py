"""Parse responses → :class:`Record` objects: text, flat store-safe metadata, deterministic ids."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from lamina import JobError, LaminaError
from lamina.ingest._runner import Outcome
from lamina.ingest._sources import Source
from lamina.ingest._text import clean_text, is_junk
from lamina.types import (
    FailedPage,
    HeadingItem,
    ItemsPage,
    LinkItem,
    MarkdownPage,
    PageMetadata,
    TableItem,
)

logger = logging.getLogger("lamina.integrations")

Granularity: TypeAlias = Literal["document", "page", "item", "chunk"]
OnError: TypeAlias = Literal["raise", "skip", "record"]
Scalar: TypeAlias = str | int | float | bool

GRANULARITIES: tuple[str, ...] = ("document", "page", "item", "chunk")
ON_ERROR_MODES: tuple[str, ...] = ("raise", "skip", "record")

ITEMS_KEY = "lamina_items"
"""Metadata key of a page's items (JSON string), written when ``include_items`` is on."""

EXCLUDED_KEYS: tuple[str, ...] = (
    "file_path",
    "file_id",
    "job_id",
    "tier",
    "source_url",
    "page_width",
    "page_height",
    "confidence",
    "item_index",
    "level",
    "bbox",
    "table_html",
    "table_csv",
    "failed_pages",
    "parse_status",
    "error",
    "error_type",
    "links",
    "chunk_part",
    ITEMS_KEY,
)
"""Keys kept out of embedding and LLM text: provenance, layout and bulky payloads. What stays
visible is what helps retrieval: ``file_name``, ``page_number``, ``page_label``,
``header_path``, ``item_type``, ``speaker_notes``, ``slide_section_name``."""

ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:lamina:ids")
"""Namespace of the deterministic UUIDs (UUIDs, so stores that insist on them accept ours)."""


@dataclass(frozen=True)
class Record:
    """One framework document to be: text, flat metadata and a deterministic id."""

    id: str
    text: str
    metadata: dict[str, Scalar]


@dataclass(frozen=True)
class MappingOptions:
    """How responses become records."""

    granularity: Granularity = "page"
    on_error: OnError = "raise"
    include_items: bool = False
    chunk_size: int | None = None
    """Granularity ``"chunk"``: the maximum chunk size (tokens with ``tokenizer``, else
    characters); None for one chunk per item."""
    chunk_overlap: int = 0
    """Granularity ``"chunk"``: repeat the last sentences of a chunk, up to this size, at the
    head of the next one where a section's running text goes on (see ``Chunker``)."""
    tokenizer: Any = None
    section_in_text: bool = False
    """Granularities ``"chunk"`` and ``"item"``: the section path (``Title > Section``) on the
    first line of each record's text, for stores that embed the text alone."""
    unwrap_links: bool = True
    """Granularity ``"chunk"``: markdown links become their anchor text, targets in ``links``
    (see ``Chunker``)."""
    include_job_id: bool = False
    """Put the parse job's id in the metadata. Off by default: every parse is a new job, so a
    job id would change the metadata (and so the hash) of unchanged content on every re-run,
    and deduplicating stores (LlamaIndex docstores, LangChain record managers) would re-embed
    everything."""


def make_id(identity: str, *parts: str | int) -> str:
    """A UUID derived from the content identity and the position inside the document."""
    key = "/".join([identity, *map(str, parts)])
    return str(uuid.uuid5(ID_NAMESPACE, key))


def check_options(granularity: str, on_error: str) -> None:
    """Reject unknown option values early, with the allowed ones in the message."""
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {GRANULARITIES}, not {granularity!r}")
    if on_error not in ON_ERROR_MODES:
        raise ValueError(f"on_error must be one of {ON_ERROR_MODES}, not {on_error!r}")


class PageParseError(LaminaError):
    """A page the engine could not parse, in a job that otherwise completed."""

    def __init__(self, file_label: str, page_number: int, error: str) -> None:
        super().__init__(f"{file_label}: page {page_number} could not be parsed: {error}")
        self.page_number = page_number
        self.error = error


def to_records(outcome: Outcome, options: MappingOptions) -> list[Record]:
    """Map one outcome to records, applying ``on_error`` to a failed file or page."""
    if outcome.error is not None or outcome.response is None:
        error = outcome.error or LaminaError(f"{outcome.source.label}: no result")
        if options.on_error == "raise":
            raise error
        logger.warning("Lamina could not parse %s: %s", outcome.source.label, error)
        if options.on_error == "skip":
            return []
        return [_failure_record(outcome, error, options.include_job_id)]
    return _Mapper(outcome, options).records()


def _base_metadata(outcome: Outcome) -> dict[str, Scalar]:
    source = outcome.source
    meta: dict[str, Scalar] = {}
    _put(meta, "file_name", outcome.name)
    _put(meta, "file_path", source.path)
    _put(meta, "source_url", stable_url(source.ref) if source.kind == "url" else None)
    _put(meta, "file_id", outcome.file_id)
    if source.kind == "job":  # the job is the input here, so its id is stable
        _put(meta, "job_id", source.ref)
    return meta


_SIGNING_PARAMS = re.compile(
    r"^(x-amz-.*|x-goog-.*|signature|expires|sig|se|st|sp|sv|sr|skoid|sktid|skt|ske|sks|skv|"
    r"token|key-pair-id|policy|awsaccesskeyid|security-token)$",
    re.IGNORECASE,
)


def stable_url(url: str | None) -> str | None:
    """``url`` without the query parameters of a signed (expiring) URL: the signature, expiry
    and credential parameters of S3, GCS and Azure presigned URLs change on every signing, and
    would change the metadata of unchanged content."""
    if not url:
        return url
    parts = urlsplit(url)
    if not parts.query:
        return url
    kept = parse_qsl(parts.query, keep_blank_values=True)
    stable = [(k, v) for k, v in kept if not _SIGNING_PARAMS.match(k)]
    if len(stable) == len(kept):
        return url
    return urlunsplit(parts._replace(query=urlencode(stable)))


def _failure_record(outcome: Outcome, error: BaseException, include_job_id: bool) -> Record:
    meta = {**_user_metadata(outcome.source), **_base_metadata(outcome)}
    job_id = error.job_id if isinstance(error, JobError) and include_job_id else None
    _put(meta, "job_id", job_id)
    meta.update(parse_status="failed", error=str(error), error_type=type(error).__name__)
    return Record(id=make_id(outcome.identity, "failed"), text="", metadata=meta)


def _user_metadata(source: Source) -> dict[str, Scalar]:
    return dict(source.extra)


def _put(meta: dict[str, Scalar], key: str, value: Any) -> None:
    """Set ``key`` only for a present, store-safe value (``None`` and ``""`` are left out)."""
    if value is None or value == "":
        return
    if isinstance(value, bool | int | float | str):
        meta[key] = value
    else:
        meta[key] = json.dumps(value, ensure_ascii=False, sort_keys=True)


def bbox_json(boxes: Iterable[Any]) -> str:
    """Boxes as a JSON list of ``{x, y, w, h}`` in page points, rounded to 0.01."""
    return json.dumps(
        [{k: round(float(getattr(b, k)), 2) for k in ("x", "y", "w", "h")} for b in boxes]
    )


class HeaderPath:
    """The heading stack of a document, carried across pages: ``/Title/Section/``."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []

    def enter(self, level: int, title: str) -> str:
        """Push a heading; returns the path of its parents (the heading's own header_path)."""
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        parents = self.current()
        self._stack.append((level, title.replace("/", "\u2215").strip()))
        return parents

    def current(self) -> str:
        return "/" + "".join(f"{title}/" for _, title in self._stack)


class _Mapper:
    """Builds the records of one completed response."""

    def __init__(self, outcome: Outcome, options: MappingOptions) -> None:
        response = outcome.response
        assert response is not None
        self.outcome = outcome
        self.options = options
        self.response = response
        self.label = outcome.name or outcome.source.label
        self.markdown = list(response.markdown.pages) if response.markdown else []
        self.items = {p.page_number: p for p in (response.items.pages if response.items else [])}
        self.meta = {
            m.page_number: m for m in (response.metadata.pages if response.metadata else [])
        }
        self.base = {**_user_metadata(outcome.source), **_base_metadata(outcome)}
        if options.include_job_id:
            _put(self.base, "job_id", response.job.id)
        _put(self.base, "tier", response.job.tier)

    def records(self) -> list[Record]:
        if self.options.granularity == "document":
            return self._document()
        if self.options.granularity == "item":
            return self._item_records()
        if self.options.granularity == "chunk":
            return self._chunk_records()
        return self._page_records()

    def _failed_page(self, page: FailedPage) -> Record | None:
        """Apply ``on_error`` to one failed page: raise, skip (logged) or a failure record."""
        error = PageParseError(self.label, page.page_number, page.error)
        if self.options.on_error == "raise":
            raise error
        logger.warning("%s", error)
        if self.options.on_error == "skip":
            return None
        meta = {**self.base, "page_number": page.page_number}
        meta.update(parse_status="failed", error=page.error, error_type=type(error).__name__)
        return Record(make_id(self.outcome.identity, "p", page.page_number), "", meta)

    def _document(self) -> list[Record]:
        texts, failed = [], []
        for page in self.markdown:
            if isinstance(page, MarkdownPage):
                texts.append(clean_text(page.markdown))
            else:
                failed.append(page)
        for page in failed:
            self._failed_page(page)  # raises under on_error="raise"; else just logged
        meta = dict(self.base)
        _put(meta, "total_pages", len(self.markdown))
        if self.response.metadata and self.response.metadata.document:
            _put(meta, "confidence", self.response.metadata.document.confidence)
        _put(meta, "failed_pages", ",".join(str(p.page_number) for p in failed))
        text = "\n\n".join(t for t in texts if t)
        return [Record(make_id(self.outcome.identity), text, meta)]

    def _page_meta(self, page_number: int) -> dict[str, Scalar]:
        meta = {**self.base, "page_number": page_number}
        info: PageMetadata | None = self.meta.get(page_number)
        items_page = self.items.get(page_number)
        if info is not None:
            _put(meta, "page_label", info.printed_page_number)
        if isinstance(items_page, ItemsPage) and items_page.page_width > 0:
            meta["page_width"] = items_page.page_width
            meta["page_height"] = items_page.page_height
        if info is not None:
            _put(meta, "confidence", info.confidence)
            _put(meta, "speaker_notes", info.speaker_notes)
            _put(meta, "slide_section_name", info.slide_section_name)
        return meta

    def _page_records(self) -> list[Record]:
        records: list[Record] = []
        for page in self.markdown:
            if isinstance(page, FailedPage):
                failed = self._failed_page(page)
                if failed is not None:
                    records.append(failed)
                continue
            meta = self._page_meta(page.page_number)
            items_page = self.items.get(page.page_number)
            if self.options.include_items and isinstance(items_page, ItemsPage):
                meta[ITEMS_KEY] = items_page.model_dump_json(exclude_none=True)
            ident = make_id(self.outcome.identity, "p", page.page_number)
            records.append(Record(ident, clean_text(page.markdown), meta))
        return records

    def _item_records(self) -> list[Record]:
        records: list[Record] = []
        path = HeaderPath()
        for page in self.markdown:
            if isinstance(page, FailedPage):
                failed = self._failed_page(page)
                if failed is not None:
                    records.append(failed)
                continue
            items_page = self.items.get(page.page_number)
            if not isinstance(items_page, ItemsPage):
                continue
            page_meta = self._page_meta(page.page_number)
            page_records: list[Record] = []
            links: list[LinkItem] = []
            for index, item in enumerate(items_page.items):
                if isinstance(item, LinkItem):
                    links.append(item)  # a link belongs to the text it covers
                    continue
                if is_junk(item):
                    continue
                meta = {**page_meta, **item_metadata(item, index, path)}
                ident = make_id(self.outcome.identity, "p", page.page_number, "i", index)
                text = clean_text(item_text(item))
                section = str(meta["header_path"]).strip("/").split("/")
                if self.options.section_in_text and section != [""]:
                    text = " > ".join(section) + "\n\n" + text
                page_records.append(Record(ident, text, meta))
            attach_links(page_records, links)
            records.extend(page_records)
        return records

    def _chunk_records(self) -> list[Record]:
        from lamina.ingest._chunks import Chunker, ChunkPage, units_from_items, units_from_markdown

        records: list[Record] = []
        pages: list[ChunkPage] = []
        for page in self.markdown:
            if isinstance(page, FailedPage):
                failed = self._failed_page(page)
                if failed is not None:
                    records.append(failed)
                continue
            markdown = clean_text(page.markdown)
            items_page = self.items.get(page.page_number)
            if isinstance(items_page, ItemsPage):
                units, links = units_from_items(items_page)
            else:
                units, links = units_from_markdown(markdown), []
            pages.append(ChunkPage(page.page_number, markdown, units, links))
        chunker = Chunker(
            self.options.chunk_size,
            self.options.tokenizer,
            self.options.section_in_text,
            chunk_overlap=self.options.chunk_overlap,
            unwrap_links=self.options.unwrap_links,
        )
        for chunk in chunker.chunk(pages):
            number = chunk.page.page_number
            meta = {**self._page_meta(number), **chunk.metadata()}
            parts: list[str | int] = ["p", number, "c", chunk.first_index]
            if chunk.part:
                parts.append(chunk.part)
            records.append(Record(make_id(self.outcome.identity, *parts), chunk.text, meta))
        return records


def attach_links(records: list[Record], links: Sequence[LinkItem]) -> None:
    """Give each link to the record whose boxes it overlaps most (else whose text holds its
    anchor text), as a JSON list under ``links``: a link annotation is no text of its own."""
    for link in links:
        if not link.url:
            continue
        boxes = [json.loads(str(r.metadata.get("bbox", "[]"))) for r in records]
        best, best_area = None, 0.0
        for record, record_boxes in zip(records, boxes, strict=True):
            area = sum(_overlap(_plain_box(a), b) for a in link.bbox or [] for b in record_boxes)
            if area > best_area:
                best, best_area = record, area
        anchor = " ".join(clean_text(link.text).split())
        if best is None and anchor:
            best = next((r for r in records if anchor in " ".join(r.text.split())), None)
        if best is None:
            continue
        listed = json.loads(str(best.metadata.get("links", "[]")))
        entry = {"text": anchor, "url": link.url}
        if entry not in listed:
            listed.append(entry)
        best.metadata["links"] = json.dumps(listed, ensure_ascii=False)


def _plain_box(box: Any) -> dict[str, float]:
    return {k: float(getattr(box, k)) for k in ("x", "y", "w", "h")}


def _overlap(a: dict[str, float], b: dict[str, float]) -> float:
    w = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
    return w * h if w > 0 and h > 0 else 0.0


def item_text(item: Any) -> str:
    """An item's text: its markdown (a table's markdown keeps the header row)."""
    if isinstance(item, TableItem) and not item.md.strip() and item.rows:
        return table_markdown(item.rows)
    return str(item.md)


def table_markdown(rows: Sequence[Sequence[Any]]) -> str:
    """A pipe table from rows, the first row as the header."""

    def cell(value: Any) -> str:
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    width = max(len(r) for r in rows)
    lines = []
    for i, row in enumerate(rows):
        cells = [cell(v) for v in row] + [""] * (width - len(row))
        lines.append("| " + " | ".join(cells) + " |")
        if i == 0:
            lines.append("|" + "---|" * width)
    return "\n".join(lines)


def item_metadata(item: Any, index: int, path: HeaderPath) -> dict[str, Scalar]:
    """The item keys: type, index, heading level, header_path, boxes and table payloads.

    ``path`` is advanced by headings, so call this for every item in reading order.
    """
    meta: dict[str, Scalar] = {"item_type": str(item.type), "item_index": index}
    if isinstance(item, HeadingItem):
        meta["level"] = item.level
        meta["header_path"] = path.enter(item.level, clean_text(item.value))
    else:
        meta["header_path"] = path.current()
    if item.bbox:
        meta["bbox"] = bbox_json(item.bbox)
    if isinstance(item, TableItem):
        _put(meta, "table_html", item.html)
        _put(meta, "table_csv", item.csv)
    return meta
