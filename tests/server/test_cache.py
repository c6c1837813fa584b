"""Result cache: key computation, reuse by later jobs of the same project, the cache flags."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from lamina.services.store import cache as cache_module
from lamina.services.store.cache import cache_policy, result_cache_key
from lamina.services.store.db import Database
from lamina.services.store.tables import jobs_table
from tests.server.conftest import running_app, upload, wait_for_job

SHA = "a" * 64
BASE: dict[str, Any] = {"tier": "fast", "version": "latest"}
K1 = {"Authorization": "Bearer key-one"}
K2 = {"Authorization": "Bearer key-two"}


# --- the key -----------------------------------------------------------------------------------


def test_key_ignores_what_cannot_change_the_output() -> None:
    key = result_cache_key(SHA, BASE)
    assert len(key) == 64
    same = {
        "version": "2025-01-01",
        "tier": "fast",
        "disable_cache": False,
        "invalidate_cache": True,
        "do_not_cache": True,
        "name": "other.pdf",
        "client_name": "x",
        "user_metadata": {"a": "b"},
        "webhook_configurations": [{"webhook_url": "http://h"}],
        "processing_control": {"timeouts": {"base_in_seconds": 60}},
        "page_ranges": None,
    }
    assert result_cache_key(SHA, same) == key


@pytest.mark.parametrize(
    "change",
    [
        {"tier": "cost_effective"},
        {"page_ranges": {"target_pages": "1"}},
        {"output_options": {"markdown": {"annotate_links": True}}},
        {"page_separator": "\n---\n"},
        {"processing_control": {"job_failure_conditions": {"allowed_page_failure_ratio": 0.5}}},
    ],
)
def test_key_changes_with_output_options(change: dict[str, Any]) -> None:
    assert result_cache_key(SHA, {**BASE, **change}) != result_cache_key(SHA, BASE)


def test_key_depends_on_content_extension_and_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    key = result_cache_key(SHA, BASE, extension="pdf")
    assert result_cache_key("b" * 64, BASE, extension="pdf") != key
    assert result_cache_key(SHA, BASE, extension="md") != key
    assert result_cache_key(SHA, {"version": "latest", "tier": "fast"}, extension="pdf") == key
    monkeypatch.setattr(cache_module, "ENGINE_VERSION", "other-engine")
    assert result_cache_key(SHA, BASE, extension="pdf") != key


def test_policy_flags() -> None:
    assert (cache_policy(BASE).read, cache_policy(BASE).write) == (True, True)
    disabled = cache_policy({**BASE, "disable_cache": True})
    assert (disabled.read, disabled.write, disabled.enabled) == (False, False, False)
    assert cache_policy({**BASE, "invalidate_cache": True}).read is False
    assert cache_policy({**BASE, "invalidate_cache": True}).write is True
    assert cache_policy({**BASE, "do_not_cache": True}).write is False
    assert cache_policy({**BASE, "do_not_cache": True}).read is True


def test_schema_migration_adds_the_cache_column(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    old = sa.MetaData()  # the jobs table as it was before the cache (and kind, file_input)
    added = {"cache_key", "kind", "file_input"}
    sa.Table(
        jobs_table.name,
        old,
        *(
            sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
            for c in jobs_table.columns
            if c.name not in added
        ),
    )
    old.create_all(engine)
    engine.dispose()
    db = Database(url)
    db.create_schema()
    inspector = sa.inspect(db.engine)
    assert "cache_key" in {c["name"] for c in inspector.get_columns(jobs_table.name)}
    assert "ix_parse_jobs_cache" in {i["name"] for i in inspector.get_indexes(jobs_table.name)}
    db.create_schema()  # idempotent
    db.dispose()


# --- jobs --------------------------------------------------------------------------------------


@pytest.fixture
def engine_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the documents the engine parsed (inline workers run in this process)."""
    import lamina.engine

    runs: list[str] = []
    real = lamina.engine.parse_document

    def counting(data: bytes, **kwargs: Any) -> Any:
        runs.append(str(kwargs.get("filename")))
        return real(data, **kwargs)

    monkeypatch.setattr(lamina.engine, "parse_document", counting)
    return runs


@pytest.fixture
def app(tmp_path: Path) -> Iterator[TestClient]:
    keys = {"key-one": "project-1", "key-two": "project-2"}
    with running_app(tmp_path / "data", api_keys=keys) as client:
        yield client


def _parse(client: TestClient, file_id: str, headers: dict[str, str], **options: Any) -> str:
    body = {"file_id": file_id, **BASE, **options}
    response = client.post("/api/v2/parse", json=body, headers=headers)
    assert response.status_code == 200, response.text
    job_id: str = response.json()["id"]
    client.headers.update(headers)
    assert wait_for_job(client, job_id)["status"] == "COMPLETED"
    return job_id


