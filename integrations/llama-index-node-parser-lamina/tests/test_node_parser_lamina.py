"""LaminaNodeParser on page Documents read by LaminaReader from real files."""

from __future__ import annotations

import itertools
import json

import pytest
from conftest import support
from llama_index.core import VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.node_parser import NodeParser
from llama_index.core.schema import MetadataMode, NodeRelationship, TextNode
from llama_index.node_parser.lamina import LaminaNodeParser
from llama_index.readers.lamina import ITEMS_KEY, LaminaReader

import lamina


def pages(client: lamina.Client, path: object, **kwargs: object) -> list:
    return LaminaReader(client=client, include_items=True, show_progress=False, **kwargs).load_data(
        path
    )


def test_mro() -> None:
    assert NodeParser.__name__ in [b.__name__ for b in LaminaNodeParser.__mro__]


def test_one_node_per_item_with_structure(client, corpus) -> None:
    docs = pages(client, corpus["headings"])
    nodes = LaminaNodeParser().get_nodes_from_documents(docs)
    assert all(isinstance(n, TextNode) for n in nodes)
    by_text = {n.text: n for n in nodes}
    title = by_text["# Engine Test Document"]
    intro = by_text["## Introduction"]
    paragraph = next(n for n in nodes if n.text.startswith("This paragraph"))
    assert paragraph.metadata["header_path"] == "/Engine Test Document/Introduction/"
    assert paragraph.metadata["page_number"] == 1
    assert paragraph.parent_node.node_id == intro.node_id
    assert intro.parent_node.node_id == title.node_id
    assert paragraph.node_id in {c.node_id for c in intro.child_nodes}
    assert all(n.source_node.node_id == docs[0].id_ for n in nodes)
    for prev, nxt in itertools.pairwise(nodes):
        assert nxt.prev_node.node_id == prev.node_id
        assert prev.next_node.node_id == nxt.node_id
    for node in nodes:
        assert docs[0].text[node.start_char_idx : node.end_char_idx] == node.text
        assert ITEMS_KEY not in node.metadata
        assert ITEMS_KEY not in node.excluded_embed_metadata_keys
        assert "bbox:" not in node.get_content(metadata_mode=MetadataMode.EMBED)
    assert {"x", "y", "w", "h"} == set(json.loads(paragraph.metadata["bbox"])[0])


def test_ids_are_stable(client, corpus) -> None:
    first = LaminaNodeParser().get_nodes_from_documents(pages(client, corpus["headings"]))
    second = LaminaNodeParser().get_nodes_from_documents(pages(client, corpus["headings"]))
    assert [n.node_id for n in first] == [n.node_id for n in second]


def test_merging_by_section_up_to_chunk_size(client, corpus) -> None:
    docs = pages(client, corpus["headings"])
    nodes = LaminaNodeParser(chunk_size=400).get_nodes_from_documents(docs)
    texts = [n.text.split("\n\n")[0] for n in nodes]
    assert texts == [
        "# Engine Test Document",
        "## Introduction",
        "### Details",
        "## Lists and Code",
    ]
    lists = nodes[-1]
    assert "The end." in lists.text and len(json.loads(lists.metadata["bbox"])) >= 4
    assert docs[0].text[lists.start_char_idx : lists.end_char_idx] == lists.text
    small = LaminaNodeParser(chunk_size=60).get_nodes_from_documents(docs)
    assert len(nodes) < len(small) <= len(LaminaNodeParser().get_nodes_from_documents(docs))
    assert all(
        len(n.text) <= 60 or "\n\n" not in n.text for n in small
    )  # only a single item may exceed the size


def test_table_is_one_node_with_excluded_payloads(client, corpus) -> None:
    nodes = LaminaNodeParser(chunk_size=2000).get_nodes_from_documents(
        pages(client, corpus["markdown"])
    )
    table = next(n for n in nodes if n.metadata["item_type"] == "table")
    assert table.text.startswith("| Name | Value |")
    assert "<table>" in table.metadata["table_html"]
    assert "Name,Value" in table.metadata["table_csv"]
    assert "<table>" not in table.get_content(metadata_mode=MetadataMode.LLM)
    assert "Name,Value" not in table.get_content(metadata_mode=MetadataMode.EMBED)


def test_header_path_and_links_cross_pages(client, corpus) -> None:
    nodes = LaminaNodeParser().get_nodes_from_documents(pages(client, corpus["multipage"]))
    second_page = [n for n in nodes if n.metadata["page_number"] == 2]
    assert second_page[0].metadata["header_path"] == "/"
    assert second_page[1].metadata["header_path"] == "/Section 2/"
    assert second_page[0].prev_node is not None
    assert second_page[0].prev_node.node_id == nodes[1].node_id


def test_documents_without_items_get_a_clear_error(client, corpus) -> None:
    docs = LaminaReader(client=client, show_progress=False).load_data(corpus["text"])
    with pytest.raises(ValueError, match="include_items=True"):
        LaminaNodeParser().get_nodes_from_documents(docs)


def test_nodes_go_into_a_vector_store_index(client, corpus_dir) -> None:
    """MockEmbedding (deterministic, offline) stands in for a real embedding model."""
    docs = pages(client, corpus_dir)
    index = VectorStoreIndex.from_documents(
        docs, embed_model=MockEmbedding(embed_dim=8), transformations=[LaminaNodeParser()]
    )
    hits = index.as_retriever(similarity_top_k=100).retrieve("table")
    assert any(h.node.metadata.get("item_type") == "table" for h in hits)
    assert all(ITEMS_KEY not in h.node.metadata for h in hits)
    assert all(
        h.node.relationships[NodeRelationship.SOURCE].node_id in {d.id_ for d in docs} for h in hits
    )


def test_served_and_embedded_give_identical_nodes(client, served_url, corpus_dir) -> None:
    parser = LaminaNodeParser()
    embedded = parser.get_nodes_from_documents(pages(client, corpus_dir))
    served_docs = LaminaReader(
        base_url=served_url, include_items=True, show_progress=False
    ).load_data(corpus_dir)
    served = parser.get_nodes_from_documents(served_docs)
    assert [n.node_id for n in served] == [n.node_id for n in embedded]
    assert [n.text for n in served] == [n.text for n in embedded]
    assert [support.stable(n.metadata) for n in served] == [
        support.stable(n.metadata) for n in embedded
    ]
    assert [n.start_char_idx for n in served] == [n.start_char_idx for n in embedded]
