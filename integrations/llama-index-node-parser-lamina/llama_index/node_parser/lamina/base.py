"""``LaminaNodeParser``: Lamina Documents to structure-aware nodes with provenance."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from llama_index.core.bridge.pydantic import Field
from llama_index.core.node_parser import NodeParser
from llama_index.core.schema import BaseNode, Document, ImageNode, NodeRelationship, TextNode
from llama_index.core.utils import get_tqdm_iterable

from lamina import Client, LaminaError
from lamina.ingest import (
    EXCLUDED_KEYS,
    ID_NAMESPACE,
    ITEMS_KEY,
    Chunk,
    Chunker,
    ChunkPage,
    clean_text,
    units_from_items,
    units_from_markdown,
)
from lamina.types import ItemsPage

logger = logging.getLogger("lamina.integrations")

FALLBACK_NOTE = (
    "LaminaNodeParser: %d Document(s) carry no page items, so their markdown was split instead "
    "(no boxes; item boundaries guessed from the markdown). Load them with "
    "LaminaReader(include_items=True) for item nodes."
)


class LaminaNodeParser(NodeParser):
    """Split Lamina Documents into nodes along the document's own structure.

    Input: anything :class:`LaminaReader` yields. Page Documents loaded with
    ``include_items=True`` carry their items (JSON under ``lamina_items``, dropped from the
    nodes); without them the parser fetches the items from the parse job when the Documents
    carry ``job_id`` (``LaminaReader(include_job_id=True)``, through ``client`` or the embedded
    engine), and otherwise splits the page markdown along its headings, tables, lists and
    paragraphs (one log warning). ``ImageDocument``\\s and ``on_error="record"`` failure
    Documents pass through unchanged, as do other Documents with no text.

    ``chunk_size=None`` (default) gives one node per item (paragraph, list, table, code...),
    never split. With ``chunk_size`` the size is a real maximum, in tokens when ``tokenizer`` (a
    callable returning a text's tokens, e.g. ``tiktoken.get_encoding(...).encode``) is given, in
    characters otherwise, and with ``metadata_aware`` (default) it holds for the text *and* the
    metadata LlamaIndex embeds with it (file name, page, header path...), as
    ``SentenceSplitter`` does, so nothing is cut off by the embedding model's window.
    Consecutive items of one section on one page are merged up to it, and longer items are split
    at sentence boundaries (lists and code at lines, tables between rows with the header row
    repeated in every piece). ``chunk_overlap`` (with ``chunk_size``) starts a node whose
    section's running text began in the node before with that node's last sentences, up to this
    size (never across headings, pages or tables). Headings and captions are never nodes of
    their own: they lead the node of what follows them. ``section_in_text=True`` also puts the
    section path (``Title > Section``) on the first line of each node's text (the
    ``header_path`` metadata is embedded already, as metadata). Items with no letter or digit
    (glyph junk) and page furniture never become nodes; a link annotation adds its URL to the
    ``links`` of the node it covers. Markdown links in the text (``[coot](/wiki/Coot)``) become
    their anchor text and footnote markers (``[[12]](#cite_note-12)``) go, their targets joining
    ``links`` (``unwrap_links``, default on): a URL is no word the embedding needs, and it took
    room from the text under ``chunk_size`` (on a Wikipedia page, a third of the nodes).

    Each node carries the page's metadata plus ``item_type`` (of its first item after the
    headings), ``item_index``, ``level`` (of its leading heading), ``header_path``
    (``"/Title/Section/"``, carried across pages), ``bbox`` (JSON list of every box the node
    spans, page points), ``table_html`` / ``table_csv`` (tables), ``chunk_part`` (pieces of a
    split item after the first), ``links``, and ``start_char_idx`` / ``end_char_idx`` into the
    page text (the node's text is exactly that slice unless context was added: a heading from
    the previous page, the section line, a repeated table header, the overlap; or links were
    unwrapped). Relationships:
    SOURCE is the page Document, PREVIOUS / NEXT follow reading order across pages of one file,
    PARENT is the node that opens the enclosing section and CHILD lists a section node's
    content. Ids derive from the page Document's id and the first item's index, so they are
    stable.
    """

    chunk_size: int | None = Field(
        default=None, gt=0, description="Maximum node size (tokens with a tokenizer, else chars)."
    )
    chunk_overlap: int = Field(
        default=0,
        ge=0,
        description="Where a section's running text goes on in the next node, repeat the last "
        "sentences of the node before, up to this size (same unit as chunk_size).",
    )
    tokenizer: Callable[[str], Sequence[Any]] | None = Field(
        default=None, exclude=True, description="Tokens of a text; chunk_size counts them."
    )
    section_in_text: bool = Field(
        default=False, description="Put the section path on the first line of each node."
    )
    unwrap_links: bool = Field(
        default=True,
        description="Markdown links in the text become their anchor text (footnote markers go); "
        "their targets join the node's links metadata. False keeps the page's markdown.",
    )
    metadata_aware: bool = Field(
        default=True,
        description="Keep the embedded metadata (file name, page, header path...) within "
        "chunk_size too, as the embedding model sees text and metadata together.",
    )
    client: Client | None = Field(
        default=None, exclude=True, description="Client to fetch missing items by job id."
    )

    @classmethod
    def class_name(cls) -> str:
        return "LaminaNodeParser"

    def _parse_nodes(
        self, nodes: Sequence[BaseNode], show_progress: bool = False, **kwargs: Any
    ) -> list[BaseNode]:
        reserve = self._reserve if self.metadata_aware and self.chunk_size else None
        chunker = Chunker(
            self.chunk_size,
            self.tokenizer,
            self.section_in_text,
            reserve,
            chunk_overlap=self.chunk_overlap if self.chunk_size else 0,
            unwrap_links=self.unwrap_links,
        )
        out: list[BaseNode] = []
        group: list[ChunkPage] = []
        group_key: Any = object()
        fetched: dict[str, dict[int, ItemsPage] | None] = {}
        fallback = 0

        def flush() -> None:
            if group:
                out.extend(self._nodes(chunker.chunk(group)))
                group.clear()

        for page in get_tqdm_iterable(nodes, show_progress, "Parsing Lamina items"):
            if _passes_through(page):
                flush()
                out.append(page)
                continue
            key = (page.metadata.get("file_path"), page.metadata.get("file_name"))
            if key != group_key or not isinstance(page.metadata.get("page_number"), int):
                flush()
                group_key = key
            chunk_page, used_fallback = self._page(page, fetched)
            fallback += used_fallback
            group.append(chunk_page)
        flush()
        if fallback:
            logger.warning(FALLBACK_NOTE, fallback)
        return out

    def _postprocess_parsed_nodes(
        self, nodes: list[BaseNode], parent_doc_map: dict[str, Document]
    ) -> list[BaseNode]:
        """The base merges the page's metadata in; the items payload must not follow."""
        nodes = super()._postprocess_parsed_nodes(nodes, parent_doc_map)
        for node in nodes:
            node.metadata.pop(ITEMS_KEY, None)
            for keys in (node.excluded_embed_metadata_keys, node.excluded_llm_metadata_keys):
                if ITEMS_KEY in keys:
                    keys.remove(ITEMS_KEY)
        return nodes

    # --- building -------------------------------------------------------------------------------

    def _reserve(self, page: ChunkPage, header_path: str) -> int:
        """The size of the metadata a node of this section on this page embeds with its text."""
        doc: BaseNode = page.context
        meta = {
            k: v
            for k, v in doc.metadata.items()
            if k != ITEMS_KEY and k not in doc.excluded_embed_metadata_keys
        }
        meta.update(item_type="heading", header_path=header_path)  # the longest type name
        rendered = doc.metadata_separator.join(
            doc.metadata_template.format(key=k, value=str(v)) for k, v in meta.items()
        )
        text = rendered + "\n\n"
        return len(self.tokenizer(text)) if self.tokenizer else len(text)

    def _page(
        self, page: BaseNode, fetched: dict[str, dict[int, ItemsPage] | None]
    ) -> tuple[ChunkPage, bool]:
        """The page as chunker input: its items (carried or fetched), else its markdown."""
        markdown = clean_text(page.get_content())
        number = page.metadata.get("page_number")
        number = number if isinstance(number, int) else 0
        items_page = _carried_items(page)
        if items_page is None:
            items_page = self._fetched_items(page, number, fetched)
        if items_page is None:
            return ChunkPage(number, markdown, units_from_markdown(markdown), context=page), True
        units, links = units_from_items(items_page)
        return ChunkPage(number, markdown, units, links, context=page), False

    def _fetched_items(
        self, page: BaseNode, number: int, fetched: dict[str, dict[int, ItemsPage] | None]
    ) -> ItemsPage | None:
        job_id = page.metadata.get("job_id")
        if not isinstance(job_id, str) or not job_id.startswith("pjb-") or not number:
            return None
        if job_id not in fetched:
            fetched[job_id] = self._fetch(job_id)
        pages = fetched[job_id]
        return pages.get(number) if pages else None

    def _fetch(self, job_id: str) -> dict[int, ItemsPage] | None:
        try:
            if self.client is not None:
                response = self.client.parsing.get(job_id, expand=["items"])
            else:
                with Client() as client:
                    response = client.parsing.get(job_id, expand=["items"])
        except (LaminaError, OSError) as exc:
            logger.warning("LaminaNodeParser: could not fetch the items of %s: %s", job_id, exc)
            return None
        if response.items is None:
            return None
        return {p.page_number: p for p in response.items.pages if isinstance(p, ItemsPage)}

    def _nodes(self, chunks: list[Chunk]) -> list[TextNode]:
        """Nodes of one file's chunks, linked: previous/next, parent/child sections."""
        nodes: list[TextNode] = []
        sections: dict[tuple[str, ...], TextNode] = {}
        previous: TextNode | None = None
        for chunk in chunks:
            node = self._node(chunk)
            parent = sections.get(chunk.parent_key) if chunk.parent_key else None
            if parent is not None and parent is not node:
                _link(parent, node)
            for key in chunk.section_keys:
                sections[key] = node
            if previous is not None:
                previous.relationships[NodeRelationship.NEXT] = node.as_related_node_info()
                node.relationships[NodeRelationship.PREVIOUS] = previous.as_related_node_info()
            previous = node
            nodes.append(node)
        return nodes

    def _node(self, chunk: Chunk) -> TextNode:
        page: BaseNode = chunk.page.context
        meta = {k: v for k, v in page.metadata.items() if k != ITEMS_KEY}
        meta.update(chunk.metadata())
        own = {k for k in EXCLUDED_KEYS if k in meta} - {ITEMS_KEY}
        excluded = sorted({*page.excluded_embed_metadata_keys, *own} - {ITEMS_KEY})
        excluded_llm = sorted({*page.excluded_llm_metadata_keys, *own} - {ITEMS_KEY})
        key = f"{page.node_id}/i{chunk.first_index}" + (f".{chunk.part}" if chunk.part else "")
        node = TextNode(
            id_=str(uuid.uuid5(ID_NAMESPACE, key)),
            text=chunk.text,
            metadata=meta,
            excluded_embed_metadata_keys=excluded,
            excluded_llm_metadata_keys=excluded_llm,
            start_char_idx=chunk.start,
            end_char_idx=chunk.end,
            metadata_template=page.metadata_template,
            metadata_separator=page.metadata_separator,
            text_template=getattr(
                page, "text_template", TextNode.model_fields["text_template"].default
            ),
        )
        node.relationships[NodeRelationship.SOURCE] = page.as_related_node_info()
        return node


def _passes_through(page: BaseNode) -> bool:
    """Image documents, failure records and empty documents are returned as they are."""
    if isinstance(page, ImageNode):
        return True
    if page.metadata.get("parse_status") == "failed":
        return True
    return not page.get_content().strip()


def _carried_items(page: BaseNode) -> ItemsPage | None:
    raw = page.metadata.get(ITEMS_KEY)
    if not isinstance(raw, str):
        return None
    return ItemsPage.model_validate_json(raw)


def _link(parent: TextNode, child: TextNode) -> None:
    child.relationships[NodeRelationship.PARENT] = parent.as_related_node_info()
    children = parent.relationships.get(NodeRelationship.CHILD)
    listed = list(children) if isinstance(children, list) else []
    parent.relationships[NodeRelationship.CHILD] = [*listed, child.as_related_node_info()]
