"""Hostile extraction schemas (issue #10, item 4): ``$ref`` bombs, fan-out, self-reference
and deep nesting are checked in bounded time and refused with a 422-style error when they
expand beyond the limits, never hang a thread or overflow the stack."""

from __future__ import annotations

from typing import Any

import pytest

from lamina.extract import SchemaError, check_schema, compile_schema


def _ref_chain(levels: int, fan_out: int) -> dict[str, Any]:
    """``$defs`` d0..d{levels}: each object has ``fan_out`` properties pointing at the next."""
    defs: dict[str, Any] = {}
    for i in range(levels):
        defs[f"d{i}"] = {
            "type": "object",
            "properties": {f"p{j}": {"$ref": f"#/$defs/d{i + 1}"} for j in range(fan_out)},
        }
    defs[f"d{levels}"] = {"type": "string"}
    return {
        "type": "object",
        "properties": {"root": {"$ref": "#/$defs/d0"}},
        "$defs": defs,
    }


def _count(node: Any) -> int:
    total = 1
    for child in node.properties.values():
        total += _count(child)
    if node.items is not None:
        total += _count(node.items)
    return total


@pytest.mark.timeout(30)
def test_the_review_ref_bomb_is_checked_in_linear_time() -> None:
    # 40 definitions, each pointing twice at the next: 2**40 paths, 41 distinct nodes.
    bomb = _ref_chain(40, 2)
    assert len(str(bomb)) < 5000
    assert check_schema(bomb) is bomb
    tree = compile_schema(bomb)  # recursive depth is cut, so the tree stays small
    assert _count(tree) < 1000


@pytest.mark.timeout(30)
def test_fan_out_that_expands_too_far_is_refused() -> None:
    bomb = _ref_chain(12, 30)  # 30**8 fields once unrolled
    with pytest.raises(SchemaError) as caught:
        check_schema(bomb, ["body", "configuration", "data_schema"])
    detail = caught.value.detail[0]
    assert detail["loc"][:3] == ["body", "configuration", "data_schema"]
    assert "too complex" in detail["msg"]


@pytest.mark.timeout(30)
def test_self_referencing_all_of_terminates() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/loop"}},
        "$defs": {"loop": {"allOf": [{"$ref": "#/$defs/loop"}], "description": "again"}},
    }
    try:
        check_schema(schema)
        compile_schema(schema)
    except SchemaError:
        pass  # refusing it is fine; hanging or a RecursionError is not


@pytest.mark.timeout(30)
def test_all_of_fan_out_is_bounded() -> None:
    defs: dict[str, Any] = {}
    for i in range(40):
        defs[f"d{i}"] = {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]}
    defs["d40"] = {"type": "string"}
    schema = {"type": "object", "properties": {"x": {"$ref": "#/$defs/d0"}}, "$defs": defs}
    try:
        check_schema(schema)
        compile_schema(schema)
    except SchemaError as exc:
        assert "too complex" in str(exc)


@pytest.mark.timeout(30)
def test_deep_nesting_is_refused_not_a_stack_overflow() -> None:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(5000):
        node = {"type": "object", "properties": {"a": node}}
    with pytest.raises(SchemaError) as caught:
        check_schema(node)
    assert "deep" in caught.value.detail[0]["msg"]


@pytest.mark.timeout(30)
def test_long_ref_chain_is_not_a_stack_overflow() -> None:
    schema = _ref_chain(3000, 1)
    try:
        check_schema(schema)
        compile_schema(schema)
    except SchemaError:
        pass


def test_ordinary_schemas_still_pass() -> None:
    schema = {
        "type": "object",
        "properties": {
            "invoice_number": {"type": "string"},
            "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}},
            "vendor": {"anyOf": [{"$ref": "#/$defs/party"}, {"type": "null"}]},
        },
        "$defs": {
            "line": {"type": "object", "properties": {"amount": {"type": "number"}}},
            "party": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
        "required": ["invoice_number"],
    }
    assert check_schema(schema) is schema
    tree = compile_schema(schema)
    assert set(tree.properties) == {"invoice_number", "lines", "vendor"}


@pytest.mark.timeout(60)
def test_schema_bombs_at_the_api(tmp_path: Any) -> None:
    from tests.server.conftest import running_app

    with running_app(tmp_path / "data") as client:
        ok = client.post(
            "/api/v2/extract/schema/validation", json={"data_schema": _ref_chain(40, 2)}
        )
        assert ok.status_code == 200, ok.text
        refused = client.post(
            "/api/v2/extract/schema/validation", json={"data_schema": _ref_chain(12, 30)}
        )
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"][:2] == ["body", "data_schema"]
        file_id = client.post("/api/v1/beta/files", files={"file": ("a.txt", b"Total: 5")})
        job = client.post(
            "/api/v2/extract",
            json={
                "file_input": file_id.json()["id"],
                "configuration": {"data_schema": _ref_chain(12, 30)},
            },
        )
        assert job.status_code == 422
        assert job.json()["detail"][0]["loc"][:3] == ["body", "configuration", "data_schema"]
        assert client.get("/health").status_code == 200
