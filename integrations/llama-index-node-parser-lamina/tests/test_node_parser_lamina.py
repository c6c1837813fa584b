"""LaminaNodeParser on page Documents read by LaminaReader from real files."""

from __future__ import annotations

import itertools
import json
import logging

from conftest import support
from llama_index.core import VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.node_parser import NodeParser
from llama_index.core.schema import ImageDocument, MetadataMode, NodeRelationship, TextNode
from llama_index.node_parser.lamina import LaminaNodeParser
from llama_index.readers.lamina import ITEMS_KEY, LaminaReader
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

import lamina


def pages(client: lamina.Client, path: object, **kwargs: object) -> list:
    return LaminaReader(client=client, include_items=True, show_progress=False, **kwargs).load_data(
        path
    )


def test_mro() -> None:
    assert NodeParser.__name__ in [b.__name__ for b in LaminaNodeParser.__mro__]


def test_headings_lead_the_node_of_what_follows(client, corpus) -> None:
    docs = pages(client, corpus["headings"])
    nodes = LaminaNodeParser().get_nodes_from_documents(docs)
    assert all(isinstance(n, TextNode) for n in nodes)
    first = nodes[0]
    assert first.text.startswith("# Engine Test Document\n\n## Introduction\n\nThis paragraph")
    assert first.metadata["header_path"] == "/Engine Test Document/Introduction/"
    assert first.metadata["item_type"] == "text" and first.metadata["level"] == 1
    details = next(n for n in nodes if n.text.startswith("### Details"))
    assert "A short paragraph under the subsection." in details.text
    assert details.parent_node.node_id == first.node_id
    assert details.node_id in {c.node_id for c in first.child_nodes}
    for node in nodes:  # no node is a heading alone
        lines = [line for line in node.text.split("\n\n") if line]
        assert not all(line.startswith("#") for line in lines), node.text
    assert all(n.source_node.node_id == docs[0].id_ for n in nodes)
    for prev, nxt in itertools.pairwise(nodes):
        assert nxt.prev_node.node_id == prev.node_id
        assert prev.next_node.node_id == nxt.node_id
    for node in nodes:
        assert docs[0].text[node.start_char_idx : node.end_char_idx] == node.text
        assert ITEMS_KEY not in node.metadata
        assert ITEMS_KEY not in node.excluded_embed_metadata_keys
        assert "bbox:" not in node.get_content(metadata_mode=MetadataMode.EMBED)
    assert {"x", "y", "w", "h"} == set(json.loads(first.metadata["bbox"])[0])


def test_ids_are_stable(client, corpus) -> None:
    first = LaminaNodeParser().get_nodes_from_documents(pages(client, corpus["headings"]))
    second = LaminaNodeParser().get_nodes_from_documents(pages(client, corpus["headings"]))
    assert [n.node_id for n in first] == [n.node_id for n in second]


def test_merging_by_section_up_to_chunk_size(client, corpus) -> None:
    docs = pages(client, corpus["headings"])
    nodes = LaminaNodeParser(chunk_size=400, metadata_aware=False).get_nodes_from_documents(docs)
    assert [n.text.split("\n\n")[0] for n in nodes] == [
        "# Engine Test Document",
        "### Details",
        "## Lists and Code",
    ]
    lists = nodes[-1]
    assert "The end." in lists.text and len(json.loads(lists.metadata["bbox"])) >= 4
    assert docs[0].text[lists.start_char_idx : lists.end_char_idx] == lists.text
    for size in (40, 60, 120):
        small = LaminaNodeParser(chunk_size=size, metadata_aware=False).get_nodes_from_documents(
            docs
        )
        assert len(nodes) < len(small)
        assert max(len(n.text) for n in small) <= size  # a real maximum
        joined = " ".join(" ".join(n.text.split()) for n in small)
        for word in ("wrap", "hyphen", "Nested", "greet(name):", "The end."):
            assert word in joined  # nothing lost


