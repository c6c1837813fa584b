"""Files API in-process: upload, get, list with filters and pages, delete, presigned content."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from lamina.types import File, PresignedURL, strict_validate
from tests.server.conftest import upload


def test_upload_returns_file(client: TestClient, docs: dict[str, bytes]) -> None:
    body = upload(client, docs["simple"], name="report.PDF", external_file_id="ext-1")
    file = strict_validate(File, body)
    assert file.id.startswith("dfl-")
    assert (file.name, file.file_type, file.purpose) == ("report.PDF", "pdf", "parse")
    assert file.external_file_id == "ext-1"
    assert file.project_id == "default"
    assert file.size_bytes == len(docs["simple"])
    assert file.download_url is not None


def test_get_and_delete(client: TestClient, docs: dict[str, bytes]) -> None:
    file_id = upload(client, docs["simple"])["id"]
    got = client.get(f"/api/v1/beta/files/{file_id}")
    assert got.status_code == 200
    assert strict_validate(File, got.json()).id == file_id

    deleted = client.delete(f"/api/v1/beta/files/{file_id}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    missing = client.get(f"/api/v1/beta/files/{file_id}")
    assert missing.status_code == 404
    assert missing.json() == {"detail": f"File not found: {file_id}"}
    assert client.delete(f"/api/v1/beta/files/{file_id}").status_code == 404


def test_list_pages_and_filters(client: TestClient, docs: dict[str, bytes]) -> None:
    ids = [upload(client, docs["text"], name=f"n{i}.txt")["id"] for i in range(5)]
    upload(client, docs["text"], name="special.txt", external_file_id="ext-x")

    seen: list[str] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {"page_size": 2}
        if token:
            params["page_token"] = token
        page = client.get("/api/v1/beta/files", params=params).json()
        assert page["total_size"] == 6
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        token = page["next_page_token"]
        if not token:
            break
    assert len(seen) == 6 and len(set(seen)) == 6
    assert set(ids) <= set(seen)

    by_name = client.get("/api/v1/beta/files", params={"file_name": "special.txt"}).json()
    assert [f["name"] for f in by_name["items"]] == ["special.txt"]
    by_ext = client.get("/api/v1/beta/files", params={"external_file_id": "ext-x"}).json()
    assert by_ext["total_size"] == 1
    by_ids = client.get("/api/v1/beta/files", params=[("file_ids", ids[0]), ("file_ids", ids[1])])
    assert {f["id"] for f in by_ids.json()["items"]} == set(ids[:2])
    by_name_order = client.get("/api/v1/beta/files", params={"order_by": "name"}).json()
    names = [f["name"] for f in by_name_order["items"]]
    assert names == sorted(names)


def test_list_rejects_bad_token_and_order(client: TestClient) -> None:
    bad = client.get("/api/v1/beta/files", params={"page_token": "@@@"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "page_token"]
    assert client.get("/api/v1/beta/files", params={"order_by": "size"}).status_code == 422


def test_unknown_purpose_is_422(client: TestClient, docs: dict[str, bytes]) -> None:
    response = client.post(
        "/api/v1/beta/files", files={"file": ("a.txt", docs["text"])}, data={"purpose": "nope"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "purpose"]


def test_content_presigned_url_downloads(client: TestClient, docs: dict[str, bytes]) -> None:
    file_id = upload(client, docs["simple"])["id"]
    presigned = strict_validate(
        PresignedURL, client.get(f"/api/v1/beta/files/{file_id}/content").json()
    )
    download = client.get(presigned.url)
    assert download.status_code == 200
    assert download.content == docs["simple"]


def test_tampered_presigned_file_url_is_403(client: TestClient, docs: dict[str, bytes]) -> None:
    file_id = upload(client, docs["simple"])["id"]
    other_id = upload(client, docs["text"])["id"]
    url = client.get(f"/api/v1/beta/files/{file_id}/content").json()["url"]
    assert client.get(url.replace(file_id, other_id)).status_code == 403
    assert client.get(url.replace("project=default", "project=other")).status_code == 403
    assert client.get(url.split("?")[0]).status_code == 403


def test_upload_over_limit_is_413(tmp_path: Any, docs: dict[str, bytes]) -> None:
    from tests.server.conftest import running_app

    with running_app(tmp_path / "data", max_upload_bytes=100) as small:
        response = small.post(
            "/api/v1/beta/files",
            files={"file": ("a.pdf", docs["simple"])},
            data={"purpose": "parse"},
        )
        assert response.status_code == 413
        assert "limit" in response.json()["detail"]
