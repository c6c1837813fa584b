"""LaminaReader against the embedded Lamina engine (and once against ``lamina serve``)."""

from __future__ import annotations

import inspect
import io
import json
import logging
import threading
import time
from pathlib import Path

import pytest
from conftest import support
from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.readers.base import BasePydanticReader, BaseReader
from llama_index.core.schema import Document, MetadataMode
from llama_index.core.vector_stores import ExactMatchFilter, MetadataFilters
from llama_index.readers.lamina import ITEMS_KEY, LaminaReader, PageParseError

import lamina
from lamina import ingest
from lamina.ingest import _runner
from lamina.types import ParseResponse

SCALARS = (str, int, float, bool)
BULKY = ("bbox", "table_html", "table_csv", "job_id", "file_path", ITEMS_KEY)


def reader(client: lamina.Client, **kwargs: object) -> LaminaReader:
    return LaminaReader(client=client, show_progress=False, **kwargs)


def assert_flat(docs: list[Document]) -> None:
    for doc in docs:
        for key, value in doc.metadata.items():
            assert isinstance(value, SCALARS), (key, value)


def test_mro() -> None:
    names = [base.__name__ for base in LaminaReader.__mro__]
    assert BaseReader.__name__ in names
    assert BasePydanticReader.__name__ in names


# --- granularity and metadata ---------------------------------------------------------------


def test_page_documents_carry_page_metadata(client, corpus) -> None:
    docs = reader(client).load_data(corpus["multipage"])
    assert [d.metadata["page_number"] for d in docs] == [1, 2, 3]
    for n, doc in enumerate(docs, start=1):
        assert f"This is page {n}." in doc.text
        meta = doc.metadata
        assert meta["file_name"] == "multipage_3.pdf"
        assert meta["file_path"] == str(corpus["multipage"])
        assert "job_id" not in meta  # volatile: every parse is a new job
        assert meta["page_width"] == pytest.approx(595.28, abs=0.5)
        assert meta["page_height"] == pytest.approx(841.89, abs=0.5)
        assert 0 <= meta["confidence"] <= 1
        assert ITEMS_KEY not in meta
    assert_flat(docs)


def test_bulky_keys_are_kept_out_of_embedding_and_llm_text(client, corpus) -> None:
    docs = reader(client, granularity="item").load_data(corpus["markdown"])
    table = next(d for d in docs if d.metadata["item_type"] == "table")
    for mode in (MetadataMode.EMBED, MetadataMode.LLM):
        content = table.get_content(metadata_mode=mode)
        assert "file_name: guide.md" in content
        assert "<table>" not in content
        for key in BULKY:
            assert f"{key}:" not in content
    assert set(table.excluded_embed_metadata_keys) >= {"table_html", "table_csv"}


def test_item_documents_have_types_levels_paths_and_boxes(client, corpus) -> None:
    docs = reader(client, granularity="item").load_data(corpus["headings"])
    by_text = {d.text: d.metadata for d in docs}
    title = by_text["# Engine Test Document"]
    assert (title["item_type"], title["level"], title["header_path"]) == ("heading", 1, "/")
    paragraph = by_text["A short paragraph under the subsection."]
    assert paragraph["header_path"] == "/Engine Test Document/Introduction/Details/"
    assert paragraph["item_type"] == "text"
    code = next(m for t, m in by_text.items() if t.startswith("```"))
    assert code["header_path"] == "/Engine Test Document/Lists and Code/"
    boxes = json.loads(paragraph["bbox"])
    assert boxes and set(boxes[0]) == {"x", "y", "w", "h"}
    for box in boxes:
        assert 0 <= box["x"] < paragraph["page_width"]
        assert 0 <= box["y"] < paragraph["page_height"]
    assert len({d.id_ for d in docs}) == len(docs)
    assert [d.metadata["item_index"] for d in docs] == sorted(
        d.metadata["item_index"] for d in docs
    )
    assert_flat(docs)


def test_header_path_is_carried_across_pages(client, tmp_path) -> None:
    from reportlab.pdfgen.canvas import Canvas

    path = tmp_path / "two_pages.pdf"
    canvas = Canvas(str(path), invariant=1)
    canvas.setFont("Helvetica-Bold", 24)
    canvas.drawString(72, 770, "Annual Report")
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(72, 730, "Results")
    canvas.setFont("Helvetica", 11)
    canvas.drawString(72, 700, "Revenue grew on the first page.")
    canvas.showPage()
    canvas.setFont("Helvetica", 11)
    canvas.drawString(72, 770, "The results section continues on the second page.")
    canvas.showPage()
    canvas.save()
    docs = reader(client, granularity="item").load_data(path)
    second = [d for d in docs if d.metadata["page_number"] == 2]
    assert second and second[0].metadata["header_path"] == "/Annual Report/Results/"


