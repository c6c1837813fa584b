"""Bearer keys map to projects; everything is scoped to the caller's project."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import running_app, wait_for_job

K1 = {"Authorization": "Bearer key-one"}
K2 = {"Authorization": "Bearer key-two"}


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[TestClient]:
    keys = {"key-one": "project-1", "key-two": "project-2"}
    with running_app(tmp_path / "data", api_keys=keys) as client:
        yield client


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic key-one"}]
)
def test_missing_or_invalid_key_is_401(secured: TestClient, headers: dict[str, str]) -> None:
    for method, path in [("GET", "/api/v2/parse"), ("GET", "/api/v1/beta/files")]:
        response = secured.request(method, path, headers=headers)
        assert response.status_code == 401
        assert isinstance(response.json()["detail"], str)
        assert response.headers["www-authenticate"] == "Bearer"


def test_projects_are_isolated(secured: TestClient, docs: dict[str, bytes]) -> None:
    file = secured.post(
        "/api/v1/beta/files",
        files={"file": ("a.pdf", docs["simple"])},
        data={"purpose": "parse"},
        headers=K1,
    ).json()
    assert file["project_id"] == "project-1"
    job = secured.post(
        "/api/v2/parse",
        json={"file_id": file["id"], "tier": "fast", "version": "latest"},
        headers=K1,
    ).json()
    assert job["project_id"] == "project-1"

    assert secured.get(f"/api/v1/beta/files/{file['id']}", headers=K2).status_code == 404
    assert secured.get(f"/api/v2/parse/{job['id']}", headers=K2).status_code == 404
    assert secured.get("/api/v2/parse", headers=K2).json()["total_size"] == 0
    assert secured.get("/api/v1/beta/files", headers=K2).json()["total_size"] == 0
    assert secured.delete(f"/api/v2/parse/{job['id']}", headers=K2).status_code == 404
    other = secured.post(
        "/api/v2/parse",
        json={"file_id": file["id"], "tier": "fast", "version": "latest"},
        headers=K2,
    )
    assert other.status_code == 404  # cannot parse another project's file

    secured.headers.update(K1)
    assert wait_for_job(secured, job["id"])["status"] == "COMPLETED"
    body = secured.get(f"/api/v2/parse/{job['id']}", params={"expand": "text_content_metadata"})
    url = body.json()["result_content_metadata"]["text"]["presigned_url"]
    secured.headers.clear()
    assert secured.get(url).status_code == 200  # the signature is the credential
