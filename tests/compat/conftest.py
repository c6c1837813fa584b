"""The conformance suite: the official ``llama-cloud`` SDK drives a real ``lamina serve``.

One server per module (loopback, two worker processes, a bearer key), so each flow is tested
over HTTP exactly as a LlamaCloud user's code would run it. Every response is also validated
(strictly, by pydantic) against the SDK's own response model, from the raw JSON.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, TypeVar

import pytest
from llama_cloud import LlamaCloud
from pydantic import BaseModel

from tests.server.conftest import LiveServer, docs, serve

__all__ = ["docs"]  # the generated documents fixture, shared with the server tests

KEY = "compat-key"
PROJECT = "proj-compat"
OTHER_KEY = "compat-other"
OTHER_PROJECT = "proj-other"

M = TypeVar("M", bound=BaseModel)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("LAMINA_", "LLAMA_CLOUD_")):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = serve(
        tmp_path_factory.mktemp("compat") / "data",
        "--workers",
        "2",
        LAMINA_API_KEYS=f"{KEY}:{PROJECT},{OTHER_KEY}:{OTHER_PROJECT}",
        LAMINA_POLL_INTERVAL_SECONDS="0.5",
    )
    yield live
    live.stop()


@pytest.fixture(scope="module")
def sdk(server: LiveServer) -> Iterator[LlamaCloud]:
    client = LlamaCloud(api_key=KEY, base_url=server.base_url, max_retries=0)
    yield client
    client.close()


@pytest.fixture(scope="module")
def other_sdk(server: LiveServer) -> Iterator[LlamaCloud]:
    client = LlamaCloud(api_key=OTHER_KEY, base_url=server.base_url, max_retries=0)
    yield client
    client.close()


def conforms(model: type[M], raw: Any) -> M:
    """Validate raw JSON against an SDK model (full pydantic validation, not ``construct``)
    and check that the dump of the result keeps every key the server sent."""
    parsed = model.model_validate(raw)
    dumped = parsed.model_dump(mode="json", exclude_unset=True)
    missing = _missing(raw, dumped)
    assert not missing, f"{model.__name__} lost fields {missing}"
    return parsed


def _missing(raw: Any, dumped: Any, path: str = "") -> list[str]:
    if isinstance(raw, dict) and isinstance(dumped, dict):
        out = []
        for key, value in raw.items():
            if key not in dumped:
                out.append(f"{path}.{key}")
            else:
                out.extend(_missing(value, dumped[key], f"{path}.{key}"))
        return out
    if isinstance(raw, list) and isinstance(dumped, list):
        return [
            m
            for i, (a, b) in enumerate(zip(raw, dumped, strict=False))
            for m in _missing(a, b, f"{path}[{i}]")
        ]
    return []


def present(model: BaseModel, *fields: str) -> None:
    """Assert each documented field is set (not None) on an SDK model instance."""
    dumped = model.model_dump()
    absent = [f for f in fields if dumped.get(f) is None]
    assert not absent, f"{type(model).__name__} is missing documented fields {absent}"