def test_table_item_keeps_header_cells_and_payloads(client, corpus) -> None:
    docs = reader(client, granularity="item").load_data(corpus["markdown"])
    table = next(d for d in docs if d.metadata["item_type"] == "table")
    assert table.text.splitlines()[0] == "| Name | Value |"
    assert "<th>Name</th><th>Value</th>" in table.metadata["table_html"]
    assert table.metadata["table_csv"].splitlines()[0] == "Name,Value"
    assert table.metadata["header_path"] == "/Guide/Steps/"


def test_document_granularity_joins_pages(client, corpus) -> None:
    (doc,) = reader(client, granularity="document").load_data(corpus["multipage"])
    assert all(f"This is page {n}." in doc.text for n in (1, 2, 3))
    assert doc.metadata["total_pages"] == 3
    assert "page_number" not in doc.metadata


def test_include_items_puts_the_page_items_json_in_excluded_metadata(client, corpus) -> None:
    docs = reader(client, include_items=True).load_data(corpus["headings"])
    items = json.loads(docs[0].metadata[ITEMS_KEY])
    assert items["page_number"] == 1 and items["items"][0]["type"] == "heading"
    assert ITEMS_KEY in docs[0].excluded_embed_metadata_keys
    assert ITEMS_KEY not in docs[0].get_content(metadata_mode=MetadataMode.LLM)


def test_extra_info_is_added_to_every_document(client, corpus) -> None:
    docs = reader(client).load_data(corpus["multipage"], extra_info={"team": "finance"})
    assert {d.metadata["team"] for d in docs} == {"finance"}


# --- inputs ---------------------------------------------------------------------------------


def test_every_input_form_gives_the_same_documents(client, corpus) -> None:
    path = corpus["multipage"]
    data = path.read_bytes()
    by_path = reader(client).load_data(str(path))
    expected = [(d.id_, d.text, d.metadata["page_number"]) for d in by_path]

    def key(docs: list[Document]) -> list[tuple[str, str, int]]:
        return [(d.id_, d.text, d.metadata["page_number"]) for d in docs]

    assert key(reader(client).load_data(path)) == expected
    assert key(reader(client).load_data(data, file_name="multipage_3.pdf")) == expected
    assert key(reader(client).load_data(("multipage_3.pdf", data))) == expected
    with path.open("rb") as handle:
        from_stream = reader(client).load_data(handle)
    assert key(from_stream) == expected
    assert from_stream[0].metadata["file_name"] == "multipage_3.pdf"
    named = reader(client).load_data(io.BytesIO(data), file_name="report.pdf")
    assert named[0].metadata["file_name"] == "report.pdf"
    assert "file_path" not in named[0].metadata


def test_existing_file_id_and_job_id(client, corpus) -> None:
    uploaded = client.files.create(corpus["multipage"])
    by_file = reader(client).load_data(uploaded.id)
    by_path = reader(client).load_data(corpus["multipage"])
    assert [d.text for d in by_file] == [d.text for d in by_path]
    assert by_file[0].metadata["file_id"] == uploaded.id
    if uploaded.sha256:  # Lamina reports the content hash, so ids match the path's
        assert [d.id_ for d in by_file] == [d.id_ for d in by_path]

    job = client.parsing.create(uploaded.id)
    by_job = reader(client).load_data(job.id)
    assert [d.text for d in by_job] == [d.text for d in by_path]
    assert {d.metadata["job_id"] for d in by_job} == {job.id}
    assert by_job[0].metadata["file_name"] == "multipage_3.pdf"


def test_directory_glob_and_list_inputs(client, corpus, corpus_dir) -> None:
    from_dir = reader(client).load_data(corpus_dir)
    names = sorted({d.metadata["file_name"] for d in from_dir})
    assert names == ["guide.md", "headings_lists.pdf", "multipage_3.pdf", "notes.txt"]
    from_glob = reader(client).load_data(str(corpus_dir / "*.pdf"))
    assert {d.metadata["file_name"] for d in from_glob} == {"headings_lists.pdf", "multipage_3.pdf"}
    from_list = reader(client).load_data([corpus["text"], corpus["markdown"]])
    assert [d.metadata["file_name"] for d in from_list] == ["notes.txt", "guide.md"]


