"""API keys stored hashed, the ``lamina keys`` command, project isolation, presigned URLs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from lamina.cli import main as cli_main
from lamina.services.api.keys import KeyStore, hash_key
from lamina.services.store.db import Database
from lamina.services.store.tables import api_keys_table
from tests.server.conftest import running_app, wait_for_job

SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}}}


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli_main(list(args))
    return code, capsys.readouterr().out


def test_keys_are_stored_hashed_and_revocable(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'k.db'}")
    db.create_schema()
    store = KeyStore(db, cache_seconds=0)
    assert not store.any_keys()
    row, key = store.create("proj-a", "ci")
    assert key.startswith("lam-") and len(key) > 40
    with db.begin() as conn:
        stored = [dict(r._mapping) for r in conn.execute(sa.select(api_keys_table))]
    assert stored[0]["key_hash"] == hash_key(key)
    assert not any(key in str(v) for v in stored[0].values())  # the plaintext is not stored
    assert store.any_keys() and store.project_for(key) == "proj-a"
    assert store.project_for(key + "x") is None
    assert [r["id"] for r in store.list()] == [row["id"]]
    assert store.revoke(row["id"]) and not store.revoke(row["id"])
    assert store.project_for(key) is None
    assert store.any_keys()  # revoking the last key does not open the server
    assert [r["id"] for r in store.list(include_revoked=True)] == [row["id"]]
    db.dispose()


def test_startup_keys_are_hashed(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'k.db'}")
    db.create_schema()
    store = KeyStore(db, {"plain-secret": "p1"})
    assert "plain-secret" not in repr(store.__dict__)
    assert store.project_for("plain-secret") == "p1" and store.project_for("plain") is None
    db.dispose()


def test_cli_keys_turn_auth_on_and_revoke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    with running_app(data) as open_client:  # no key anywhere: the server is open
        assert open_client.get("/api/v2/parse").status_code == 200
    code, out = _cli(
        capsys, "keys", "create", "--data-dir", str(data), "--project", "p1", "--name", "ci"
    )
    assert code == 0
    key = out.splitlines()[0]
    key_id = out.split("id ")[1].split()[0]
    code, out = _cli(capsys, "keys", "list", "--data-dir", str(data))
    assert code == 0 and key_id in out and "p1" in out and key not in out

    with running_app(data) as client:
        assert client.get("/api/v2/parse").status_code == 401
        ok = client.get("/api/v1/beta/files", headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200
        assert _cli(capsys, "keys", "revoke", "--data-dir", str(data), key_id)[0] == 0
        time.sleep(1.1)  # the key cache lives one second
        denied = client.get("/api/v1/beta/files", headers={"Authorization": f"Bearer {key}"})
        assert denied.status_code == 401
    assert _cli(capsys, "keys", "revoke", "--data-dir", str(data), key_id)[0] == 1
    code, out = _cli(capsys, "keys", "list", "--data-dir", str(data), "--all")
    assert key_id in out


def test_keys_say_when_auth_is_on_and_reset_opens_the_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lock-out of issue #16: after revoking the last key, list said "no keys" while the
    server answered 401. Now every command says whether auth is on, and reset opens it."""
    data = tmp_path / "data"
    code, out = _cli(capsys, "keys", "list", "--data-dir", str(data))
    assert code == 0 and out.startswith("auth: off") and "no keys" in out
    assert cli_main(["keys", "create", "--data-dir", str(data)]) == 0
    created = capsys.readouterr()
    assert "auth: on" in created.err and "keys reset --yes" in created.err
    assert "embedded engine" in created.err
    key_id = created.out.split("id ")[1].split()[0]
    assert cli_main(["keys", "revoke", "--data-dir", str(data), key_id]) == 0
    assert "0 active, 1 revoked" in capsys.readouterr().err

    code, out = _cli(capsys, "keys", "list", "--data-dir", str(data))
    lines = out.splitlines()
    assert lines[0].startswith("auth: on") and "revoked keys keep it on" in lines[0]
    assert any(key_id in line and "revoked" in line for line in lines[1:])
    assert _cli(capsys, "keys", "list", "--data-dir", str(data), "--active")[1].endswith(
        "no active keys\n"
    )
    with running_app(data) as client:
        assert client.get("/api/v2/parse").status_code == 401

    assert cli_main(["keys", "reset", "--data-dir", str(data)]) == 2  # asks for --yes
    assert "--yes" in capsys.readouterr().err
    code, out = _cli(capsys, "keys", "reset", "--yes", "--data-dir", str(data))
    assert code == 0 and "deleted 1 keys" in out and "auth: off" in out
    with running_app(data) as client:
        assert client.get("/api/v2/parse").status_code == 200


