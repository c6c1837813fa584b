"""Test support shared by the integration packages' test suites (not shipped in any wheel).

Each package's ``tests/conftest.py`` puts this folder on ``sys.path`` and loads this module as a
pytest plugin. It provides real documents (the core project's reportlab generators in
``tests/fixtures/documents.py`` and, for extraction, ``tests/fixtures/business.py``), clients on
the embedded engine, and a real ``lamina serve`` on loopback.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType

import pytest

import lamina

for _name in ("LAMINA_BASE_URL", "LLAMA_CLOUD_BASE_URL", "LAMINA_API_KEY", "LLAMA_CLOUD_API_KEY"):
    os.environ.pop(_name, None)  # the embedded engine, whatever the caller's shell says

REPO_ROOT = Path(__file__).resolve().parents[2]
VOLATILE_KEYS = frozenset({"job_id"})
"""Keys that differ between two parses of the same file (every parse is a new job)."""


def _load_fixture_module(name: str) -> ModuleType:
    """Load ``tests/fixtures/<name>.py`` of the core project (not an installed package)."""
    path = REPO_ROOT / "tests" / "fixtures" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"lamina_test_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the fixture generators from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


documents = _load_fixture_module("documents")
business = _load_fixture_module("business")
"""Invoices, receipts and forms with known values (``business.INVOICE``, ``INVOICE_ITEMS``)."""
live_server = _load_fixture_module("server")
"""``serve(data_dir)``: a real ``lamina serve`` on loopback, as the core tests start it."""


def make_corpus(directory: Path) -> dict[str, Path]:
    """A directory of good files: a 3-page PDF, a headings/lists PDF, markdown with a table,
    plain text."""
    directory.mkdir(parents=True, exist_ok=True)
    return {
        "multipage": documents.make_multipage_pdf(directory, pages=3),
        "headings": documents.make_headings_lists_pdf(directory),
        "markdown": documents.make_markdown_file(directory),
        "text": documents.make_text_file(directory),
    }


def stable(metadata: dict[str, object]) -> dict[str, object]:
    """Metadata without the keys that change from one parse job to the next."""
    return {k: v for k, v in metadata.items() if k not in VOLATILE_KEYS}


@contextlib.contextmanager
def lamina_server(data_dir: Path) -> Iterator[str]:
    """Run ``python -m lamina serve`` on a free loopback port; yield its base URL."""
    server = live_server.serve(data_dir)
    try:
        yield server.base_url
    finally:
        server.stop()


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lamina-data")


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("corpus")
    make_corpus(directory)
    return directory


@pytest.fixture(scope="session")
def corpus(corpus_dir: Path) -> dict[str, Path]:
    return {
        "multipage": corpus_dir / "multipage_3.pdf",
        "headings": corpus_dir / "headings_lists.pdf",
        "markdown": corpus_dir / "guide.md",
        "text": corpus_dir / "notes.txt",
    }


@pytest.fixture(scope="session")
def invoice_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-page invoice whose values are ``business.INVOICE`` and ``business.INVOICE_ITEMS``."""
    return Path(business.make_invoice_pdf(tmp_path_factory.mktemp("invoice")))


@pytest.fixture(scope="session")
def client(data_dir: Path) -> Iterator[lamina.Client]:
    with lamina.Client(data_dir=data_dir) as client:
        yield client


@pytest.fixture
async def async_client(data_dir: Path) -> AsyncIterator[lamina.AsyncClient]:
    async with lamina.AsyncClient(data_dir=data_dir) as client:
        yield client


@pytest.fixture(scope="session")
def served_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with lamina_server(tmp_path_factory.mktemp("served") / "data") as url:
        yield url