def test_loading_a_directory_twice_gives_the_same_ids(client, corpus_dir) -> None:
    first = reader(client, granularity="item").load_data(corpus_dir)
    second = reader(client, granularity="item").load_data(corpus_dir)
    assert [d.id_ for d in first] == [d.id_ for d in second]
    assert len({d.id_ for d in first}) == len(first)


def test_works_as_a_simple_directory_reader_file_extractor(client, corpus_dir) -> None:
    lamina_reader = reader(client)
    docs = SimpleDirectoryReader(
        str(corpus_dir),
        required_exts=[".pdf"],
        file_extractor={".pdf": lamina_reader},
    ).load_data()
    assert {d.metadata["file_name"] for d in docs} == {"headings_lists.pdf", "multipage_3.pdf"}
    multipage = [d for d in docs if d.metadata["file_name"] == "multipage_3.pdf"]
    assert [d.metadata["page_number"] for d in multipage] == [1, 2, 3]
    assert all("file_size" in d.metadata for d in docs)  # SimpleDirectoryReader's metadata kept


# --- errors ---------------------------------------------------------------------------------


@pytest.fixture
def mixed_dir(tmp_path: Path) -> Path:
    support.documents.make_simple_pdf(tmp_path)
    support.documents.make_corrupt_pdf(tmp_path)
    support.documents.make_multipage_pdf(tmp_path, pages=2)
    return tmp_path


def test_corrupt_pdf_raises_by_default(client, mixed_dir) -> None:
    with pytest.raises(lamina.JobFailedError, match="damaged or truncated"):
        reader(client).load_data(mixed_dir)


def test_corrupt_pdf_is_skipped_with_a_warning(client, mixed_dir, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="lamina.integrations"):
        docs = reader(client, on_error="skip").load_data(mixed_dir)
    assert {d.metadata["file_name"] for d in docs} == {"simple.pdf", "multipage_2.pdf"}
    assert any("corrupt.pdf" in r.getMessage() for r in caplog.records)


def test_corrupt_pdf_is_recorded_as_a_failed_document(client, mixed_dir) -> None:
    docs = reader(client, on_error="record").load_data(mixed_dir)
    failed = [d for d in docs if d.metadata.get("parse_status") == "failed"]
    assert len(failed) == 1 and failed[0].text == ""
    meta = failed[0].metadata
    assert meta["file_name"] == "corrupt.pdf"
    assert meta["error_type"] == "JobFailedError"
    assert "damaged or truncated" in meta["error"]
    assert len(docs) == 1 + 1 + 2
    assert_flat(docs)


def test_missing_path_follows_on_error(client, tmp_path) -> None:
    missing = tmp_path / "nope.pdf"
    with pytest.raises(FileNotFoundError):
        reader(client).load_data(missing)
    (doc,) = reader(client, on_error="record").load_data(missing)
    assert doc.metadata["error_type"] == "FileNotFoundError"


def test_failed_pages_follow_on_error(client, corpus) -> None:
    """A page the engine could not parse (in a completed job) is handled like a failed file."""
    response = client.parse(corpus["multipage"])
    raw = response.model_dump(mode="json")
    raw["markdown"]["pages"][1] = {"page_number": 2, "success": False, "error": "bad font"}
    raw["items"]["pages"][1] = {"page_number": 2, "success": False, "error": "bad font"}
    broken = ParseResponse.model_validate(raw)
    outcome = ingest.Outcome(
        source=ingest.Source(kind="path", name="multipage_3.pdf", path=str(corpus["multipage"])),
        identity="abc",
        response=broken,
    )
    with pytest.raises(PageParseError, match="page 2"):
        ingest.to_records(outcome, ingest.MappingOptions(on_error="raise"))
    skipped = ingest.to_records(outcome, ingest.MappingOptions(on_error="skip"))
    assert [r.metadata["page_number"] for r in skipped] == [1, 3]
    recorded = ingest.to_records(outcome, ingest.MappingOptions(on_error="record"))
    assert recorded[1].metadata["parse_status"] == "failed"
    assert recorded[1].metadata["error"] == "bad font"
    assert recorded[1].id == ingest.make_id("abc", "p", 2)  # a later good parse upserts it
    (document,) = ingest.to_records(
        outcome, ingest.MappingOptions(granularity="document", on_error="skip")
    )
    assert document.metadata["failed_pages"] == "2"


def test_options_are_validated() -> None:
    with pytest.raises(ValueError):
        LaminaReader(granularity="chapter")
    with pytest.raises(ValueError):
        LaminaReader(on_error="ignore")


# --- execution ------------------------------------------------------------------------------


