"""The auth matrix the adversarial review of issue #10 found holding, kept by tests: every
operation in the OpenAPI document answers 401 without a valid key (before reading a body), and
another project's directories, directory files, batches and batch items are 404."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lamina.server.gate import PUBLIC_PATHS
from tests.server.conftest import running_app, upload, wait_until

KEYS = {"key-one": "project-1", "key-two": "project-2"}
ONE = {"Authorization": "Bearer key-one"}
TWO = {"Authorization": "Bearer key-two"}


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[TestClient]:
    with running_app(tmp_path / "data", api_keys=KEYS) as client:
        yield client


def test_every_operation_needs_a_valid_key(secured: TestClient) -> None:
    paths = secured.app.openapi()["paths"]  # type: ignore[attr-defined]
    checked = 0
    for path, operations in paths.items():
        if PUBLIC_PATHS.match(path):
            continue
        concrete = re.sub(r"\{[^}]+\}", "x-1", path)
        for method in operations:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
                response = secured.request(method.upper(), concrete, headers=headers, json={})
                assert response.status_code == 401, (method, path, headers, response.text)
                checked += 1
    assert checked >= 100  # every route, three ways


def test_directories_and_batches_of_another_project_are_404(secured: TestClient) -> None:
    secured.headers.update(ONE)
    directory = secured.post("/api/v1/beta/directories", json={"name": "mine"}).json()["id"]
    file_id = upload(secured, b"hello", name="a.txt")["id"]
    entry = secured.post(
        f"/api/v1/beta/directories/{directory}/files", json={"file_id": file_id}
    ).json()["id"]
    batch = secured.post(
        "/api/v1/beta/batch-processing",
        json={"directory_id": directory, "job_config": {"parameters": {"tier": "fast"}}},
    ).json()["id"]
    v2 = secured.post(
        "/api/v2/batches",
        json={
            "source_directory_id": directory,
            "config": {"job": {"type": "parse_v2", "configuration_id": "fast"}},
        },
    ).json()["id"]

    def finished() -> bool:
        status = secured.get(f"/api/v1/beta/batch-processing/{batch}").json()["job"]["status"]
        return bool(status in ("completed", "failed"))

    wait_until(finished, timeout=60)
    secured.headers.update(TWO)
    for method, path, body in [
        ("GET", f"/api/v1/beta/directories/{directory}", None),
        ("PATCH", f"/api/v1/beta/directories/{directory}", {"name": "theirs"}),
        ("DELETE", f"/api/v1/beta/directories/{directory}", None),
        ("GET", f"/api/v1/beta/directories/{directory}/files", None),
        ("POST", f"/api/v1/beta/directories/{directory}/files", {"file_id": file_id}),
        ("GET", f"/api/v1/beta/directories/{directory}/files/{entry}", None),
        ("DELETE", f"/api/v1/beta/directories/{directory}/files/{entry}", None),
        ("GET", f"/api/v1/beta/batch-processing/{batch}", None),
        ("GET", f"/api/v1/beta/batch-processing/{batch}/items", None),
        ("POST", f"/api/v1/beta/batch-processing/{batch}/cancel", {}),
        ("GET", f"/api/v1/beta/batch-processing/items/{entry}/processing-results", None),
        ("GET", f"/api/v2/batches/{v2}", None),
        ("POST", f"/api/v2/batches/{v2}/cancel", None),
        (
            "POST",
            "/api/v1/beta/batch-processing",
            {"directory_id": directory, "job_config": {"parameters": {"tier": "fast"}}},
        ),
        ("POST", "/api/v1/beta/batch-processing", {"item_ids": [entry], "job_config": {}}),
        (
            "POST",
            "/api/v2/batches",
            {
                "source_directory_id": directory,
                "config": {"job": {"type": "parse_v2", "configuration_id": "fast"}},
            },
        ),
    ]:
        response = secured.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
    for path in ("/api/v1/beta/directories", "/api/v1/beta/batch-processing", "/api/v2/batches"):
        listed = secured.get(path).json()
        assert listed["items"] == [], path
    secured.headers.update(ONE)  # still there for its owner
    assert secured.get(f"/api/v1/beta/directories/{directory}").status_code == 200
    assert secured.get(f"/api/v2/batches/{v2}").status_code == 200
