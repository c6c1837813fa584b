"""The outbound address policy of ``source_url`` fetches (SSRF).

The "internal" services here listen on loopback, which the policy refuses by default: each
test shows the refusal, and the operator's allow-list admitting the address where a fetch
should succeed. Reproductions of the adversarial review (issue #10, item 1).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.server import free_port
from tests.server.conftest import running_app, wait_for_job

SECRET = "TOP-SECRET-INTERNAL-VALUE"


class _Internal(BaseHTTPRequestHandler):
    """``/secret`` (text), ``/redirect?to=URL`` (302), ``/drip`` (a byte every 0.2 s)."""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/secret":
            body = f"{SECRET}\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif parts.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", parse_qs(parts.query)["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(150):  # 30 s of drip at most
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass
        else:
            self.send_error(404)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def internal() -> Iterator[int]:
    """Port of an "internal" HTTP service on 127.0.0.1."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Internal)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()


def _create(client: TestClient, url: str, **extra: Any) -> Any:
    return client.post(
        "/api/v2/parse", json={"source_url": url, "tier": "fast", "version": "latest", **extra}
    )


def _text(client: TestClient, job_id: str) -> str:
    body = client.get(f"/api/v2/parse/{job_id}", params={"expand": "text_full"}).json()
    return str(body.get("text_full") or "")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/secret",
        "http://2130706433:{port}/secret",  # 127.0.0.1 as one decimal number
        "http://0x7f.1:{port}/secret",  # hex and short forms
        "http://0177.0.0.1:{port}/secret",  # octal
        "http://[::1]:{port}/secret",
        "http://[::ffff:127.0.0.1]:{port}/secret",  # IPv4-mapped IPv6
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[fd00::1]/x",
        "http://10.1.2.3/x",
        "http://0.0.0.0:{port}/secret",
        "http://{api}/health",  # the API itself
    ],
)
def test_internal_addresses_are_refused_at_the_door(
    tmp_path: Path, internal: int, url: str
) -> None:
    with running_app(tmp_path / "data") as client:
        target = url.format(port=internal, api=f"127.0.0.1:{free_port()}")
        response = _create(client, target)
        assert response.status_code == 422, response.text
        detail = response.json()["detail"][0]
        assert detail["loc"] == ["body", "source_url"]
        # Refused for its address, or (0177.0.0.1) as a URL no client would fetch.
        assert "outbound policy" in detail["msg"] or "not a valid URL" in detail["msg"]


def test_names_of_internal_addresses_fail_the_job_without_fetching(
    tmp_path: Path, internal: int
) -> None:
    with running_app(tmp_path / "data") as client:
        job = _create(client, f"http://localhost:{internal}/secret").json()
        done = wait_for_job(client, job["id"])
    assert done["status"] == "FAILED"
    assert "not allowed by this server's outbound policy" in done["error_message"]
    assert SECRET not in done["error_message"]


def test_every_redirect_hop_is_checked(tmp_path: Path, internal: int) -> None:
    # The operator admits the name "localhost"; a redirect to the loopback *address* is still
    # refused, as is a redirect to the metadata address.
    with running_app(tmp_path / "data", outbound_allow=("localhost",)) as client:
        direct = _create(client, f"http://localhost:{internal}/secret").json()
        hops = [
            f"http://127.0.0.1:{internal}/secret",
            "http://169.254.169.254/latest/meta-data/",
            f"http://2130706433:{internal}/secret",
        ]
        redirected = [
            _create(client, f"http://localhost:{internal}/redirect?to={hop}").json() for hop in hops
        ]
        assert wait_for_job(client, direct["id"])["status"] == "COMPLETED"
        assert SECRET in _text(client, direct["id"])
        for job in redirected:
            done = wait_for_job(client, job["id"])
            assert done["status"] == "FAILED", done
            assert "outbound policy" in done["error_message"]


def test_operator_allow_list_admits_intranet_sources(tmp_path: Path, internal: int) -> None:
    with running_app(tmp_path / "data", outbound_allow=("127.0.0.0/8",)) as client:
        job = _create(client, f"http://127.0.0.1:{internal}/secret").json()
        assert wait_for_job(client, job["id"])["status"] == "COMPLETED"
        assert SECRET in _text(client, job["id"])
        # A proxy the caller chooses stays refused unless the operator allows proxies.
        proxied = _create(
            client, f"http://127.0.0.1:{internal}/secret", http_proxy="http://127.0.0.1:3128"
        )
        assert proxied.status_code == 422
        assert proxied.json()["detail"][0]["loc"] == ["body", "http_proxy"]


