"""``LaminaNodeParser``: Lamina page Documents to item nodes with structure and provenance."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from llama_index.core.bridge.pydantic import Field
from llama_index.core.node_parser import NodeParser
from llama_index.core.schema import BaseNode, Document, NodeRelationship, TextNode
from llama_index.core.utils import get_tqdm_iterable

from lamina.ingest import (
    EXCLUDED_KEYS,
    FURNITURE_TYPES,
    ID_NAMESPACE,
    ITEMS_KEY,
    HeaderPath,
    item_metadata,
    item_text,
)
from lamina.types import HeadingItem, ItemsPage

MISSING_ITEMS = (
    "LaminaNodeParser needs the page items: load the Documents with "
    "LaminaReader(include_items=True) (granularity='page'); node {node_id} has no "
    f"'{ITEMS_KEY}' metadata"
)


@dataclass
class _Chunk:
    """Consecutive items of one page that become one node."""

    page: BaseNode
    first_index: int
    texts: list[str] = field(default_factory=list)
    boxes: list[dict[str, float]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    start: int | None = None
    end: int | None = None
    parent_key: tuple[str, ...] = ()
    section_key: tuple[str, ...] | None = None
    content_path: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return sum(len(t) for t in self.texts) + 2 * max(0, len(self.texts) - 1)


class LaminaNodeParser(NodeParser):
    """Split Lamina page Documents into nodes along the document's own structure.

    Input: page Documents from ``LaminaReader(include_items=True)``, which carry the page's
    items as a JSON string under ``lamina_items`` (excluded from embedding and LLM text, and
    dropped from the nodes this parser returns).

    ``chunk_size=None`` (default) gives one node per item (heading, paragraph, list, table,
    code...). With ``chunk_size`` (in characters), consecutive items of the same section on the
    same page are merged up to that size; a heading always starts a new node, and an item is
    never split (a table stays one node, its markdown as text, header row included).

    Each node carries the page's metadata plus ``item_type`` (of its first item), ``level``
    (headings), ``header_path`` (``"/Title/Section/"``, carried across pages), ``bbox`` (JSON
    list of every box the node spans, page points), ``table_html`` / ``table_csv`` (tables),
    and ``start_char_idx`` / ``end_char_idx`` into the page markdown. Relationships: SOURCE is
    the page Document, PREVIOUS / NEXT follow reading order across pages of one file, PARENT
    is the node of the enclosing section heading and CHILD lists a heading node's content.
    Ids derive from the page Document's id and the first item's index, so they are stable.
    """

    chunk_size: int | None = Field(
        default=None, gt=0, description="Merge items of one section up to this many characters."
    )

    @classmethod
    def class_name(cls) -> str:
        return "LaminaNodeParser"

    def _parse_nodes(
        self, nodes: Sequence[BaseNode], show_progress: bool = False, **kwargs: Any
    ) -> list[BaseNode]:
        out: list[TextNode] = []
        sections: dict[tuple[str, ...], TextNode] = {}
        path = HeaderPath()
        file_key: Any = object()
        previous: TextNode | None = None
        for page in get_tqdm_iterable(nodes, show_progress, "Parsing Lamina items"):
            key = (page.metadata.get("file_path"), page.metadata.get("job_id"))
            if key != file_key:  # a new file: fresh heading stack and links
                file_key, path, sections, previous = key, HeaderPath(), {}, None
            for chunk in self._chunks(page, path):
                node = self._node(chunk)
                if chunk.parent_key and chunk.parent_key in sections:
                    self._link(sections[chunk.parent_key], node)
                if chunk.section_key is not None:
                    sections[chunk.section_key] = node
                if previous is not None:
                    previous.relationships[NodeRelationship.NEXT] = node.as_related_node_info()
                    node.relationships[NodeRelationship.PREVIOUS] = previous.as_related_node_info()
                previous = node
                out.append(node)
        return list(out)

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

    def _chunks(self, page: BaseNode, path: HeaderPath) -> list[_Chunk]:
        raw = page.metadata.get(ITEMS_KEY)
        if not isinstance(raw, str):
            raise ValueError(MISSING_ITEMS.format(node_id=page.node_id))
        items_page = ItemsPage.model_validate_json(raw)
        markdown = page.get_content()
        page_meta = {k: v for k, v in page.metadata.items() if k != ITEMS_KEY}
        chunks: list[_Chunk] = []
        cursor = 0
        for index, item in enumerate(items_page.items):
            if item.type in FURNITURE_TYPES:
                continue
            text = item_text(item)
            meta = item_metadata(item, index, path)
            boxes = json.loads(str(meta.pop("bbox", "[]")))
            start = markdown.find(text, cursor) if text else -1
            if start >= 0:
                cursor = start + len(text)
            last = chunks[-1] if chunks else None
            if last is not None and self._fits(last, item, text, meta):
                current = last
            else:
                current = _Chunk(page=page, first_index=index, meta={**page_meta, **meta})
                current.parent_key = _segments(str(meta["header_path"]))
                current.content_path = current.parent_key
                if isinstance(item, HeadingItem):  # the heading's own path, now on the stack
                    current.section_key = current.content_path = _segments(path.current())
                chunks.append(current)
            current.texts.append(text)
            current.boxes.extend(boxes)
            if start >= 0:
                current.start = start if current.start is None else current.start
                current.end = start + len(text)
        return chunks

    def _fits(self, chunk: _Chunk, item: Any, text: str, meta: dict[str, Any]) -> bool:
        """Whether ``item`` joins ``chunk``: merging is on, the item is no heading and no
        table, it sits in the chunk's section, and there is room left."""
        if self.chunk_size is None or isinstance(item, HeadingItem):
            return False
        if "table_html" in chunk.meta or "table_html" in meta:
            return False  # tables keep a node of their own, with their payloads
        if _segments(str(meta["header_path"])) != chunk.content_path:
            return False
        return chunk.size + 2 + len(text) <= self.chunk_size

    def _node(self, chunk: _Chunk) -> TextNode:
        page = chunk.page
        meta = dict(chunk.meta)
        if chunk.boxes:
            meta["bbox"] = json.dumps(chunk.boxes)
        excluded = sorted(
            {*page.excluded_embed_metadata_keys, *(k for k in EXCLUDED_KEYS if k in meta)}
            - {ITEMS_KEY}
        )
        excluded_llm = sorted(
            {*page.excluded_llm_metadata_keys, *(k for k in EXCLUDED_KEYS if k in meta)}
            - {ITEMS_KEY}
        )
        node = TextNode(
            id_=str(uuid.uuid5(ID_NAMESPACE, f"{page.node_id}/i{chunk.first_index}")),
            text="\n\n".join(chunk.texts),
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

    @staticmethod
    def _link(parent: TextNode, child: TextNode) -> None:
        child.relationships[NodeRelationship.PARENT] = parent.as_related_node_info()
        children = parent.relationships.get(NodeRelationship.CHILD)
        listed = list(children) if isinstance(children, list) else []
        parent.relationships[NodeRelationship.CHILD] = [*listed, child.as_related_node_info()]


def _segments(header_path: str) -> tuple[str, ...]:
    return tuple(part for part in header_path.strip("/").split("/") if part)
