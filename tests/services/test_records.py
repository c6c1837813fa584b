"""Saved objects through their services, the SQL in ``store/records.py``: CRUD, lookup by name,
listing and project isolation, without HTTP."""

from __future__ import annotations

import pytest

from lamina.services.api.classic_extract import ClassicExtractService
from lamina.services.container import Services
from lamina.services.errors import NotFoundError, ValidationFailed
from lamina.types import WebhookConfigRequest

SCHEMA = {"type": "object", "properties": {"total": {"type": "number"}}}


def test_extraction_agents_lifecycle(services: Services) -> None:
    agents = ClassicExtractService(services.db, services.extract, services.files)
    first, ignored = agents.create_agent("p1", "invoices", SCHEMA, {"extraction_mode": "FAST"})
    assert ignored == []
    second, _ = agents.create_agent("p1", "receipts", SCHEMA, {})
    with pytest.raises(ValidationFailed, match="already exists"):
        agents.create_agent("p1", "invoices", SCHEMA, {})
    other, _ = agents.create_agent("p2", "invoices", SCHEMA, {})  # names are per project

    assert agents.agent_row("p1", name="receipts")["id"] == second["id"]
    assert [a["id"] for a in agents.list_agents("p1")] == [first["id"], second["id"]]
    with pytest.raises(NotFoundError):
        agents.agent_row("p1", other["id"])  # another project's agent is not found

    schema = {**SCHEMA, "required": ["total"]}
    updated, _ = agents.update_agent("p1", first["id"], schema, None)
    assert updated["data_schema"] == schema
    assert agents.agent_row("p1", first["id"])["data_schema"] == schema
    assert agents.agent_row("p1", first["id"])["config"] == {"extraction_mode": "FAST"}

    agents.delete_agent("p1", first["id"])
    with pytest.raises(NotFoundError):
        agents.agent_row("p1", first["id"])
    assert agents.agent_row("p2", other["id"])["name"] == "invoices"


def test_saved_configurations_lifecycle(services: Services) -> None:
    saved = services.configurations
    parse = saved.create("p1", "fast", {"product_type": "parse_v2", "tier": "fast"})
    extract = saved.create("p1", "x", {"product_type": "extract_v2", "data_schema": SCHEMA})
    assert saved.create("p2", "fast", {"product_type": "parse_v2", "tier": "fast"})

    listed = saved.list(
        "p1", name=None, product_types=["parse_v2"], page_size=None, page_token=None
    )
    assert [c.id for c in listed.items] == [parse.id]
    both = saved.list("p1", name=None, product_types=None, page_size=1, page_token=None)
    assert len(both.items) == 1 and both.next_page_token
    rest = saved.list(
        "p1", name=None, product_types=None, page_size=1, page_token=both.next_page_token
    )
    assert {both.items[0].id, rest.items[0].id} == {parse.id, extract.id}

    renamed = saved.update("p1", parse.id, "faster", None)
    assert (renamed.name, renamed.version) == ("faster", "2")
    assert saved.get("p1", parse.id).name == "faster"
    with pytest.raises(NotFoundError):
        saved.get("p2", parse.id)
    with pytest.raises(NotFoundError):
        saved.delete("p2", parse.id)
    saved.delete("p1", parse.id)
    with pytest.raises(NotFoundError):
        saved.get("p1", parse.id)


def test_webhook_configurations_lifecycle(services: Services) -> None:
    saved = services.configurations
    hook = saved.create_webhook(
        "p1", WebhookConfigRequest(webhook_url="https://hooks.example.com/in")
    )
    assert saved.get_webhook("p1", hook.id).webhook_url == "https://hooks.example.com/in"
    events = WebhookConfigRequest(webhook_events=["parse.success"])
    changed = saved.update_webhook("p1", hook.id, events)
    assert changed.webhook_events == ["parse.success"]
    assert changed.webhook_url == "https://hooks.example.com/in"  # a partial update
    assert [w.id for w in saved.list_webhooks("p1").items] == [hook.id]
    assert saved.list_webhooks("p2").items == []
    saved.delete_webhook("p1", hook.id)
    with pytest.raises(NotFoundError):
        saved.get_webhook("p1", hook.id)