def test_caller_proxy_is_refused(tmp_path: Path, internal: int) -> None:
    with running_app(tmp_path / "data") as client:
        response = _create(
            client, "http://example.com/doc.pdf", http_proxy=f"http://127.0.0.1:{internal}"
        )
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", "http_proxy"]


def _closing_server() -> tuple[socket.socket, int]:
    """A port that accepts connections and closes them at once."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return sock, int(sock.getsockname()[1])


def test_fetch_errors_do_not_tell_closed_ports_from_open_ones(tmp_path: Path) -> None:
    listener, open_port = _closing_server()
    closed_port = free_port()
    try:
        with running_app(tmp_path / "data", outbound_allow=("127.0.0.1",)) as client:
            messages = []
            for port in (closed_port, open_port):
                url = f"http://127.0.0.1:{port}/x.pdf"
                done = wait_for_job(client, _create(client, url).json()["id"])
                assert done["status"] == "FAILED"
                messages.append(done["error_message"].replace(str(port), "PORT"))
    finally:
        listener.close()
    assert messages[0] == messages[1], messages
    assert "refused" not in messages[0].lower() and "errno" not in messages[0].lower()


def test_drip_feed_download_is_cut_at_the_total_deadline(tmp_path: Path, internal: int) -> None:
    with running_app(
        tmp_path / "data", outbound_allow=("127.0.0.1",), source_fetch_timeout_seconds=2
    ) as client:
        job = _create(client, f"http://127.0.0.1:{internal}/drip").json()
        done = wait_for_job(client, job["id"], timeout=12)
    assert done["status"] == "FAILED"
    assert "within 2 s" in done["error_message"]


def test_download_over_the_size_limit_fails(tmp_path: Path, internal: int) -> None:
    with running_app(
        tmp_path / "data", outbound_allow=("127.0.0.1",), max_upload_bytes=10
    ) as client:
        job = _create(client, f"http://127.0.0.1:{internal}/secret").json()
        done = wait_for_job(client, job["id"])
    assert done["status"] == "FAILED"
    assert "larger than the limit of 10 bytes" in done["error_message"]


# --- the policy itself -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("1.1.1.1", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("169.254.169.254", False),
        ("0.0.0.0", False),
        ("224.0.0.251", False),  # multicast
        ("240.0.0.1", False),  # reserved
        ("255.255.255.255", False),
        ("198.18.0.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fd12:3456::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2001:db8::1", False),  # documentation
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    from lamina.services.outbound import is_public

    assert is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("example.com", None),
        ("docs", None),
    ],
)
def test_literal_addresses_in_every_spelling(host: str, expected: str | None) -> None:
    from lamina.services.outbound import literal_address

    found = literal_address(host)
    assert (str(found) if found else None) == expected


def test_allow_list_entries() -> None:
    from lamina.services.outbound import OutboundPolicy

    policy = OutboundPolicy(("10.0.0.0/8", "docs.intranet", "*.corp.example", "::1"))
    assert policy.address_allowed(ipaddress.ip_address("10.2.3.4"))
    assert policy.address_allowed(ipaddress.ip_address("::ffff:10.2.3.4"))
    assert not policy.address_allowed(ipaddress.ip_address("192.168.0.1"))
    assert policy.address_allowed(ipaddress.ip_address("::1"))
    assert policy.name_allowed("docs.intranet") and policy.name_allowed("a.b.corp.example")
    assert not policy.name_allowed("corp.example.evil")
    assert OutboundPolicy(("*",)).address_allowed(ipaddress.ip_address("127.0.0.1"))
    with pytest.raises(ValueError, match="allow-list"):
        OutboundPolicy(("http://x/",))


def test_embedded_mode_keeps_fetching_any_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process the caller is the operator: the policy admits everything unless the
    environment says otherwise (nothing is started here)."""
    from lamina.server.embedded import get_embedded_server

    assert get_embedded_server(tmp_path / "a").settings.outbound_allow == ("*",)
    monkeypatch.setenv("LAMINA_OUTBOUND_ALLOW", "10.0.0.0/8")
    assert get_embedded_server(tmp_path / "b").settings.outbound_allow == ("10.0.0.0/8",)
