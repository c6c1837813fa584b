"""JSON Schema for extraction: checking a caller's schema, compiling it to a tree, coercing values.

Only the part of JSON Schema that describes data shapes is supported: ``type`` (one, or a list
with ``null``), ``properties``, ``required``, ``items``, ``enum``, ``const``, ``format``,
``description``/``title``, ``$ref`` into ``$defs``/``definitions`` (so pydantic's
``model_json_schema()`` works), ``anyOf``/``oneOf`` with ``null`` (Optional fields), and
``allOf`` with one member. Anything else is reported by :func:`check_schema`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from lamina.extract._values import (
    match_enum,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_number,
)

TYPES = ("object", "array", "string", "number", "integer", "boolean", "null")
MAX_DEPTH = 8
"""Recursive schemas are unrolled this deep; deeper levels are left out."""
MAX_SCHEMA_DEPTH = 64
"""Deepest nesting of the schema document itself (objects and lists)."""
MAX_SCHEMA_NODES = 20_000
"""Most objects and lists in the schema document."""
MAX_FIELDS = 5_000
"""Most fields the compiled schema may have once ``$ref``s are expanded (a ``$ref`` bomb of a few
kilobytes otherwise expands to billions)."""
MAX_STEPS = 200_000
"""Work budget (nodes resolved) of checking or compiling one schema."""
CHECK_SECONDS = 2.0
"""Time budget of checking or compiling one schema."""


class SchemaError(ValueError):
    """An unusable schema; ``detail`` is the API's 422 list (type, loc, msg, input)."""

    def __init__(self, detail: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(str(d["msg"]) for d in detail))
        self.detail = detail


class _TooComplex(Exception):
    """The schema needs more work than the budget allows."""


class _Budget:
    """Counts work and time; raises :class:`_TooComplex` when either runs out."""

    def __init__(self, steps: int = MAX_STEPS, seconds: float = CHECK_SECONDS) -> None:
        self.left = steps
        self.deadline = time.monotonic() + seconds
        self.fields = 0

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0 or (self.left % 512 == 0 and time.monotonic() > self.deadline):
            raise _TooComplex

    def add_field(self) -> None:
        self.fields += 1
        if self.fields > MAX_FIELDS:
            raise _TooComplex
        self.spend()


@dataclass
class Node:
    """One compiled schema node."""

    kind: str
    name: str = ""
    description: str = ""
    title: str = ""
    format: str | None = None
    enum: list[Any] | None = None
    nullable: bool = False
    properties: dict[str, Node] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    items: Node | None = None

    @property
    def is_leaf(self) -> bool:
        return self.kind not in ("object", "array")


def _err(loc: list[str | int], msg: str, value: Any, kind: str = "value_error") -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": msg, "input": value}


def _too_complex(loc: list[str | int]) -> SchemaError:
    return SchemaError(
        [
            _err(
                loc,
                f"data_schema is too complex: once its $refs are expanded it has more than "
                f"{MAX_FIELDS} fields (or needs more work than allowed). Use fewer repeated or "
                "recursive $refs.",
                None,
            )
        ]
    )


def check_schema(schema: Any, loc: list[str | int] | None = None) -> dict[str, Any]:
    """Validate ``schema`` as an extraction schema; returns it, or raises :class:`SchemaError`.

    The top level must be an object schema with ``properties``; every ``$ref`` must resolve.
    Work is bounded: the document's size and depth are limited, each schema object is checked
    once however many ``$ref``s reach it, and the expanded schema must stay within
    :data:`MAX_FIELDS` fields, checked within :data:`CHECK_SECONDS`.
    """
    loc = loc if loc is not None else ["data_schema"]
    if not isinstance(schema, dict):
        raise SchemaError([_err(loc, "data_schema must be a JSON object", schema, "dict_type")])
    _check_size(schema, loc)
    errors: list[dict[str, Any]] = []
    root_type = schema.get("type")
    if root_type not in (None, "object"):
        errors.append(
            _err([*loc, "type"], "The top level of data_schema must be type object", root_type)
        )
    if not isinstance(schema.get("properties"), dict) or not schema.get("properties"):
        errors.append(
            _err(
                [*loc, "properties"],
                "data_schema must declare at least one property",
                schema.get("properties"),
                "missing",
            )
        )
    if not errors:
        _check_nodes(schema, loc, errors)
    if errors:
        raise SchemaError(errors)
    try:
        _compile(schema, schema, "", 0, _Budget())
    except _TooComplex:
        raise _too_complex(loc) from None
    return schema


