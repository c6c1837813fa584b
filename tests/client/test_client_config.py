"""Settings: arguments, then ``LAMINA_*``, then ``LLAMA_CLOUD_*``; the key never shows."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

import lamina
from lamina.client._config import DEFAULT_MAX_RETRIES, resolve_config

KEY = "llx-SUPER-secret-value"


@pytest.mark.parametrize(
    ("env", "args", "base_url", "api_key"),
    [
        ({}, {}, None, None),
        (
            {"LLAMA_CLOUD_BASE_URL": "https://cloud/", "LLAMA_CLOUD_API_KEY": "c"},
            {},
            "https://cloud",
            "c",
        ),
        ({"LAMINA_BASE_URL": "http://l:1", "LAMINA_API_KEY": "l"}, {}, "http://l:1", "l"),
        (
            {
                "LAMINA_BASE_URL": "http://l:1",
                "LLAMA_CLOUD_BASE_URL": "https://cloud",
                "LAMINA_API_KEY": "l",
                "LLAMA_CLOUD_API_KEY": "c",
            },
            {},
            "http://l:1",
            "l",
        ),
        (
            {"LAMINA_BASE_URL": "http://l:1", "LAMINA_API_KEY": "l"},
            {"base_url": "http://arg", "api_key": "a"},
            "http://arg",
            "a",
        ),
        (
            {"LAMINA_BASE_URL": "  ", "LLAMA_CLOUD_BASE_URL": "https://cloud"},
            {},
            "https://cloud",
            None,
        ),
        ({"LAMINA_API_KEY": "", "LLAMA_CLOUD_API_KEY": "c"}, {}, None, "c"),
    ],
)
def test_resolution_order(
    env: dict[str, str], args: dict[str, str], base_url: str | None, api_key: str | None
) -> None:
    config = resolve_config(env=env, **args)  # type: ignore[arg-type]
    assert config.base_url == base_url
    assert config.embedded is (base_url is None)
    secret = config.api_key.get_secret_value() if config.api_key else None
    assert secret == api_key


def test_ids_timeout_and_retries() -> None:
    env = {"LLAMA_CLOUD_PROJECT_ID": "p", "LAMINA_ORGANIZATION_ID": "o"}
    config = resolve_config(env=env, timeout=12, max_retries=0)
    assert (config.project_id, config.organization_id) == ("p", "o")
    assert config.timeout.read == 12 and config.max_retries == 0
    assert resolve_config(env={}).max_retries == DEFAULT_MAX_RETRIES
    with pytest.raises(ValueError):
        resolve_config(env={}, max_retries=-1)


def test_client_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMA_CLOUD_BASE_URL", "https://cloud.example")
    monkeypatch.setenv("LLAMA_CLOUD_API_KEY", "cloud-key")
    monkeypatch.setenv("LAMINA_API_KEY", KEY)
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "dfl-1", "name": "x", "project_id": "p"})

    with lamina.Client(transport=httpx.MockTransport(answer)) as client:
        client.files.get("dfl-1")
    assert str(seen[0].url) == "https://cloud.example/api/v1/beta/files/dfl-1"
    assert seen[0].headers["authorization"] == f"Bearer {KEY}"


def test_key_never_appears_in_repr_or_str() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200))
    client = lamina.Client(base_url="http://x", api_key=KEY, transport=transport)
    config = client.config
    for text in (repr(client), str(client), repr(config), str(config), str(vars(client))):
        assert KEY not in text
    assert isinstance(config.api_key, SecretStr)
    client.close()


def test_no_base_url_means_embedded_but_imports_nothing_until_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("LAMINA_BASE_URL", "LLAMA_CLOUD_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    transport = httpx.MockTransport(lambda r: httpx.Response(200))
    client = lamina.Client(transport=transport)
    assert client.embedded and client.base_url == "http://lamina.embedded"
    assert "embedded" in repr(client)
    client.close()


def test_transport_and_http_client_are_exclusive() -> None:
    with pytest.raises(ValueError):
        lamina.Client(
            base_url="http://x",
            transport=httpx.MockTransport(lambda r: httpx.Response(200)),
            http_client=httpx.Client(),
        )


def test_injected_http_client_is_used_and_left_open() -> None:
    http = httpx.Client(
        transport=httpx.MockTransport(
            lambda r: httpx.Response(200, json={"id": "d", "name": "n", "project_id": "p"})
        )
    )
    with lamina.Client(base_url="http://x", http_client=http) as client:
        assert client.files.get("d").id == "d"
    assert not http.is_closed
    http.close()
