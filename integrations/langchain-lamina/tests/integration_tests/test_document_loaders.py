"""LaminaLoader and LaminaBlobParser against the embedded engine (and once ``lamina serve``)."""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import langchain_lamina
import pytest
from conftest import support
from langchain_core.document_loaders import BaseBlobParser, BaseLoader, BlobLoader
from langchain_core.documents import Document
from langchain_core.documents.base import Blob
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_lamina import LaminaBlobParser, LaminaLoader

import lamina

SCALARS = (str, int, float, bool)


def loader(client: lamina.Client, file_path: object, **kwargs: object) -> LaminaLoader:
    return LaminaLoader(file_path, client=client, show_progress=False, **kwargs)


def assert_flat(docs: Iterable[Document]) -> None:
    for doc in docs:
        for key, value in doc.metadata.items():
            assert isinstance(value, SCALARS), (key, value)


def test_mro_and_version() -> None:
    assert BaseLoader in LaminaLoader.__mro__
    assert BaseBlobParser in LaminaBlobParser.__mro__
    assert langchain_lamina.__version__ == "0.1.0"


def test_pages_have_source_and_both_page_numbers(client, corpus) -> None:
    docs = loader(client, corpus["multipage"]).load()
    assert [(d.metadata["page"], d.metadata["page_number"]) for d in docs] == [
        (0, 1),
        (1, 2),
        (2, 3),
    ]
    for n, doc in enumerate(docs, start=1):
        assert f"This is page {n}." in doc.page_content
        assert doc.metadata["source"] == str(corpus["multipage"])
        assert doc.metadata["file_name"] == "multipage_3.pdf"
        assert doc.metadata["page_width"] == pytest.approx(595.28, abs=0.5)
        assert doc.id
    assert len({d.id for d in docs}) == 3
    assert_flat(docs)


def test_items_have_header_paths_boxes_and_tables(client, corpus) -> None:
    docs = loader(client, [corpus["headings"], corpus["markdown"]], granularity="item").load()
    paragraph = next(d for d in docs if "A short paragraph" in d.page_content)
    # LangChain embeds page_content alone, so it names the section
    assert paragraph.page_content == (
        "Engine Test Document > Introduction > Details\n\nA short paragraph under the subsection."
    )
    assert paragraph.metadata["header_path"] == "/Engine Test Document/Introduction/Details/"
    assert paragraph.metadata["page"] == 0
    assert {"x", "y", "w", "h"} == set(json.loads(paragraph.metadata["bbox"])[0])
    table = next(d for d in docs if d.metadata["item_type"] == "table")
    assert table.page_content.splitlines()[:3] == ["Guide > Steps", "", "| Name | Value |"]
    assert table.metadata["table_csv"].startswith("Name,Value")
    assert "<th>Name</th>" in table.metadata["table_html"]
    assert_flat(docs)


def test_document_granularity(client, corpus) -> None:
    (doc,) = loader(client, corpus["multipage"], granularity="document").load()
    assert "page" not in doc.metadata and doc.metadata["total_pages"] == 3
    assert doc.metadata["source"] == str(corpus["multipage"])


def test_load_is_lazy_load(client, corpus_dir) -> None:
    lazy = loader(client, corpus_dir).lazy_load()
    assert inspect.isgenerator(lazy)
    assert [d.id for d in lazy] == [d.id for d in loader(client, corpus_dir).load()]


async def test_alazy_load_is_native_and_matches(client, async_client, corpus_dir) -> None:
    lc_loader = LaminaLoader(
        corpus_dir,
        client=client,
        async_client=async_client,
        granularity="item",
        show_progress=False,
    )
    stream = lc_loader.alazy_load()
    assert inspect.isasyncgen(stream)
    assert type(lc_loader).alazy_load is not BaseLoader.alazy_load
    async_docs = [d async for d in stream]
    sync_docs = lc_loader.load()
    assert [d.id for d in async_docs] == [d.id for d in sync_docs]
    assert [d.page_content for d in async_docs] == [d.page_content for d in sync_docs]
    assert [support.stable(d.metadata) for d in async_docs] == [
        support.stable(d.metadata) for d in sync_docs
    ]
    assert [d.id for d in await lc_loader.aload()] == [d.id for d in sync_docs]


