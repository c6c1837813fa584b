"""The saved configuration and webhook configuration routes answer with their declared models
(issue #14) and write the same JSON as when they returned hand-built dicts: every key, in the
same order, timestamps as ``isoformat()`` (``+00:00``), never the signing secret."""

from __future__ import annotations

from fastapi.testclient import TestClient

from lamina.types import SavedConfiguration, WebhookConfig, strict_validate
from tests.server.conftest import assert_utc_iso, ok

CONFIG_KEYS = ["id", "name", "parameters", "product_type", "version", "created_at", "updated_at"]
WEBHOOK_KEYS = [
    "id",
    "has_secret",
    "tenant_id",
    "tenant_type",
    "webhook_url",
    "webhook_events",
    "webhook_headers",
    "webhook_output_format",
    "created_at",
    "updated_at",
]
PAGE_KEYS = ["items", "next_page_token", "total_size"]


def test_saved_configuration_json_is_unchanged(client: TestClient) -> None:
    params = {"product_type": "parse_v2", "tier": "fast"}
    created = ok(
        client.post("/api/v1/beta/configurations", json={"name": "fast", "parameters": params})
    )
    assert list(created) == CONFIG_KEYS and created["version"] == "1"
    assert created["parameters"] == {**params, "version": "latest"}
    assert_utc_iso(created["created_at"])
    strict_validate(SavedConfiguration, created)
    config_id = created["id"]
    assert ok(client.get(f"/api/v1/beta/configurations/{config_id}")) == created
    renamed = ok(client.put(f"/api/v1/beta/configurations/{config_id}", json={"name": "quick"}))
    assert list(renamed) == CONFIG_KEYS and (renamed["name"], renamed["version"]) == ("quick", "2")
    listed = ok(client.get("/api/v1/beta/configurations"))
    assert list(listed) == PAGE_KEYS and listed["items"] == [renamed]


def test_webhook_config_json_is_unchanged(client: TestClient) -> None:
    body = {"webhook_url": "https://hooks.example.com/in", "webhook_signing_secret": "s3cret"}
    created = ok(client.post("/api/v1/beta/webhook-configs", json=body))
    assert list(created) == WEBHOOK_KEYS and created["has_secret"] is True
    assert created["webhook_events"] is None and "s3cret" not in str(created)
    assert_utc_iso(created["updated_at"])
    strict_validate(WebhookConfig, created)
    hook_id = created["id"]
    changed = ok(
        client.put(
            f"/api/v1/beta/webhook-configs/{hook_id}", json={"webhook_events": ["parse.success"]}
        )
    )
    assert list(changed) == WEBHOOK_KEYS and changed["webhook_events"] == ["parse.success"]
    assert changed["webhook_url"] == body["webhook_url"] and changed["has_secret"] is True
    assert ok(client.get(f"/api/v1/beta/webhook-configs/{hook_id}")) == changed
    assert ok(client.get("/api/v1/beta/webhook-configs")) == [changed]
    paged = ok(client.get("/api/v2/webhook-configs"))
    assert list(paged) == PAGE_KEYS and paged["items"] == [changed]
    bad = client.post("/api/v1/beta/webhook-configs", json={"webhook_url": "ftp://x"})
    assert bad.status_code == 422
    assert [e["loc"] for e in bad.json()["detail"]] == [["body", "webhook_url"]]
