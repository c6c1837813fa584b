"""Hostile and broken input against a real ``lamina serve``: every bad input gets a clear 4xx
at the door or its own FAILED job with a message, good jobs run alongside still complete, the
server stays up and its memory bounded."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.documents import SIMPLE_TITLE
from tests.fixtures.hostile import (
    HUGE_PDF_TEXT,
    hostile_corpus,
    make_many_pages_pdf,
    wrong_extension_corpus,
)
from tests.server.conftest import LiveServer, serve

pytestmark = pytest.mark.slow

MAX_UPLOAD = 4 * 1024 * 1024
MAX_PAGES = 2000

# name → a fragment the job's error_message must contain
EXPECTED_ERRORS = {
    "empty": "empty",
    "truncated_pdf": "damaged or truncated",
    "encrypted_pdf": "password",
    "bomb_png": "decompression bomb",
    "zip_bomb_docx": "zip bomb",
    "malformed_xlsx": "Not a valid XLSX",
    "malformed_pptx": "Not a valid PPTX",
    "junk": "Unrecognised file type",
    "random_bytes": "Unrecognised file type",
    "pdf_header_junk": "damaged or truncated",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = serve(
        tmp_path_factory.mktemp("hostile") / "data",
        "--workers",
        "2",
        LAMINA_MAX_UPLOAD_BYTES=str(MAX_UPLOAD),
        LAMINA_MAX_PAGES_PER_JOB=str(MAX_PAGES),
        LAMINA_MAX_IMAGE_PIXELS="50000000",
        LAMINA_JOB_TIMEOUT_SECONDS="120",
    )
    yield live
    live.stop()


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        yield client


def _upload_job(http: httpx.Client, name: str, data: bytes, **config: Any) -> httpx.Response:
    configuration = json.dumps({"tier": "fast", "version": "latest", **config})
    return http.post(
        "/api/v2/parse/upload",
        files={"file": (name, data)},
        data={"configuration": configuration},
    )


def _wait_all(http: httpx.Client, job_ids: list[str], timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    done: dict[str, Any] = {}
    while len(done) < len(job_ids):
        assert time.monotonic() < deadline, f"unfinished: {set(job_ids) - set(done)}"
        for job_id in job_ids:
            if job_id not in done:
                job = http.get(f"/api/v2/parse/{job_id}").json()["job"]
                if job["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
                    done[job_id] = job
        time.sleep(0.1)
    return done


def _rss_mb(pid: int, field: str = "VmHWM") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.heavy
def test_hostile_corpus_fails_cleanly_while_good_jobs_complete(
    server: LiveServer, http: httpx.Client, tmp_path: Path, docs: dict[str, bytes]
) -> None:
    corpus = hostile_corpus(tmp_path / "corpus")
    bad: dict[str, str] = {}
    good: dict[str, str] = {}  # job id → text its markdown must contain
    for index, (key, (name, data)) in enumerate(corpus.items()):
        response = _upload_job(http, name, data)
        assert response.status_code == 200, (key, response.text)
        bad[response.json()["id"]] = key
        ok = _upload_job(http, f"good-{index}.pdf", docs["simple"])  # interleaved good work
        good[ok.json()["id"]] = SIMPLE_TITLE
    for key, (name, data) in wrong_extension_corpus(tmp_path / "wrong").items():
        response = _upload_job(http, name, data)
        assert response.status_code == 200, (key, response.text)
        good[response.json()["id"]] = SIMPLE_TITLE if key == "pdf_as_docx" else ""

    huge = make_many_pages_pdf(10_000)
    over = _upload_job(http, "huge.pdf", huge).json()["id"]
    over_range = _upload_job(http, "huge.pdf", huge, page_ranges={"target_pages": "1-999999999"})
    few = _upload_job(http, "huge.pdf", huge, page_ranges={"max_pages": 5}).json()["id"]
    tail = _upload_job(http, "huge.pdf", huge, page_ranges={"target_pages": "9990-999999999"})
    good[few] = HUGE_PDF_TEXT
    good[tail.json()["id"]] = HUGE_PDF_TEXT

    results = _wait_all(http, [*bad, *good, over, over_range.json()["id"]])
    for job_id, key in bad.items():
        job = results[job_id]
        assert job["status"] == "FAILED", (key, job)
        assert EXPECTED_ERRORS[key] in job["error_message"], (key, job["error_message"])
    for job_id in (over, over_range.json()["id"]):
        message = results[job_id]["error_message"]
        assert results[job_id]["status"] == "FAILED"
        assert f"at most {MAX_PAGES} pages per job" in message and "10000" in message
    for job_id, expected in good.items():
        assert results[job_id]["status"] == "COMPLETED", results[job_id]
        markdown = http.get(f"/api/v2/parse/{job_id}", params={"expand": "markdown_full"})
        assert expected in markdown.json()["markdown_full"]
    pages = http.get(f"/api/v2/parse/{tail.json()['id']}", params={"expand": "metadata"})
    assert [p["page_number"] for p in pages.json()["metadata"]["pages"]] == list(
        range(9990, 10_001)
    )

    assert http.get("/health").status_code == 200
    assert _rss_mb(server.proc.pid) < 400  # peak RSS of the API process


def test_uploads_over_the_limit_are_refused_while_streaming(
    server: LiveServer, http: httpx.Client
) -> None:
    big = b"%PDF-1.4\n" + b"0" * (MAX_UPLOAD + 2 * 1024 * 1024)
    declared = http.post("/api/v1/beta/files", files={"file": ("big.pdf", big)})
    assert declared.status_code == 413
    assert "limit" in declared.json()["detail"]
    assert _upload_job(http, "big.pdf", big).status_code == 413

    # Just over the file limit, within the multipart slack: the route's own check.
    near = b"0" * (MAX_UPLOAD + 10)
    response = http.post("/api/v1/beta/files", files={"file": ("near.bin", near)})
    assert response.status_code == 413

    # No Content-Length (chunked): the guard counts bytes as they arrive and stops early.
    boundary = "lamina-boundary"

    def body() -> Iterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="stream.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        chunk = b"1" * (256 * 1024)
        for _ in range(64):  # 16 MiB, four times the limit
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    try:
        streamed = http.post(
            "/api/v1/beta/files",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert streamed.status_code == 413
    except httpx.TransportError:
        pass  # the server may close the connection before the client finishes sending
    assert http.get("/health").status_code == 200
    names = [f["name"] for f in http.get("/api/v1/beta/files").json()["items"]]
    assert not {"big.pdf", "near.bin", "stream.bin"} & set(names)  # nothing was stored


def test_path_like_names_are_stored_as_data(server: LiveServer, http: httpx.Client) -> None:
    names = {
        "../../etc/passwd": "passwd",
        "a/b/c.txt": "c.txt",
        "..\\..\\windows\\win.ini": "win.ini",
        "nul\x00byte.txt": "nul%00byte.txt",  # httpx escapes the NUL; unit test below
        "..": "upload",
        "x" * 400 + ".txt": "x" * 251 + ".txt",
    }
    for raw, stored in names.items():
        response = http.post("/api/v1/beta/files", files={"file": (raw, b"hello")})
        assert response.status_code == 200, (raw, response.text)
        file = response.json()
        assert file["name"] == stored, raw
        url = http.get(f"/api/v1/beta/files/{file['id']}/content").json()["url"]
        assert http.get(url).content == b"hello"
    root = server.log.parent
    leaked = [p for p in root.rglob("*") if p.name in ("passwd", "win.ini", "c.txt")]
    assert leaked == []  # no name was used as a path


def test_safe_file_name() -> None:
    from lamina.services.api.files import safe_file_name

    assert safe_file_name("nul\x00byte\n.txt") == "nulbyte.txt"
    assert safe_file_name("/") == safe_file_name(" . ") == "upload"
    assert safe_file_name("dir\\..\\x.pdf") == "x.pdf"


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("POST", "/api/v2/parse", {"page_ranges": {"max_pages": -1}}),
        ("POST", "/api/v2/parse", {"page_ranges": {"max_pages": 0}}),
        ("POST", "/api/v2/parse", {"page_ranges": {"target_pages": "0-999999999"}}),
        ("POST", "/api/v2/parse", {"page_ranges": {"target_pages": "abc"}}),
        ("POST", "/api/v2/parse", {"page_ranges": {"target_pages": "9" * 5000}}),
        ("POST", "/api/v2/parse", {"page_ranges": {"target_pages": "5-1"}}),
        ("POST", "/api/v2/parse", {"tier": "ultra"}),
        ("POST", "/api/v2/parse", {"version": "yesterday"}),
        ("GET", "/api/v2/parse?page_size=1000000000", None),
        ("GET", "/api/v2/parse?page_size=-5", None),
        ("GET", "/api/v2/parse?page_token=%%%", None),
        ("GET", "/api/v1/beta/files?page_size=0", None),
        ("GET", "/api/v2/parse/pjb-x?expand=everything", None),
        ("GET", "/api/v2/extract?page_size=99999999999999999999", None),
    ],
)
def test_absurd_options_are_422(
    server: LiveServer, http: httpx.Client, method: str, path: str, payload: Any
) -> None:
    body = None
    if payload is not None:
        file_id = http.post("/api/v1/beta/files", files={"file": ("t.txt", b"text")}).json()["id"]
        body = {"file_id": file_id, "tier": "fast", "version": "latest", **payload}
    response = http.request(method, path, json=body)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], list)


def test_huge_but_valid_options_complete(server: LiveServer, http: httpx.Client) -> None:
    ids = [
        _upload_job(http, "t.txt", b"Some text.", page_ranges=ranges).json()["id"]
        for ranges in ({"max_pages": 10**12}, {"target_pages": "1-999999999"})
    ]
    for job in _wait_all(http, ids).values():
        assert job["status"] == "COMPLETED", job


# --- small malformed inputs (issue #10, item 11): each was a 500 ------------------------------


def _token(value: Any) -> str:
    """A page_token holding ``value`` as its sort key (the server's own token format)."""
    import base64

    raw = json.dumps({"v": value, "i": "x"}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


LIST_ROUTES = [
    "/api/v1/beta/files",
    "/api/v2/parse",
    "/api/v2/extract",
    "/api/v1/beta/directories",
    "/api/v2/batches",
]
BAD_TOKENS = {"huge int": 10**31, "list": [1, 2], "bool": True, "object": {"x": 1}}


def _malformed_cases() -> list[tuple[str, str, str, Any]]:
    """(name, method, path, body); ``{dir}`` / ``{file}`` are filled in by the test."""
    parse = {"job_name": "parse_raw_file_job", "parameters": {"tier": "fast"}}

    def v1(**parameters: Any) -> dict[str, Any]:
        return {
            "directory_id": "{dir}",
            "job_config": {**parse, "parameters": {"tier": "fast", **parameters}},
        }

    def classify(**parsing: Any) -> dict[str, Any]:
        rules = [{"type": "invoice", "description": "an invoice"}]
        config = {"rules": rules, "parsing_configuration": parsing}
        return {"directory_id": "{dir}", "job_config": config}

    dirs, files = "/api/v1/beta/directories", "/api/v1/beta/directories/{dir}/files"
    batches, hook = "/api/v1/beta/batch-processing", {"webhook_url": "https://example.com/h"}
    cases: list[tuple[str, str, str, Any]] = [
        ("directory description", "POST", dirs, {"name": "d", "description": 5}),
        ("directory system_metadata", "POST", dirs, {"name": "d", "system_metadata": "x"}),
        ("directory name", "POST", dirs, {"name": ["d"]}),
        ("PATCH name", "PATCH", dirs + "/{dir}", {"name": 5}),
        ("PATCH description", "PATCH", dirs + "/{dir}", {"description": ["x"]}),
        ("file metadata", "POST", files, {"file_id": "{file}", "metadata": "x"}),
        ("file unique_id", "POST", files, {"file_id": "{file}", "unique_id": 5}),
        ("file display_name", "POST", files, {"file_id": "{file}", "display_name": {}}),
        ("job_timeout_in_seconds", "POST", batches, v1(job_timeout_in_seconds="abc")),
        ("languages", "POST", batches, v1(languages=5)),
        ("images_to_save", "POST", batches, v1(images_to_save=5)),
        ("target_pages", "POST", batches, v1(target_pages={"a": 1})),
        (
            "webhook_headers",
            "POST",
            batches,
            v1(webhook_configurations=[{**hook, "webhook_headers": ["abc"]}]),
        ),
        (
            "webhook_events",
            "POST",
            batches,
            v1(webhook_configurations=[{**hook, "webhook_events": 5}]),
        ),
        ("classify max_pages", "POST", batches, classify(max_pages="x")),
        ("classify target_pages", "POST", batches, classify(target_pages=5)),
        ("v2 config", "POST", "/api/v2/batches", {"source_directory_id": "{dir}", "config": "p"}),
        (
            "v2 job",
            "POST",
            "/api/v2/batches",
            {"source_directory_id": "{dir}", "config": {"job": 5}},
        ),
        ("v1 list offset", "GET", f"{batches}?offset={10**20}", None),
        ("v1 list limit", "GET", f"{batches}?limit={10**20}", None),
    ]
    for route in LIST_ROUTES:
        for name, value in BAD_TOKENS.items():
            url = f"{route}?page_token={_token(value)}"
            cases.append((f"{route} page_token {name}", "GET", url, None))
    url = f"{files}?page_token={_token(10**31)}"
    cases.append(("directory files page_token", "GET", url, None))
    return cases


MALFORMED = _malformed_cases()


@pytest.mark.parametrize(
    ("name", "method", "path", "body"), MALFORMED, ids=[case[0] for case in MALFORMED]
)
def test_malformed_inputs_are_422_not_500(
    server: LiveServer, http: httpx.Client, name: str, method: str, path: str, body: Any
) -> None:
    directory = http.post("/api/v1/beta/directories", json={"name": "malformed"}).json()["id"]
    file_id = http.post("/api/v1/beta/files", files={"file": ("t.txt", b"text")}).json()["id"]
    text = json.dumps(body).replace("{dir}", directory).replace("{file}", file_id)
    url = path.replace("{dir}", directory)
    content = text if body is not None else None
    headers = {"Content-Type": "application/json"}
    response = http.request(method, url, content=content, headers=headers)
    assert response.status_code == 422, (name, response.status_code, response.text)
    assert isinstance(response.json()["detail"], list)
