"""Presigned URLs never take their host from an untrusted ``Host`` header (issue #10, item 12):
a configured public base URL wins; otherwise the request's host must be a trusted one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.server.conftest import create_job, running_app, upload, wait_for_job


def _content_url(client: TestClient, file_id: str, host: str) -> httpx.Response:
    return client.get(f"/api/v1/beta/files/{file_id}/content", headers={"Host": host})


def test_untrusted_host_header_gets_no_presigned_url(tmp_path: Path) -> None:
    with running_app(tmp_path / "data") as client:
        file_id = upload(client, b"hello", name="a.txt")["id"]
        evil = _content_url(client, file_id, "evil.example:666")
        assert evil.status_code == 400, evil.text
        assert "not a trusted host" in evil.text and "http://evil" not in evil.text
        listed = client.get(
            "/api/v1/beta/files", params={"expand": "download_url"}, headers={"Host": "evil.x"}
        )
        assert listed.status_code == 400
        # Routes that build no URL are not affected.
        assert client.get("/api/v1/beta/files", headers={"Host": "evil.x"}).status_code == 200
        for host in ("127.0.0.1:8000", "localhost", "[::1]:9000"):
            ok = _content_url(client, file_id, host)
            assert ok.status_code == 200, (host, ok.text)
            assert ok.json()["url"].startswith(f"http://{host}/api/v1/beta/files/{file_id}/")


def test_public_base_url_wins_over_the_host_header(tmp_path: Path) -> None:
    with running_app(tmp_path / "data", public_base_url="https://files.example.com/") as client:
        file_id = upload(client, b"hello", name="a.txt")["id"]
        url = _content_url(client, file_id, "evil.example:666").json()["url"]
        assert url.startswith(f"https://files.example.com/api/v1/beta/files/{file_id}/download?")


def test_trusted_hosts_setting(tmp_path: Path, docs: dict[str, bytes]) -> None:
    with running_app(tmp_path / "data", trusted_hosts=("docs.example", "*.corp.test")) as client:
        client.headers["Host"] = "docs.example:8443"
        uploaded = client.post("/api/v1/beta/files", files={"file": ("a.pdf", docs["simple"])})
        assert uploaded.status_code == 200, uploaded.text
        assert uploaded.json()["download_url"]["url"].startswith("http://docs.example:8443/")
        job = create_job(client, uploaded.json()["id"])
        wait_for_job(client, job["id"])
        client.headers["Host"] = "a.corp.test"
        body: dict[str, Any] = client.get(
            f"/api/v2/parse/{job['id']}", params={"expand": "markdown_content_metadata"}
        ).json()
        url = body["result_content_metadata"]["markdown"]["presigned_url"]
        assert url.startswith("http://a.corp.test/api/v2/parse/")
        client.headers["Host"] = "localhost"  # not listed: the setting replaces the defaults
        refused = client.get(
            f"/api/v2/parse/{job['id']}", params={"expand": "markdown_content_metadata"}
        )
        assert refused.status_code == 400
        assert client.get(f"/api/v2/parse/{job['id']}").status_code == 200
