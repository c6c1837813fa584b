"""Fixtures for the distributed tests: the real PostgreSQL, RabbitMQ and Redis of the machine.

Nothing is stood in for: a test needing a service that does not answer (or the
``distributed`` extra, not installed) is skipped with the reason. CI runs them with the
services up and the extra installed (``.ci/run``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.fixtures.cluster import broker_available
from tests.fixtures.pg import postgres_available, schema_url, throwaway_database
from tests.fixtures.s3 import ObjectStore, s3_available


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("LAMINA_", "LLAMA_CLOUD_")):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """One throw-away database for this test session (dropped at the end)."""
    if not postgres_available():
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not reachable (or psycopg missing)")
    with throwaway_database() as name:
        yield name


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """A fresh, empty schema of the session database."""
    return schema_url(pg_database)


def need_broker(url: str) -> None:
    pytest.importorskip("celery", reason="the distributed extra is not installed")
    if not broker_available(url):
        pytest.skip(f"broker {url.split('@')[-1]} is not reachable")
    if not postgres_available():
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not reachable")


@pytest.fixture(scope="session")
def object_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ObjectStore]:
    """moto's S3 server on a loopback port, standing in for S3 (see tests/fixtures/s3.py)."""
    if not s3_available():
        pytest.skip("boto3 and moto[server] are not installed (the s3 and dev extras)")
    store = ObjectStore(tmp_path_factory.mktemp("s3"))
    try:
        yield store
    finally:
        store.close()
