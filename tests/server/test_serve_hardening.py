"""``lamina serve`` under connection-level abuse (issue #10, item 10): uploads stream to disk,
a request without a valid key is refused before its body is read, slowloris connections are
closed at the header deadline, a stalled body gets 408, and the connection cap holds."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import LiveServer

pytestmark = pytest.mark.slow

StartServer = Callable[..., LiveServer]


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _connect(server: LiveServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.settimeout(5)
    return sock


def _closed_by_server(sock: socket.socket, wait: float) -> bool:
    sock.settimeout(wait)
    try:
        data = sock.recv(65536)
    except TimeoutError:
        return False
    except OSError:
        return True
    return data == b"" or data.startswith(b"HTTP/1.1 4")


def _read_response(sock: socket.socket) -> bytes:
    """One whole response (headers and a Content-Length body), however it was segmented."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, "closed before the response ended"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(4096)
    return head + b"\r\n\r\n" + body


def test_uploads_are_streamed_to_disk(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server("--workers", "0", LAMINA_MAX_UPLOAD_BYTES=str(200 * 1024 * 1024))
    with httpx.Client(base_url=server.base_url, timeout=120) as http:
        assert http.post("/api/v1/beta/files", files={"file": ("w.txt", b"warm")}).is_success
        before = _peak_rss_mb(server.proc.pid)
        size = 96 * 1024 * 1024
        response = http.post(
            "/api/v1/beta/files", files={"file": ("big.bin", b"\0" * size)}, data={}
        )
        assert response.status_code == 200, response.text
        assert response.json()["size_bytes"] == size
        grown = _peak_rss_mb(server.proc.pid) - before
    # Holding the upload in memory costs at least its size (twice, with the join).
    assert grown < 32, f"the API grew by {grown:.0f} MB for a 96 MB upload"


def test_a_request_without_a_valid_key_is_refused_before_its_body(
    start_server: StartServer,
) -> None:
    server = start_server("--workers", "0", LAMINA_API_KEYS="secret-key:p1")
    for auth in ("", "Authorization: Bearer wrong-key\r\n"):
        sock = _connect(server)
        head = (
            "POST /api/v1/beta/files HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\n"
            f"{auth}Content-Length: 150000000\r\n\r\n"
        )
        sock.sendall(head.encode() + b"--x\r\n")  # 150 MB announced, a few bytes sent
        sock.settimeout(5)
        try:
            answer = sock.recv(4096)
        except TimeoutError:
            answer = b""
        finally:
            sock.close()
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]


def test_slowloris_connections_are_closed_and_health_stays_up(
    start_server: StartServer,
) -> None:
    server = start_server(
        "--workers", "0", LAMINA_HEADER_TIMEOUT_SECONDS="2", LAMINA_MAX_CONNECTIONS="40"
    )
    slow = []
    for _ in range(60):  # more than the connection cap
        sock = _connect(server)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        slow.append(sock)
    time.sleep(3.5)  # past the header deadline
    closed = sum(_closed_by_server(sock, 0.5) for sock in slow)
    for sock in slow:
        sock.close()
    assert closed == len(slow), f"{len(slow) - closed} slow connections still open"
    assert httpx.get(f"{server.base_url}/health", timeout=5).status_code == 200


def test_keep_alive_connection_gets_a_new_header_deadline(start_server: StartServer) -> None:
    server = start_server("--workers", "0", LAMINA_HEADER_TIMEOUT_SECONDS="2")
    sock = _connect(server)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert _read_response(sock).startswith(b"HTTP/1.1 200")
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # then nothing
    assert _closed_by_server(sock, 6)
    sock.close()


def test_a_stalled_body_gets_408(start_server: StartServer) -> None:
    server = start_server("--workers", "0", LAMINA_BODY_TIMEOUT_SECONDS="2")
    sock = _connect(server)
    sock.sendall(
        b"POST /api/v1/beta/directories HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name": '
    )
    sock.settimeout(8)
    answer = sock.recv(4096)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert httpx.get(f"{server.base_url}/health", timeout=5).status_code == 200