def _check_size(schema: dict[str, Any], loc: list[str | int]) -> None:
    """Refuse documents nested deeper than :data:`MAX_SCHEMA_DEPTH` or with more than
    :data:`MAX_SCHEMA_NODES` objects and lists (iteratively: no recursion to overflow)."""
    stack: list[tuple[Any, int]] = [(schema, 1)]
    count = 0
    while stack:
        value, depth = stack.pop()
        if not isinstance(value, dict | list):
            continue
        count += 1
        if depth > MAX_SCHEMA_DEPTH:
            raise SchemaError(
                [
                    _err(
                        loc,
                        f"data_schema is nested too deep (over {MAX_SCHEMA_DEPTH} levels)",
                        None,
                    )
                ]
            )
        if count > MAX_SCHEMA_NODES:
            raise SchemaError(
                [_err(loc, f"data_schema is too large (over {MAX_SCHEMA_NODES} objects)", None)]
            )
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children)


def _check_nodes(root: dict[str, Any], loc: list[str | int], errors: list[dict[str, Any]]) -> None:
    """Check every schema object reachable from ``root`` once (memoised by identity, so a
    ``$ref`` reached by many paths costs one check; a stack, not recursion)."""
    done: set[int] = set()
    stack: list[tuple[Any, list[str | int]]] = [(root, loc)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            if id(node) in done:
                continue
            done.add(id(node))
        stack.extend(reversed(_check_one(node, root, where, errors)))


def _check_one(
    node: Any, root: dict[str, Any], loc: list[str | int], errors: list[dict[str, Any]]
) -> list[tuple[Any, list[str | int]]]:
    """Check one schema object; returns the sub-schemas still to check."""
    if not isinstance(node, dict):
        errors.append(_err(loc, "A schema must be a JSON object", node, "dict_type"))
        return []
    ref = node.get("$ref")
    if ref is not None:
        target = _lookup_ref(root, ref)
        if target is None:
            errors.append(_err([*loc, "$ref"], f"Unresolvable $ref: {ref}", ref))
            return []
        return [(target, loc)]
    todo: list[tuple[Any, list[str | int]]] = []
    kind = node.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
    for k in kinds:
        if k not in TYPES:
            errors.append(
                _err([*loc, "type"], f"Unsupported type {k!r}; use one of {', '.join(TYPES)}", k)
            )
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            options = node[key]
            if not isinstance(options, list) or not options:
                errors.append(_err([*loc, key], f"{key} must be a non-empty list", options))
                continue
            todo.extend((option, [*loc, key, i]) for i, option in enumerate(options))
    props = node.get("properties")
    if props is not None:
        if not isinstance(props, dict):
            errors.append(_err([*loc, "properties"], "properties must be an object", props))
        else:
            todo.extend((sub, [*loc, "properties", name]) for name, sub in props.items())
    required = node.get("required")
    if required is not None and (
        not isinstance(required, list) or not all(isinstance(r, str) for r in required)
    ):
        errors.append(_err([*loc, "required"], "required must be a list of names", required))
    elif required and isinstance(props, dict):
        for name in required:
            if name not in props:
                errors.append(
                    _err(
                        [*loc, "required"], f"required names an undeclared property {name!r}", name
                    )
                )
    if "items" in node:
        todo.append((node["items"], [*loc, "items"]))
    elif "array" in kinds:
        errors.append(_err([*loc, "items"], "An array schema needs items", None, "missing"))
    if "enum" in node and (not isinstance(node["enum"], list) or not node["enum"]):
        errors.append(_err([*loc, "enum"], "enum must be a non-empty list", node["enum"]))
    return todo


def _lookup_ref(root: dict[str, Any], ref: Any) -> dict[str, Any] | None:
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    target: Any = root
    for part in ref.lstrip("#").strip("/").split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, dict) or part not in target:
            return None
        target = target[part]
    return target if isinstance(target, dict) else None


# --- compiling ---------------------------------------------------------------------------------


def compile_schema(schema: dict[str, Any]) -> Node:
    """The schema (checked first) as a :class:`Node` tree with refs and Optionals resolved."""
    check_schema(schema)
    try:
        return _compile(schema, schema, "", 0, _Budget())
    except _TooComplex:
        raise _too_complex(["data_schema"]) from None


