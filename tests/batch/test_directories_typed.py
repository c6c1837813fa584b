"""The directories routes answer with their declared models (issue #14) and write the same
JSON as when they returned hand-built dicts: the keys in the same order, timestamps as
``isoformat()`` (``+00:00``), no ``download_url`` on a directory file."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from lamina.types import Directory, DirectoryFile, strict_validate

DIRECTORY_KEYS = [
    "id",
    "name",
    "project_id",
    "connector_subscription_id",
    "created_at",
    "deleted_at",
    "description",
    "expires_at",
    "system_metadata",
    "type",
    "updated_at",
]
FILE_KEYS = [
    "id",
    "directory_id",
    "display_name",
    "project_id",
    "unique_id",
    "created_at",
    "deleted_at",
    "file_id",
    "metadata",
    "updated_at",
]


def _utc_iso(value: str) -> None:
    assert value.endswith("+00:00"), value
    assert datetime.fromisoformat(value).utcoffset() is not None


def test_directory_json_is_unchanged(client: TestClient) -> None:
    created = client.post(
        "/api/v1/beta/directories", json={"name": "typed", "system_metadata": {"k": 1}}
    )
    assert created.status_code == 200, created.text
    body: dict[str, Any] = created.json()
    assert list(body) == DIRECTORY_KEYS
    assert body["deleted_at"] is None and body["expires_at"] is None and body["type"] == "user"
    _utc_iso(body["created_at"])
    strict_validate(Directory, body)
    directory_id = body["id"]
    assert client.get(f"/api/v1/beta/directories/{directory_id}").json() == body
    listed = client.get("/api/v1/beta/directories").json()
    assert list(listed) == ["items", "next_page_token", "total_size"]
    assert listed["items"] == [body] and listed["total_size"] == 1

    uploaded = client.post(
        f"/api/v1/beta/directories/{directory_id}/files/upload",
        files={"upload_file": ("a.txt", b"hello")},
        data={"metadata": '{"lang": "en"}'},
    )
    assert uploaded.status_code == 200, uploaded.text
    entry: dict[str, Any] = uploaded.json()
    assert list(entry) == FILE_KEYS  # no download_url
    assert entry["metadata"] == {"lang": "en"} and entry["unique_id"] == "a.txt"
    _utc_iso(entry["updated_at"])
    strict_validate(DirectoryFile, entry)
    files = client.get(f"/api/v1/beta/directories/{directory_id}/files").json()
    assert files["items"] == [entry]
    patched = client.patch(
        f"/api/v1/beta/directories/{directory_id}/files/{entry['id']}",
        json={"display_name": "renamed"},
    ).json()
    assert list(patched) == FILE_KEYS and patched["display_name"] == "renamed"


def test_openapi_declares_the_directory_models(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    one = paths["/api/v1/beta/directories/{directory_id}"]["get"]["responses"]["200"]
    assert one["content"]["application/json"]["schema"]["$ref"].endswith("/Directory")
