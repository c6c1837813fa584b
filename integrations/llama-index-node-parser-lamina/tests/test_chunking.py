"""Real chunk limits, tables split with their header, junk and links, re-ingestion through a
real IngestionPipeline. ``CountingEmbedding`` is LlamaIndex's ``MockEmbedding`` (a stand-in
for a remote embedding model) counting the texts it embeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.ingestion import DocstoreStrategy, IngestionCache, IngestionPipeline
from llama_index.core.schema import Document
from llama_index.core.storage.docstore import SimpleDocumentStore
from llama_index.node_parser.lamina import LaminaNodeParser
from llama_index.readers.lamina import ITEMS_KEY, LaminaReader

import lamina
from lamina.types import ItemsPage

METALS = ["Lead", "Mercury", "Cadmium", "Arsenic", "Nickel", "Chromium", "Zinc", "Copper"]
SENTENCE = "Sentence number {n} talks about wetland birds and their feeding habits."


class CountingEmbedding(MockEmbedding):
    embedded: int = 0

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return super()._get_text_embeddings(texts)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A markdown report: a long paragraph, then a section whose only content is a long table."""
    rows = [
        f"| {metal} {year} | {year} | {i * 7 + year % 13} t |"
        for i, metal in enumerate(METALS)
        for year in range(2001, 2011)
    ]
    text = "\n".join(
        [
            "# Emissions report",
            "",
            " ".join(SENTENCE.format(n=n) for n in range(1, 31)),
            "",
            "## Heavy metals",
            "",
            "| Substance | Year | Amount |",
            "|---|---|---|",
            *rows,
            "",
        ]
    )
    path = tmp_path_factory.mktemp("report") / "report.md"
    path.write_text(text, encoding="utf-8")
    return path


def pages(client: lamina.Client, path: object, **kwargs: object) -> list:
    return LaminaReader(client=client, include_items=True, show_progress=False, **kwargs).load_data(
        path
    )


def test_long_table_is_split_between_rows_with_the_header_in_every_piece(client, report) -> None:
    nodes = LaminaNodeParser(chunk_size=500, metadata_aware=False).get_nodes_from_documents(
        pages(client, report)
    )
    assert max(len(n.text) for n in nodes) <= 500
    tables = [n for n in nodes if n.metadata["item_type"] == "table"]
    assert len(tables) >= 4
    assert tables[0].text.startswith("## Heavy metals\n\n| Substance | Year | Amount |")
    body_rows = []
    for node in tables:
        assert node.metadata["header_path"] == "/Emissions report/Heavy metals/"
        lines = node.text.split("\n")
        header_at = lines.index("| Substance | Year | Amount |")
        assert lines[header_at + 1].startswith("|---")
        body_rows += lines[header_at + 2 :]
        assert "<table>" in node.metadata["table_html"]
    assert len(body_rows) == len(METALS) * 10  # every row once, none cut
    assert [n.metadata.get("chunk_part", 0) for n in tables] == list(range(len(tables)))
    assert len({n.node_id for n in nodes}) == len(nodes)


def test_section_in_text_names_the_section_of_every_piece(client, report) -> None:
    parser = LaminaNodeParser(chunk_size=500, section_in_text=True, metadata_aware=False)
    nodes = parser.get_nodes_from_documents(pages(client, report))
    assert max(len(n.text) for n in nodes) <= 500
    for node in nodes[1:]:
        if node.metadata["item_type"] == "table" and node.metadata.get("chunk_part"):
            assert node.text.startswith("Emissions report > Heavy metals\n\n| Substance |")
    assert nodes[0].text.startswith("# Emissions report\n\nSentence number 1 ")


def test_long_paragraph_is_split_at_sentence_boundaries(client, report) -> None:
    nodes = LaminaNodeParser(chunk_size=300, metadata_aware=False).get_nodes_from_documents(
        pages(client, report)
    )
    prose = [n for n in nodes if "Sentence number" in n.text]
    assert len(prose) >= 5
    for node in prose:
        assert len(node.text) <= 300
        assert node.text.endswith("habits.")
    joined = " ".join(n.text.removeprefix("# Emissions report\n\n") for n in prose)
    assert joined == " ".join(SENTENCE.format(n=n) for n in range(1, 31))
    doc_text = pages(client, report)[0].text
    for node in prose[1:]:  # a split piece points at its own place in the page
        assert doc_text[node.start_char_idx : node.end_char_idx] == node.text


def test_chunk_size_counts_tokens_with_a_tokenizer(client, report) -> None:
    """``str.split`` is a real (whitespace) tokenizer; the limit counts its tokens."""
    docs = pages(client, report)
    nodes = LaminaNodeParser(
        chunk_size=40, tokenizer=str.split, metadata_aware=False
    ).get_nodes_from_documents(docs)
    assert max(len(n.text.split()) for n in nodes) <= 40
    assert max(len(n.text) for n in nodes) > 40  # so characters were not what was counted


