"""Parse jobs through the services themselves: no HTTP, no sleeps (the runner's done events)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from lamina.services.container import Services
from lamina.services.errors import InvalidRequestError, NotFoundError
from lamina.services.settings import DEFAULT_PROJECT_ID, ServerSettings
from lamina.services.store.tables import ALL_TABLES
from lamina.types import JobDeleted, ParseCreateRequest

P = DEFAULT_PROJECT_ID


def _create(services: Services, file_id: str, **fields: Any) -> str:
    raw = {"file_id": file_id, "tier": "fast", "version": "latest", **fields}
    request = ParseCreateRequest.model_validate(raw)
    return str(services.parse.create(P, request, raw)["id"])


def _upload(services: Services, data: bytes, name: str = "doc.pdf") -> str:
    row = services.files.create(P, name=name, data=data, purpose="parse")
    return str(row["id"])


def test_every_table_exists_once_the_services_open(settings: ServerSettings) -> None:
    """Tables are created when the services open, batch ones included, without the batch
    system opened: importing a module no longer decides which tables exist."""
    services = Services.open(settings, batch=False)
    try:
        assert services.batch is None
        names = set(sa.inspect(services.db.engine).get_table_names())
        assert {t.name for t in ALL_TABLES} <= names
    finally:
        services.stop()


def test_parse_job_runs_to_completion(
    services: Services, done: Callable[[str], None], pdf3: bytes
) -> None:
    job_id = _create(services, _upload(services, pdf3))
    first = services.parse.get_response(
        P, job_id, expand=[], image_filenames=None, base_url="http://x"
    )
    assert first.job.status == "PENDING" and first.markdown is None

    services.runner.start()
    done(job_id)

    answer = services.parse.get_response(
        P, job_id, expand=["markdown", "text_full"], image_filenames=None, base_url="http://x"
    )
    assert answer.job.status == "COMPLETED" and answer.markdown is not None
    pages = answer.markdown.pages
    assert [p.page_number for p in pages] == [1, 2, 3]
    assert "Section 2" in getattr(pages[1], "markdown", "")
    assert answer.text_full is not None and "This is page 3." in answer.text_full
    assert answer.items is None  # not asked for

    with pytest.raises(InvalidRequestError, match="already COMPLETED"):
        services.parse.cancel(P, job_id)
    assert services.parse.delete(P, job_id) == JobDeleted(id=job_id, project_id=P)
    with pytest.raises(NotFoundError):
        services.parse.get_response(P, job_id, expand=[], image_filenames=None, base_url="")


def test_cancelled_pending_job_never_runs(
    services: Services, done: Callable[[str], None], pdf3: bytes
) -> None:
    file_id = _upload(services, pdf3)
    cancelled = _create(services, file_id)
    assert services.parse.cancel(P, cancelled).status == "CANCELLED"
    assert services.parse.cancel(P, cancelled).status == "CANCELLED"  # idempotent
    later = _create(services, file_id)

    services.runner.start()
    done(later)  # the queue is first in, first out: the cancelled job was passed over

    row = services.parse.get_row(P, cancelled)
    assert row["status"] == "CANCELLED" and row["started_at"] is None
    assert services.parse.get_row(P, later)["status"] == "COMPLETED"
    assert services.storage.read_result_json(cancelled, "markdown.json") is None


def test_failed_document_ends_failed_with_a_message(
    services: Services, done: Callable[[str], None]
) -> None:
    job_id = _create(services, _upload(services, b"%PDF-1.7\nnot really a pdf", "broken.pdf"))
    services.runner.start()
    done(job_id)
    row = services.parse.get_row(P, job_id)
    assert row["status"] == "FAILED"
    assert row["error_message"]


def test_jobs_of_another_project_are_not_found(services: Services, pdf3: bytes) -> None:
    job_id = _create(services, _upload(services, pdf3))
    with pytest.raises(NotFoundError):
        services.parse.get_response("other", job_id, expand=[], image_filenames=None, base_url="")
    with pytest.raises(NotFoundError):
        services.parse.cancel("other", job_id)