def _meta(client: TestClient, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    body = client.get(
        f"/api/v2/parse/{job_id}",
        params={"expand": "job_metadata,markdown_full"},
        headers=headers,
    ).json()
    meta: dict[str, Any] = body["job_metadata"]
    meta["_markdown_full"] = body["markdown_full"]
    return meta


def _upload(client: TestClient, data: bytes, headers: dict[str, str], name: str) -> str:
    client.headers.update(headers)
    file_id: str = upload(client, data, name=name)["id"]
    return file_id


def _cache_key(client: TestClient, job_id: str) -> str | None:
    db = client.app.state.services.db  # type: ignore[attr-defined]
    row = db.get_job(job_id)
    assert row is not None
    key: str | None = row["cache_key"]
    return key


def test_same_file_and_options_is_a_cache_hit(
    app: TestClient, docs: dict[str, bytes], engine_runs: list[str]
) -> None:
    first_file = _upload(app, docs["multipage"], K1, "a.pdf")
    first = _parse(app, first_file, K1)
    assert len(engine_runs) == 1
    assert _meta(app, first, K1)["cache_hit"] is False
    assert _cache_key(app, first) is not None

    # Same bytes uploaded again (another file id), output-neutral options differ: a hit.
    again_file = _upload(app, docs["multipage"], K1, "b.pdf")
    second = _parse(
        app, again_file, K1, user_metadata={"run": "2"}, client_name="test", version="2025-01-01"
    )
    assert len(engine_runs) == 1  # the engine did not run
    meta, original = _meta(app, second, K1), _meta(app, first, K1)
    assert meta["cache_hit"] is True and meta["cached_from"] == first
    assert meta["_markdown_full"] == original["_markdown_full"]
    assert meta["stats"] == original["stats"]
    services = app.app.state.services  # type: ignore[attr-defined]
    linked = services.storage.result_dir(second) / "markdown.json"
    source = services.storage.result_dir(first) / "markdown.json"
    assert os.stat(linked).st_ino == os.stat(source).st_ino  # the same file, hard-linked

    # The cached copy outlives the job it came from.
    assert app.delete(f"/api/v2/parse/{first}", headers=K1).status_code == 200
    third = _parse(app, first_file, K1)
    assert len(engine_runs) == 1
    assert _meta(app, third, K1)["cached_from"] == second


@pytest.mark.parametrize(
    "options",
    [
        {"tier": "cost_effective"},
        {"page_ranges": {"target_pages": "1"}},
        {"page_separator": "\n---\n"},
    ],
)
def test_other_options_or_tier_miss(
    app: TestClient, docs: dict[str, bytes], engine_runs: list[str], options: dict[str, Any]
) -> None:
    file_id = _upload(app, docs["multipage"], K1, "a.pdf")
    _parse(app, file_id, K1)
    other = _parse(app, file_id, K1, **options)
    assert len(engine_runs) == 2
    assert _meta(app, other, K1)["cache_hit"] is False


def test_disable_cache_neither_reads_nor_writes(
    app: TestClient, docs: dict[str, bytes], engine_runs: list[str]
) -> None:
    file_id = _upload(app, docs["simple"], K1, "a.pdf")
    first = _parse(app, file_id, K1, disable_cache=True)
    assert _cache_key(app, first) is None  # not stored
    second = _parse(app, file_id, K1)  # nothing to find: parsed
    third = _parse(app, file_id, K1, disable_cache=True)  # something to find, not read
    assert len(engine_runs) == 3
    assert _meta(app, second, K1)["cache_hit"] is False
    assert _meta(app, third, K1)["cache_hit"] is False
    assert _cache_key(app, third) is None


def test_v1_flags_invalidate_and_do_not_cache(
    app: TestClient, docs: dict[str, bytes], engine_runs: list[str]
) -> None:
    file_id = _upload(app, docs["simple"], K1, "a.pdf")
    first = _parse(app, file_id, K1, do_not_cache=True)
    assert _cache_key(app, first) is None
    second = _parse(app, file_id, K1)
    assert len(engine_runs) == 2
    refreshed = _parse(app, file_id, K1, invalidate_cache=True)  # re-parse, stored
    assert len(engine_runs) == 3
    assert _meta(app, refreshed, K1)["cache_hit"] is False
    fourth = _parse(app, file_id, K1, do_not_cache=True)  # reads still allowed
    assert len(engine_runs) == 3
    assert _meta(app, fourth, K1)["cached_from"] == refreshed  # the newest entry wins
    assert second != refreshed


def test_other_project_misses(
    app: TestClient, docs: dict[str, bytes], engine_runs: list[str]
) -> None:
    _parse(app, _upload(app, docs["simple"], K1, "a.pdf"), K1)
    other = _parse(app, _upload(app, docs["simple"], K2, "a.pdf"), K2)
    assert len(engine_runs) == 2
    assert _meta(app, other, K2)["cache_hit"] is False


def test_bad_cache_flag_is_422(app: TestClient, docs: dict[str, bytes]) -> None:
    file_id = _upload(app, docs["simple"], K1, "a.pdf")
    body = {"file_id": file_id, **BASE, "invalidate_cache": "yes"}
    response = app.post("/api/v2/parse", json=body, headers=K1)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "invalidate_cache"]


def test_a_lowered_page_limit_is_not_bypassed_by_the_cache(
    tmp_path: Path, docs: dict[str, bytes]
) -> None:
    """A result cached under a higher ``LAMINA_MAX_PAGES_PER_JOB`` is not served once the
    limit is lower than its page count: the job fails as an uncached one would."""
    data = tmp_path / "data"
    with running_app(data) as client:
        file_id = upload(client, docs["multipage"], name="three.pdf")["id"]
        first = _parse(client, file_id, {})
        assert _meta(client, first, {})["pages_done"] == 3
    with running_app(data, max_pages_per_job=2) as client:
        response = client.post("/api/v2/parse", json={"file_id": file_id, **BASE})
        job = wait_for_job(client, response.json()["id"])
        assert job["status"] == "FAILED" and "Too many pages" in job["error_message"]
    with running_app(data, max_pages_per_job=3) as client:
        response = client.post("/api/v2/parse", json={"file_id": file_id, **BASE})
        job_id = response.json()["id"]
        assert wait_for_job(client, job_id)["status"] == "COMPLETED"
        assert _meta(client, job_id, {})["cache_hit"] is True
