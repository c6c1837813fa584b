"""Fixtures for the client tests: generated PDFs, an isolated data dir, a real ``lamina serve``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.documents import make_multipage_pdf
from tests.fixtures.server import serve

CLIENT_ENV = (
    "LAMINA_BASE_URL",
    "LLAMA_CLOUD_BASE_URL",
    "LAMINA_API_KEY",
    "LLAMA_CLOUD_API_KEY",
    "LAMINA_PROJECT_ID",
    "LLAMA_CLOUD_PROJECT_ID",
    "LAMINA_ORGANIZATION_ID",
    "LLAMA_CLOUD_ORGANIZATION_ID",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's own server settings or keys."""
    for name in CLIENT_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def pdf_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Two pages: "Section N" / "This is page N." (``tests.fixtures.documents``)."""
    return make_multipage_pdf(tmp_path_factory.mktemp("pdf"), pages=2).read_bytes()


@pytest.fixture
def pdf_file(tmp_path: Path) -> Path:
    """The same two pages, as ``multipage_2.pdf`` on disk."""
    return make_multipage_pdf(tmp_path, pages=2)


@pytest.fixture
def lamina_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data dir for the embedded server."""
    home = tmp_path / "lamina-home"
    monkeypatch.setenv("LAMINA_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a real ``lamina serve`` subprocess on a loopback port."""
    server = serve(tmp_path_factory.mktemp("served") / "data")
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m lamina ...`` in a subprocess with an isolated ``LAMINA_HOME``."""
    env = {k: v for k, v in os.environ.items() if k not in CLIENT_ENV}
    env["LAMINA_HOME"] = str(tmp_path / "cli-home")

    def run(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lamina", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            cwd=tmp_path,
        )

    return run