def test_embedded_mode_needs_no_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    assert _cli(capsys, "keys", "create", "--data-dir", str(data))[0] == 0
    with running_app(data, auth=False) as client:
        assert client.get("/api/v2/parse").status_code == 200


@pytest.fixture
def two_projects(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    keys = {"key-one": "project-1", "key-two": "project-2"}
    with running_app(tmp_path / "data", api_keys=keys) as client:
        yield client, {"Authorization": "Bearer key-one"}, {"Authorization": "Bearer key-two"}


def test_other_projects_ids_are_404_everywhere(
    two_projects: tuple[TestClient, dict[str, str], dict[str, str]], docs: dict[str, bytes]
) -> None:
    client, k1, k2 = two_projects
    files = {"file": ("a.pdf", docs["simple"])}
    file = client.post("/api/v1/beta/files", files=files, data={"purpose": "parse"}, headers=k1)
    file_id = file.json()["id"]
    job_id = client.post(
        "/api/v2/parse", json={"file_id": file_id, "tier": "fast"}, headers=k1
    ).json()["id"]
    extract = client.post(
        "/api/v2/extract",
        json={"file_input": file_id, "configuration": {"data_schema": SCHEMA}},
        headers=k1,
    )
    assert extract.status_code == 200, extract.text
    exj = extract.json()["id"]

    for method, path in [
        ("GET", f"/api/v1/beta/files/{file_id}"),
        ("GET", f"/api/v1/beta/files/{file_id}/content"),
        ("DELETE", f"/api/v1/beta/files/{file_id}"),
        ("GET", f"/api/v2/parse/{job_id}"),
        ("POST", f"/api/v2/parse/{job_id}/cancel"),
        ("DELETE", f"/api/v2/parse/{job_id}"),
        ("GET", f"/api/v2/extract/{exj}"),
        ("POST", f"/api/v2/extract/{exj}/cancel"),
        ("DELETE", f"/api/v2/extract/{exj}?force=true"),
    ]:
        response = client.request(method, path, headers=k2)
        assert response.status_code == 404, (method, path, response.text)
    for path in ("/api/v2/parse", "/api/v2/extract", "/api/v1/beta/files"):
        body = client.get(path, headers=k2).json()
        assert body["items"] == [], path
    for body in (
        {"file_id": file_id, "tier": "fast"},
        {"file_id": file_id, "tier": "cost_effective"},
    ):
        assert client.post("/api/v2/parse", json=body, headers=k2).status_code == 404
    other_extract = {"file_input": job_id, "configuration": {"data_schema": SCHEMA}}
    assert client.post("/api/v2/extract", json=other_extract, headers=k2).status_code == 404

    # Presigned URLs: the signature covers path, expiry and project.
    client.headers.update(k1)
    assert wait_for_job(client, job_id)["status"] == "COMPLETED"
    content = client.get(f"/api/v1/beta/files/{file_id}/content").json()["url"]
    meta = client.get(f"/api/v2/parse/{job_id}", params={"expand": "text_content_metadata"})
    result_url = meta.json()["result_content_metadata"]["text"]["presigned_url"]
    client.headers.clear()
    for url in (content, result_url):
        assert client.get(url).status_code == 200  # no bearer key needed
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        for change in (
            {"project": "project-2"},
            {"expires": str(int(query["expires"]) + 3600)},
            {"signature": "0" * 64},
            {"signature": ""},
        ):
            tampered = f"{parts.path}?{urlencode({**query, **change})}"
            assert client.get(tampered).status_code == 403, change
        assert client.get(parts.path).status_code == 403  # no signature at all
    other_job = result_url.replace(job_id, "pjb-" + "0" * 24)
    assert client.get(other_job).status_code == 403  # the path is signed too
    expired = f"{urlsplit(content).path}?expires=1&project=project-1&signature=x"
    assert client.get(expired).status_code == 403