def _compile(
    raw: dict[str, Any], root: dict[str, Any], name: str, depth: int, budget: _Budget
) -> Node:
    budget.add_field()
    raw, nullable = _resolve(raw, root, budget)
    kind = raw.get("type")
    if isinstance(kind, list):
        nullable = nullable or "null" in kind
        kind = next((k for k in kind if k != "null"), "string")
    if kind is None:
        if "properties" in raw:
            kind = "object"
        elif "items" in raw:
            kind = "array"
        elif "enum" in raw:
            kind = _enum_kind(raw["enum"])
        elif "const" in raw:
            kind = _enum_kind([raw["const"]])
        else:
            kind = "string"
    node = Node(
        kind=str(kind),
        name=name,
        description=str(raw.get("description") or ""),
        title=str(raw.get("title") or ""),
        format=raw.get("format"),
        enum=list(raw["enum"]) if isinstance(raw.get("enum"), list) else None,
        nullable=nullable,
    )
    if "const" in raw and node.enum is None:
        node.enum = [raw["const"]]
    if node.enum is not None:
        node.nullable = node.nullable or None in node.enum
        node.enum = [v for v in node.enum if v is not None]
    if node.kind == "object" and depth < MAX_DEPTH:
        for prop, sub in (raw.get("properties") or {}).items():
            if isinstance(sub, dict):
                node.properties[prop] = _compile(sub, root, prop, depth + 1, budget)
        node.required = set(raw.get("required") or ())
    elif node.kind == "array" and depth < MAX_DEPTH and isinstance(raw.get("items"), dict):
        node.items = _compile(raw["items"], root, name, depth + 1, budget)
        if not node.items.description:
            node.items.description = node.description
    return node


def _enum_kind(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "boolean"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "integer"
    if present and all(isinstance(v, int | float) for v in present):
        return "number"
    return "string"


def _resolve(
    raw: dict[str, Any], root: dict[str, Any], budget: _Budget, depth: int = 0
) -> tuple[dict[str, Any], bool]:
    """Follow ``$ref`` and unwrap ``anyOf``/``oneOf``/``allOf``; True when null is allowed."""
    nullable = False
    merged: dict[str, Any] = {}
    for _ in range(MAX_DEPTH * 2):
        budget.spend()
        if "$ref" in raw:
            extra = {k: v for k, v in raw.items() if k != "$ref"}
            target = _lookup_ref(root, raw["$ref"]) or {}
            merged.update(extra)
            raw = {**target, **{k: v for k, v in merged.items() if k in ("description", "title")}}
            continue
        options = raw.get("anyOf") or raw.get("oneOf")
        if isinstance(options, list):
            non_null = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            nullable = nullable or len(non_null) < len(options)
            extra = {k: v for k, v in raw.items() if k not in ("anyOf", "oneOf")}
            merged.update(extra)
            chosen = non_null[0] if non_null else {"type": "null"}
            if not isinstance(chosen, dict):
                chosen = {}
            raw = {**chosen, **{k: v for k, v in extra.items() if k in ("description", "title")}}
            continue
        all_of = raw.get("allOf")
        if isinstance(all_of, list) and all_of:
            extra = {k: v for k, v in raw.items() if k != "allOf"}
            combined: dict[str, Any] = {}
            if depth < MAX_DEPTH:  # allOf within allOf within ...: cut like recursion
                for part in all_of:
                    if isinstance(part, dict):
                        part, _ = _resolve(part, root, budget, depth + 1)
                        combined.update(part)
            raw = {**combined, **extra}
            continue
        break
    return raw, nullable


# --- coercion ----------------------------------------------------------------------------------


def coerce(node: Node, value: Any) -> Any:
    """``value`` converted to what ``node`` declares, or None when it cannot be.

    Objects keep declared properties only (missing ones become None); arrays coerce each
    element and drop the ones that become None.
    """
    if value is None:
        return None
    if node.kind == "object":
        if not isinstance(value, dict):
            return None
        return {name: coerce(sub, value.get(name)) for name, sub in node.properties.items()}
    if node.kind == "array":
        if not isinstance(value, list):
            value = [value]
        if node.items is None:
            return list(value)
        out = [coerce(node.items, v) for v in value]
        return [v for v in out if v is not None]
    return coerce_scalar(node, value)


def coerce_scalar(node: Node, value: Any) -> Any:
    """A leaf value as the node's type (numbers from text, ISO dates, enum members...)."""
    if value is None:
        return None
    if node.enum:
        return match_enum(value, node.enum)
    if node.kind == "boolean":
        return value if isinstance(value, bool) else parse_bool(str(value))
    if node.kind in ("number", "integer"):
        if isinstance(value, bool):
            return None
        number = (
            float(value) if isinstance(value, int | float) else parse_number(str(value), node.kind)
        )
        if number is None:
            return None
        if node.kind == "integer":
            return int(number) if float(number).is_integer() else None
        return int(number) if float(number).is_integer() and isinstance(value, int) else number
    if node.kind == "string":
        text = str(value).strip() if not isinstance(value, str) else value.strip()
        if node.format == "date":
            return parse_date(text)
        if node.format == "date-time":
            return parse_datetime(text)
        return text or None
    return value