def test_lazy_load_data_is_a_real_generator(client, corpus) -> None:
    docs = reader(client).lazy_load_data(corpus["multipage"])
    assert inspect.isgenerator(docs)
    first = next(docs)
    assert first.metadata["page_number"] == 1
    docs.close()


def test_num_workers_bounds_jobs_in_flight(client, corpus_dir, monkeypatch) -> None:
    active, peak, lock = 0, 0, threading.Lock()
    real = ingest.parse_source

    def counting(*args: object, **kwargs: object) -> ingest.Outcome:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        try:
            time.sleep(0.05)
            return real(*args, **kwargs)
        finally:
            with lock:
                active -= 1

    monkeypatch.setattr(_runner, "parse_source", counting)
    sources = [corpus_dir] * 3  # 12 files
    docs = reader(client, num_workers=2).load_data(sources)
    assert peak == 2
    assert len({d.metadata["file_name"] for d in docs}) == 4
    serial = reader(client, num_workers=1).load_data(sources)
    assert [d.id_ for d in serial] == [d.id_ for d in docs]


def test_progress_bar_can_be_turned_on_and_off(client, corpus, capsys) -> None:
    reader(client).load_data(corpus["text"])
    assert "Parsing" not in capsys.readouterr().err
    LaminaReader(client=client, show_progress=True).load_data(corpus["text"])
    assert "Parsing" in capsys.readouterr().err


async def test_async_load_matches_sync(client, async_client, corpus_dir) -> None:
    lamina_reader = LaminaReader(
        client=client, async_client=async_client, granularity="item", show_progress=False
    )
    stream = lamina_reader.alazy_load_data(corpus_dir)
    assert inspect.isasyncgen(stream)
    async_docs = [doc async for doc in stream]
    sync_docs = lamina_reader.load_data(corpus_dir)
    assert [d.id_ for d in async_docs] == [d.id_ for d in sync_docs]
    assert [d.text for d in async_docs] == [d.text for d in sync_docs]
    assert [support.stable(d.metadata) for d in async_docs] == [
        support.stable(d.metadata) for d in sync_docs
    ]
    collected = await lamina_reader.aload_data(corpus_dir)
    assert [d.id_ for d in collected] == [d.id_ for d in sync_docs]


async def test_async_without_injected_async_client(data_dir, corpus) -> None:
    docs = await LaminaReader(data_dir=str(data_dir), show_progress=False).aload_data(
        corpus["multipage"]
    )
    assert [d.metadata["page_number"] for d in docs] == [1, 2, 3]


def test_api_key_does_not_leak_when_serialised() -> None:
    lamina_reader = LaminaReader(base_url="http://127.0.0.1:9", api_key="sk-secret")
    assert lamina_reader.is_remote
    assert "sk-secret" not in json.dumps(lamina_reader.to_dict(), default=str)


# --- downstream -----------------------------------------------------------------------------


@pytest.mark.parametrize("granularity", ["document", "page", "item"])
def test_vector_store_index_accepts_metadata_unchanged(client, corpus_dir, granularity) -> None:
    """MockEmbedding (deterministic, offline) stands in for a real embedding model."""
    docs = reader(client, granularity=granularity).load_data(corpus_dir)
    index = VectorStoreIndex.from_documents(docs, embed_model=MockEmbedding(embed_dim=8))
    nodes = index.as_retriever(similarity_top_k=50).retrieve("page two")
    assert nodes
    by_id = {d.id_: d for d in docs}
    for hit in nodes:
        source = by_id[hit.node.ref_doc_id]
        assert hit.node.metadata == source.metadata
    if granularity != "document":
        filters = MetadataFilters(filters=[ExactMatchFilter(key="page_number", value=2)])
        hits = index.as_retriever(similarity_top_k=50, filters=filters).retrieve("page")
        assert hits and {h.node.metadata["page_number"] for h in hits} == {2}


# --- embedded and served give the same objects ----------------------------------------------


@pytest.mark.parametrize("granularity", ["page", "item"])
def test_served_and_embedded_give_identical_documents(
    client, served_url, corpus_dir, granularity
) -> None:
    embedded = reader(client, granularity=granularity).load_data(corpus_dir)
    served = LaminaReader(
        base_url=served_url, granularity=granularity, show_progress=False
    ).load_data(corpus_dir)
    assert [d.id_ for d in served] == [d.id_ for d in embedded]
    assert [d.text for d in served] == [d.text for d in embedded]
    assert [support.stable(d.metadata) for d in served] == [
        support.stable(d.metadata) for d in embedded
    ]
    assert [d.excluded_embed_metadata_keys for d in served] == [
        d.excluded_embed_metadata_keys for d in embedded
    ]