def test_metadata_aware_limit_covers_what_is_embedded(client, corpus) -> None:
    """By default the limit holds for the text plus the metadata LlamaIndex embeds with it."""
    docs = pages(client, corpus["headings"])
    for size in (200, 250, 400):
        nodes = LaminaNodeParser(chunk_size=size).get_nodes_from_documents(docs)
        assert max(len(n.get_content(metadata_mode=MetadataMode.EMBED)) for n in nodes) <= size
        loose = LaminaNodeParser(chunk_size=size, metadata_aware=False)
        assert len(loose.get_nodes_from_documents(docs)) <= len(nodes)
    loose = LaminaNodeParser(chunk_size=200, metadata_aware=False).get_nodes_from_documents(docs)
    assert max(len(n.get_content(metadata_mode=MetadataMode.EMBED)) for n in loose) > 200


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
    nodes = LaminaNodeParser(chunk_size=60, metadata_aware=False).get_nodes_from_documents(
        pages(client, corpus["multipage"])
    )
    second_page = [n for n in nodes if n.metadata["page_number"] == 2]
    assert second_page[0].text.startswith("# Section 2\n\nThis is page 2.")
    assert [n.metadata["header_path"] for n in second_page] == ["/Section 2/"] * 2
    assert second_page[1].parent_node.node_id == second_page[0].node_id
    assert second_page[0].prev_node is not None
    assert second_page[0].prev_node.node_id == nodes[1].node_id


def test_documents_without_items_are_split_from_their_markdown(client, corpus, caplog) -> None:
    """The first thing anyone types: no include_items. At most one warning, no error."""
    docs = LaminaReader(client=client, show_progress=False).load_data(corpus["headings"])
    with caplog.at_level(logging.WARNING, logger="lamina.integrations"):
        nodes = LaminaNodeParser().get_nodes_from_documents(docs)
    assert len([r for r in caplog.records if r.name == "lamina.integrations"]) == 1
    with_items = LaminaNodeParser().get_nodes_from_documents(pages(client, corpus["headings"]))
    assert [n.text for n in nodes] == [n.text for n in with_items]
    assert [n.metadata["header_path"] for n in nodes] == [
        n.metadata["header_path"] for n in with_items
    ]


def test_items_are_fetched_when_the_job_is_known(client, corpus, caplog) -> None:
    docs = LaminaReader(client=client, include_job_id=True, show_progress=False).load_data(
        corpus["headings"]
    )
    with caplog.at_level(logging.WARNING, logger="lamina.integrations"):
        nodes = LaminaNodeParser(client=client).get_nodes_from_documents(docs)
    assert not caplog.records
    assert all("bbox" in n.metadata for n in nodes)  # boxes come from the items only


def test_image_and_failure_documents_pass_through(client, tmp_path) -> None:
    support.documents.make_corrupt_pdf(tmp_path)
    picture = tmp_path / "picture.pdf"
    page = canvas.Canvas(str(picture))
    page.drawString(72, 800, "Page one has a picture.")
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    page.drawImage(ImageReader(image), 100, 500, width=128, height=96)
    page.showPage()
    page.save()
    docs = pages(client, tmp_path, images="embedded", on_error="record")
    assert any(isinstance(d, ImageDocument) for d in docs)
    assert any(d.metadata.get("parse_status") == "failed" for d in docs)
    nodes = LaminaNodeParser().get_nodes_from_documents(docs)
    images = [n for n in nodes if isinstance(n, ImageDocument)]
    failed = [n for n in nodes if n.metadata.get("parse_status") == "failed"]
    assert len(images) == 1 and len(failed) == 1
    assert any("Page one has a picture." in n.get_content() for n in nodes)
    plain = LaminaNodeParser().get_nodes_from_documents(
        LaminaReader(client=client, show_progress=False, images="embedded").load_data(picture)
    )
    assert sum(isinstance(n, ImageDocument) for n in plain) == 1


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
