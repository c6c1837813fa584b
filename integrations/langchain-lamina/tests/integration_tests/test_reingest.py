"""Re-indexing unchanged files with LangChain's ``index()`` and a real record manager skips
every document. ``DeterministicFakeEmbedding`` stands in for a remote embedding model."""

from __future__ import annotations

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.indexing import InMemoryRecordManager, index
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_lamina import LaminaLoader

import lamina


def loader(client: lamina.Client, path: object, **kwargs: object) -> LaminaLoader:
    return LaminaLoader(path, client=client, show_progress=False, **kwargs)


@pytest.mark.parametrize("cleanup", ["incremental", "scoped_full", "full"])
@pytest.mark.parametrize("granularity", ["page", "item", "chunk"])
def test_second_index_run_skips_everything(client, corpus_dir, cleanup, granularity) -> None:
    manager = InMemoryRecordManager(namespace=f"lamina/{cleanup}/{granularity}")
    manager.create_schema()
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=8))
    first = index(
        loader(client, corpus_dir, granularity=granularity),
        manager,
        store,
        cleanup=cleanup,
        source_id_key="source",
        key_encoder="sha256",
    )
    assert first["num_added"] > 0 and first["num_deleted"] == 0
    second = index(
        loader(client, corpus_dir, granularity=granularity),
        manager,
        store,
        cleanup=cleanup,
        source_id_key="source",
        key_encoder="sha256",
    )
    assert second == {
        "num_added": 0,
        "num_updated": 0,
        "num_skipped": first["num_added"],
        "num_deleted": 0,
    }


def test_job_id_only_on_request(client, corpus) -> None:
    plain = loader(client, corpus["multipage"]).load()
    assert all("job_id" not in d.metadata for d in plain)
    with_job = loader(client, corpus["multipage"], include_job_id=True).load()
    assert all(d.metadata["job_id"].startswith("pjb-") for d in with_job)