def test_bytes_and_streams(client, corpus) -> None:
    data = corpus["multipage"].read_bytes()
    by_path = loader(client, corpus["multipage"]).load()
    by_bytes = loader(client, data, file_name="multipage_3.pdf").load()
    assert [d.id for d in by_bytes] == [d.id for d in by_path]
    assert by_bytes[0].metadata["source"] == "multipage_3.pdf"
    with corpus["multipage"].open("rb") as handle:
        assert [d.id for d in loader(client, handle).load()] == [d.id for d in by_path]


def test_metadata_argument_is_added(client, corpus) -> None:
    docs = loader(client, corpus["text"], metadata={"team": "legal"}).load()
    assert docs[0].metadata["team"] == "legal"


def test_same_directory_twice_gives_same_ids(client, corpus_dir) -> None:
    first = loader(client, corpus_dir, granularity="item").load()
    second = loader(client, corpus_dir, granularity="item").load()
    assert [d.id for d in first] == [d.id for d in second]
    assert len({d.id for d in first}) == len(first)


# --- blob parser ----------------------------------------------------------------------------


class DirectoryBlobLoader(BlobLoader):
    """The smallest blob loader: every file of a directory, sorted (as GenericLoader uses)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def yield_blobs(self) -> Iterator[Blob]:
        for path in sorted(self.directory.iterdir()):
            yield Blob.from_path(path)


def test_blob_parser_matches_the_loader(client, corpus_dir) -> None:
    parser = LaminaBlobParser(client=client)
    blobs = DirectoryBlobLoader(corpus_dir).yield_blobs()
    parsed = [doc for blob in blobs for doc in parser.lazy_parse(blob)]
    loaded = loader(client, corpus_dir).load()
    assert [d.id for d in parsed] == [d.id for d in loaded]
    assert [support.stable(d.metadata) for d in parsed] == [
        support.stable(d.metadata) for d in loaded
    ]


def test_blob_parser_with_generic_loader(client, corpus_dir) -> None:
    generic = pytest.importorskip("langchain_community.document_loaders.generic")
    docs = generic.GenericLoader(
        DirectoryBlobLoader(corpus_dir), LaminaBlobParser(client=client)
    ).load()
    assert {d.metadata["file_name"] for d in docs} >= {"multipage_3.pdf"}


def test_blob_from_data(client, corpus) -> None:
    blob = Blob.from_data(corpus["text"].read_bytes(), path=None)
    blob.source  # noqa: B018 - no path, no source
    docs = LaminaBlobParser(client=client, granularity="item").parse(blob)
    assert "First paragraph" in docs[0].page_content


# --- errors ---------------------------------------------------------------------------------


@pytest.fixture
def mixed_dir(tmp_path: Path) -> Path:
    support.documents.make_simple_pdf(tmp_path)
    support.documents.make_corrupt_pdf(tmp_path)
    return tmp_path


def test_corrupt_pdf_raise_skip_record(client, mixed_dir, caplog) -> None:
    with pytest.raises(lamina.JobFailedError):
        loader(client, mixed_dir).load()
    with caplog.at_level(logging.WARNING, logger="lamina.integrations"):
        skipped = loader(client, mixed_dir, on_error="skip").load()
    assert [d.metadata["file_name"] for d in skipped] == ["simple.pdf"]
    assert any("corrupt.pdf" in r.getMessage() for r in caplog.records)
    recorded = loader(client, mixed_dir, on_error="record").load()
    failed = [d for d in recorded if d.metadata.get("parse_status") == "failed"]
    assert len(failed) == 1 and failed[0].metadata["source"].endswith("corrupt.pdf")
    assert "damaged" in failed[0].metadata["error"]
    with pytest.raises(lamina.JobFailedError):
        LaminaBlobParser(client=client).parse(Blob.from_path(mixed_dir / "corrupt.pdf"))


async def test_async_errors_follow_on_error(client, async_client, mixed_dir) -> None:
    lc_loader = LaminaLoader(
        mixed_dir, client=client, async_client=async_client, on_error="record", show_progress=False
    )
    docs = [d async for d in lc_loader.alazy_load()]
    assert [d.metadata.get("parse_status") for d in docs] == ["failed", None]


def test_bad_options_are_rejected() -> None:
    with pytest.raises(ValueError):
        LaminaLoader("x.pdf", granularity="chapter")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        LaminaLoader("x.pdf", num_workers=0)


# --- downstream -----------------------------------------------------------------------------


def test_chunk_granularity_respects_the_size_and_names_sections(client, corpus) -> None:
    docs = loader(client, corpus["headings"], granularity="chunk", chunk_size=80).load()
    assert max(len(d.page_content) for d in docs) <= 80
    assert docs[0].page_content.startswith("# Engine Test Document\n\n## Introduction\n\n")
    later = [
        d for d in docs[1:] if d.metadata["header_path"] == "/Engine Test Document/Introduction/"
    ]
    assert later and all(
        d.page_content.startswith("Engine Test Document > Introduction\n\n") for d in later
    )
    assert all(not d.page_content.startswith("#") or "\n\n" in d.page_content for d in docs)
    assert len({d.id for d in docs}) == len(docs)
    words = loader(
        client, corpus["headings"], granularity="chunk", chunk_size=12, tokenizer=str.split
    ).load()
    assert max(len(d.page_content.split()) for d in words) <= 12
    plain = loader(client, corpus["headings"], granularity="chunk", section_in_text=False).load()
    assert not any(d.page_content.startswith("Engine Test Document >") for d in plain)
    assert_flat(docs)


def test_chunk_granularity_unwraps_links_like_the_node_parser(client, tmp_path) -> None:
    """Same default as ``LaminaNodeParser``: link markdown becomes anchor text, targets go to
    ``links``, citation markers go, so ``page_content`` (all LangChain embeds) is words."""
    path = tmp_path / "birds.md"
    path.write_text(
        "# Wetland birds\n\nAdult [grebes](/wiki/Grebe) dive for fish.[[12]](#cite_note-12)\n",
        encoding="utf-8",
    )
    docs = loader(client, path, granularity="chunk").load()
    assert [d.page_content for d in docs] == ["# Wetland birds\n\nAdult grebes dive for fish."]
    assert json.loads(docs[0].metadata["links"]) == [{"text": "grebes", "url": "/wiki/Grebe"}]
    assert_flat(docs)


@pytest.mark.parametrize("granularity", ["document", "page", "item", "chunk"])
def test_in_memory_vector_store_accepts_metadata(client, corpus_dir, granularity) -> None:
    docs = loader(client, corpus_dir, granularity=granularity).load()
    store = InMemoryVectorStore(embedding=DeterministicFakeEmbedding(size=16))
    ids = store.add_documents(docs)
    assert ids == [d.id for d in docs]
    hits = store.similarity_search(docs[0].page_content, k=1)
    assert hits[0].id == docs[0].id and hits[0].metadata == docs[0].metadata
    # re-adding the same documents upserts: the store does not grow
    store.add_documents(docs)
    assert len(store.store) == len(docs)
    if granularity != "document":
        second = store.similarity_search(
            "page", k=100, filter=lambda d: d.metadata.get("page_number") == 2
        )
        assert second and {d.metadata["page"] for d in second} == {1}


def test_served_and_embedded_give_identical_documents(client, served_url, corpus_dir) -> None:
    embedded = loader(client, corpus_dir, granularity="item").load()
    served = LaminaLoader(
        corpus_dir, base_url=served_url, granularity="item", show_progress=False
    ).load()
    assert [d.id for d in served] == [d.id for d in embedded]
    assert [d.page_content for d in served] == [d.page_content for d in embedded]
    assert [support.stable(d.metadata) for d in served] == [
        support.stable(d.metadata) for d in embedded
    ]
