"""Extraction schemas for agent tools: a tool name and a plain-text list of the fields a model
will get back (for the tool description), from a pydantic model class or a JSON Schema dict.

The LangChain extract tool and the LlamaIndex tool spec both describe themselves with these."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from lamina.client._extract import schema_of as json_schema_of

ExtractionSchema = type[BaseModel] | Mapping[str, Any]
"""A pydantic model class or a JSON Schema dict."""

MAX_FIELD_LINES = 60
MAX_DEPTH = 4
_REF_PREFIX = "#/"


def schema_title(schema: ExtractionSchema) -> str | None:
    """The model's class name, else the JSON Schema's ``title``."""
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.__name__
    title = json_schema_of(schema).get("title")
    return str(title) if isinstance(title, str) and title.strip() else None


def schema_about(schema: ExtractionSchema) -> str | None:
    """The schema's own ``description`` (a pydantic model's docstring), on one line."""
    text = _text(json_schema_of(schema))
    return text or None


def tool_name_for(schema: ExtractionSchema, default: str = "extract_data") -> str:
    """``extract_<title in snake_case>`` (``Invoice`` → ``extract_invoice``), else ``default``.

    Only ``[a-z0-9_]``, at most 64 characters: what every chat API accepts as a tool name.
    """
    title = schema_title(schema)
    if not title:
        return default
    snake = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", title)
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", snake)
    snake = re.sub(r"[^a-z0-9]+", "_", snake.lower()).strip("_")
    return f"extract_{snake}"[:64] if snake else default


def describe_fields(schema: ExtractionSchema, max_chars: int | None = None) -> str:
    """One line per field (nested fields indented): name, type, ``required``, description.

    At most :data:`MAX_FIELD_LINES` lines and, with ``max_chars``, that many characters; what
    is left out is counted on a last line.
    """
    root = json_schema_of(schema)
    lines: list[str] = []
    _describe_object(root, root, 0, lines)
    total = len(lines)
    kept = lines[:MAX_FIELD_LINES]
    while kept:
        more = [] if len(kept) == total else [f"- ... and {total - len(kept)} more"]
        text = "\n".join([*kept, *more])
        if max_chars is None or len(text) <= max_chars:
            return text
        kept.pop()
    return f"- {total} fields" if total else ""


def _describe_object(
    node: Mapping[str, Any], root: Mapping[str, Any], depth: int, out: list[str]
) -> None:
    properties = node.get("properties")
    if not isinstance(properties, Mapping) or depth >= MAX_DEPTH:
        return
    required = set(node.get("required") or ())
    indent = "  " * depth
    for name, raw in properties.items():
        sub, nullable = _resolve(raw if isinstance(raw, Mapping) else {}, root)
        kind = _kind(sub, root)
        extras = [kind]
        if name in required and not nullable:
            extras.append("required")
        description = _text(raw) or _text(sub)
        line = f"{indent}- {name} ({', '.join(extras)})"
        out.append(f"{line}: {description}" if description else line)
        child = _object_child(sub, root)
        if child is not None:
            _describe_object(child, root, depth + 1, out)


def _object_child(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The object whose properties sit under this field: itself, or its array's items."""
    if isinstance(node.get("properties"), Mapping):
        return node
    items = node.get("items")
    if isinstance(items, Mapping):
        resolved, _ = _resolve(items, root)
        if isinstance(resolved.get("properties"), Mapping):
            return resolved
    return None


def _kind(node: Mapping[str, Any], root: Mapping[str, Any]) -> str:
    enum = node.get("enum")
    if isinstance(enum, list) and enum:
        return "one of " + ", ".join(repr(v) for v in enum if v is not None)
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "array" or (kind is None and "items" in node):
        items = node.get("items")
        if isinstance(items, Mapping):
            inner = _kind(_resolve(items, root)[0], root)
            return f"list of {'objects' if inner == 'object' else inner}"
        return "list"
    if kind is None:
        kind = "object" if "properties" in node else "string"
    fmt = node.get("format")
    return f"{kind}, {fmt}" if isinstance(fmt, str) else str(kind)


def _text(node: Any) -> str:
    if not isinstance(node, Mapping):
        return ""
    description = node.get("description")
    return " ".join(str(description).split()) if description else ""


def _resolve(node: Mapping[str, Any], root: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
    """Follow local ``$ref`` and unwrap ``anyOf``/``oneOf``; True when null is allowed."""
    nullable = False
    for _ in range(2 * MAX_DEPTH):
        kind = node.get("type")
        if isinstance(kind, list) and "null" in kind:
            nullable = True
        ref = node.get("$ref")
        if isinstance(ref, str):
            node = {**_lookup(root, ref), **{k: v for k, v in node.items() if k != "$ref"}}
            continue
        options = node.get("anyOf") or node.get("oneOf")
        if isinstance(options, list):
            rest = [o for o in options if isinstance(o, Mapping) and o.get("type") != "null"]
            nullable = nullable or len(rest) < len(options)
            outer = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}
            node = {**(rest[0] if rest else {"type": "null"}), **outer}
            continue
        break
    return node, nullable


def _lookup(root: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    if not ref.startswith(_REF_PREFIX):
        return {}
    target: Any = root
    for part in ref[len(_REF_PREFIX) :].split("/"):
        if not isinstance(target, Mapping) or part not in target:
            return {}
        target = target[part]
    return target if isinstance(target, Mapping) else {}
