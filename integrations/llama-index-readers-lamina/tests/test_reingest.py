"""Re-ingesting unchanged files through real LlamaIndex pipelines processes and embeds nothing.

``CountingEmbedding`` is LlamaIndex's own ``MockEmbedding`` (a stand-in for a remote embedding
model, which cannot run here) that counts the texts it is asked to embed.
"""

from __future__ import annotations

from llama_index.core.embeddings import MockEmbedding
from llama_index.core.ingestion import DocstoreStrategy, IngestionCache, IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.storage.docstore import SimpleDocumentStore
from llama_index.readers.lamina import LaminaReader

import lamina


class CountingEmbedding(MockEmbedding):
    """MockEmbedding that counts the texts it embeds."""

    embedded: int = 0

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return super()._get_text_embeddings(texts)


def load(client: lamina.Client, path: object, **kwargs: object) -> list:
    return LaminaReader(client=client, show_progress=False, **kwargs).load_data(path)


def test_two_loads_of_the_same_files_have_the_same_ids_and_hashes(client, corpus_dir) -> None:
    first, second = load(client, corpus_dir), load(client, corpus_dir)
    assert [d.id_ for d in first] == [d.id_ for d in second]
    assert [d.hash for d in first] == [d.hash for d in second]
    assert all("job_id" not in d.metadata and "pjb-" not in d.text for d in first)


def test_job_id_only_on_request(client, corpus) -> None:
    docs = load(client, corpus["multipage"], include_job_id=True)
    assert all(d.metadata["job_id"].startswith("pjb-") for d in docs)
    assert all("job_id" in d.excluded_embed_metadata_keys for d in docs)


def test_pipeline_with_docstore_skips_unchanged_documents(client, corpus_dir) -> None:
    embed = CountingEmbedding(embed_dim=8)
    pipeline = IngestionPipeline(
        transformations=[SentenceSplitter(chunk_size=256, chunk_overlap=0), embed],
        docstore=SimpleDocumentStore(),
        docstore_strategy=DocstoreStrategy.DUPLICATES_ONLY,
    )
    run1 = pipeline.run(documents=load(client, corpus_dir))
    embedded1 = embed.embedded
    assert len(run1) > 0 and embedded1 == len(run1)
    run2 = pipeline.run(documents=load(client, corpus_dir))
    assert run2 == []
    assert embed.embedded == embedded1  # nothing embedded on the re-run


def test_pipeline_cache_embeds_nothing_on_a_rerun(client, corpus_dir) -> None:
    cache = IngestionCache()
    counts = []
    for _ in range(2):
        embed = CountingEmbedding(embed_dim=8)
        pipeline = IngestionPipeline(
            transformations=[SentenceSplitter(chunk_size=256, chunk_overlap=0), embed],
            cache=cache,
        )
        nodes = pipeline.run(documents=load(client, corpus_dir))
        counts.append((len(nodes), embed.embedded))
    (nodes1, embedded1), (nodes2, embedded2) = counts
    assert nodes1 == nodes2 > 0
    assert embedded1 == nodes1
    assert embedded2 == 0


def test_item_documents_are_deduplicated_too(client, corpus) -> None:
    embed = CountingEmbedding(embed_dim=8)
    pipeline = IngestionPipeline(
        transformations=[embed],
        docstore=SimpleDocumentStore(),
        docstore_strategy=DocstoreStrategy.DUPLICATES_ONLY,
    )
    run1 = pipeline.run(documents=load(client, corpus["headings"], granularity="item"))
    assert len(run1) > 3
    run2 = pipeline.run(documents=load(client, corpus["headings"], granularity="item"))
    assert run2 == [] and embed.embedded == len(run1)


def test_a_job_id_in_the_metadata_defeats_the_docstore(client, corpus) -> None:
    """Why the job id is off by default: with it, every re-run re-embeds everything."""
    pipeline = IngestionPipeline(
        transformations=[CountingEmbedding(embed_dim=8)],
        docstore=SimpleDocumentStore(),
        docstore_strategy=DocstoreStrategy.DUPLICATES_ONLY,
    )
    run1 = pipeline.run(documents=load(client, corpus["multipage"], include_job_id=True))
    run2 = pipeline.run(documents=load(client, corpus["multipage"], include_job_id=True))
    assert len(run2) == len(run1) == 3