def test_glyph_junk_never_becomes_a_node_and_links_join_their_text() -> None:
    """A page as the engine reports one from a symbol-font PDF: glyph-only items, a bullet
    glyph followed by control characters, a link annotation over a paragraph."""
    items = [
        {
            "type": "heading",
            "level": 1,
            "value": "Report",
            "md": "# Report",
            "bbox": [{"x": 50, "y": 40, "w": 200, "h": 20}],
        },
        {
            "type": "text",
            "value": "\x03 \x04\x05\x06",
            "md": "\x03 \x04\x05\x06",
            "bbox": [{"x": 50, "y": 70, "w": 20, "h": 10}],
        },
        {"type": "text", "value": "\ue000\ue001", "md": "\ue000\ue001"},
        {
            "type": "text",
            "value": "Activities meet the criteria of the regulation.",
            "md": "Activities meet the criteria of the regulation.",
            "bbox": [{"x": 50, "y": 100, "w": 400, "h": 12}],
        },
        {
            "type": "link",
            "text": "ulfils the following criteria",
            "url": "http://eur-lex.example/x",
            "md": "[ulfils the following criteria](http://eur-lex.example/x)",
            "bbox": [{"x": 60, "y": 101, "w": 120, "h": 10}],
        },
        {
            "type": "list",
            "ordered": False,
            "md": "- r\x01 Database performance",
            "items": [
                {
                    "type": "text",
                    "value": "r\x01 Database performance",
                    "md": "r\x01 Database performance",
                }
            ],
            "bbox": [{"x": 50, "y": 130, "w": 300, "h": 12}],
        },
        {"type": "image", "caption": "", "url": "p1_img0.png", "md": "![](p1_img0.png)"},
    ]
    page = ItemsPage.model_validate(
        {"page_number": 1, "page_width": 595, "page_height": 842, "items": items}
    )
    markdown = "\n\n".join(i["md"] for i in items if i["type"] != "link")
    doc = Document(
        text=markdown,
        metadata={"file_name": "report.pdf", "page_number": 1, ITEMS_KEY: page.model_dump_json()},
    )
    nodes = LaminaNodeParser().get_nodes_from_documents([doc])
    texts = [n.text for n in nodes]
    assert texts == [
        "# Report\n\nActivities meet the criteria of the regulation.",
        "- Database performance",
    ]
    assert json.loads(nodes[0].metadata["links"]) == [
        {"text": "ulfils the following criteria", "url": "http://eur-lex.example/x"}
    ]
    assert "links" in nodes[0].excluded_embed_metadata_keys


@pytest.mark.parametrize("chunk_size", [None, 300])
def test_reingesting_unchanged_files_processes_and_embeds_nothing(
    client, report, corpus_dir, chunk_size
) -> None:
    folder = [corpus_dir, report]
    embed = CountingEmbedding(embed_dim=8)
    cache = IngestionCache()
    pipeline = IngestionPipeline(
        transformations=[LaminaNodeParser(chunk_size=chunk_size), embed],
        docstore=SimpleDocumentStore(),
        docstore_strategy=DocstoreStrategy.DUPLICATES_ONLY,
        cache=cache,
    )
    run1 = pipeline.run(documents=pages(client, folder))
    assert len(run1) > 10 and embed.embedded == len(run1)
    run2 = pipeline.run(documents=pages(client, folder))
    assert run2 == [] and embed.embedded == len(run1)
    # a fresh pipeline without the docstore still embeds nothing: the cache holds the nodes
    again = CountingEmbedding(embed_dim=8)
    fresh = IngestionPipeline(
        transformations=[LaminaNodeParser(chunk_size=chunk_size), again], cache=cache
    )
    run3 = fresh.run(documents=pages(client, folder))
    assert len(run3) == len(run1) and again.embedded == 0


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A markdown article in the style of an encyclopedia page: inline links with relative and
    absolute targets (one with brackets in it) and numbered citation markers."""
    text = "\n".join(
        [
            "# Wetland birds",
            "",
            "Adult [grebes](/wiki/Grebe) dive for fish, unlike the [coot](/wiki/Coot_(bird)),"
            " which grazes on water plants.[[12]](#cite_note-Smith-12) Their nests float on"
            ' [reed](https://example.org/reed "Common reed") rafts.[[13]](#cite_note-13)',
            "",
            "```",
            "see [config](http://example.org/raw) verbatim",
            "```",
            "",
        ]
    )
    path = tmp_path_factory.mktemp("linked") / "birds.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_links_become_their_anchor_text_with_targets_in_metadata(client, linked) -> None:
    docs = pages(client, linked)
    nodes = LaminaNodeParser(chunk_size=400, metadata_aware=False).get_nodes_from_documents(docs)
    prose = next(n for n in nodes if "grebes" in n.text)
    assert prose.text.startswith(
        "# Wetland birds\n\nAdult grebes dive for fish, unlike the coot, which grazes on water "
        "plants. Their nests float on reed rafts.\n\n"
    )
    links = json.loads(prose.metadata["links"])
    assert {"text": "grebes", "url": "/wiki/Grebe"} in links
    assert {"text": "coot", "url": "/wiki/Coot_(bird)"} in links
    assert {"text": "reed", "url": "https://example.org/reed"} in links
    assert not any("cite_note" in link["url"] for link in links)  # markers are no words
    assert "links" in prose.excluded_embed_metadata_keys
    code = next(n for n in nodes if "verbatim" in n.text)  # code is kept as written
    assert "[config](http://example.org/raw)" in code.text
    # the node still points at its place in the page: the original, linked paragraph
    page_text = docs[0].text
    assert prose.start_char_idx is not None and prose.end_char_idx is not None
    covered = page_text[prose.start_char_idx : prose.end_char_idx]
    assert "Adult [grebes](/wiki/Grebe)" in covered and "rafts.[[13]](#cite_note-13)" in covered
    kept = LaminaNodeParser(
        chunk_size=400, metadata_aware=False, unwrap_links=False
    ).get_nodes_from_documents(docs)
    assert any("[grebes](/wiki/Grebe)" in n.text for n in kept)
