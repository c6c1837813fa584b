"""Fixtures for service tests: the services of a temporary data dir, built directly (no HTTP)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lamina.server.links import DOWNLOADS
from lamina.services.container import Services
from lamina.services.settings import ServerSettings
from tests.fixtures.documents import make_multipage_pdf


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's own LAMINA_* settings."""
    for name in list(os.environ):
        if name.startswith("LAMINA_"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def settings(tmp_path: Path) -> ServerSettings:
    """One in-process worker thread (``workers=0``), no auth keys."""
    return ServerSettings(data_dir=tmp_path / "data", workers=0)


@pytest.fixture
def services(settings: ServerSettings) -> Iterator[Services]:
    """Opened services whose runner is not started: a test starts it when it wants jobs run."""
    opened = Services.open(settings, downloads=DOWNLOADS, batch=False)
    try:
        yield opened
    finally:
        opened.stop()


@pytest.fixture(scope="session")
def pdf3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A generated three-page PDF: page N reads "Section N" and "This is page N."."""
    return make_multipage_pdf(tmp_path_factory.mktemp("pdf"), pages=3).read_bytes()


class DoneWaiter:
    """Waits for the runner's ``done`` event of given jobs (no polling, no sleeps)."""

    def __init__(self, services: Services) -> None:
        self._done: set[str] = set()
        self._cond = threading.Condition()
        services.runner.add_listener(self._on_event)

    def _on_event(self, event: dict[str, Any]) -> None:
        if event.get("event") == "done":
            with self._cond:
                self._done.add(str(event["job_id"]))
                self._cond.notify_all()

    def wait(self, job_id: str, timeout: float = 120.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: job_id in self._done, timeout):
                raise AssertionError(f"job {job_id} did not finish within {timeout} s")


@pytest.fixture
def done(services: Services) -> Callable[[str], None]:
    """``done(job_id)`` returns once the runner has finished that job."""
    return DoneWaiter(services).wait
