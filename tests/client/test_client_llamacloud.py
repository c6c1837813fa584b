"""The client against a simulated LlamaCloud.

LlamaCloud cannot run here, so an ``httpx.MockTransport`` plays it: it answers as the official
SDK (``llama-cloud==2.19.0``) expects, including rate limits, outages and failed or cancelled
jobs, which our own server cannot be made to produce on demand. Everything else is tested
against the real Lamina server (``test_client_e2e.py``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import lamina

BASE = "https://api.cloud.llamaindex.ai"
Handler = Callable[[httpx.Request], httpx.Response]


def _job(status: str = "PENDING", **extra: Any) -> dict[str, Any]:
    return {"id": "pjb-1", "project_id": "prj-1", "status": status, **extra}


class Recorder:
    """A scripted LlamaCloud: answers requests in order and remembers them."""

    def __init__(self, *answers: httpx.Response | Exception | Handler) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return answer


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Record, instead of sleeping, the delays the sync client waits between retries/polls."""
    delays: list[float] = []
    monkeypatch.setattr(time, "sleep", delays.append)
    yield delays


def _client(recorder: Recorder, **kwargs: Any) -> lamina.Client:
    kwargs.setdefault("api_key", "llx-test")
    return lamina.Client(base_url=BASE, transport=httpx.MockTransport(recorder), **kwargs)


# --- retries ------------------------------------------------------------------------------------


def test_rate_limit_is_retried_after_the_servers_delay(sleeps: list[float]) -> None:
    limited = httpx.Response(429, headers={"retry-after-ms": "1200"}, json={"detail": "slow down"})
    recorder = Recorder(limited, limited, httpx.Response(200, json=_job()))
    with _client(recorder) as client:
        job = client.parsing.cancel("pjb-1")
    assert job.id == "pjb-1"
    assert len(recorder.requests) == 3
    assert sleeps == [1.2, 1.2]


def test_server_errors_are_retried_then_raised(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.Response(503, json={"detail": "down"}))
    with _client(recorder, max_retries=2) as client, pytest.raises(lamina.InternalServerError):
        client.files.get("dfl-1")
    assert len(recorder.requests) == 3
    assert len(sleeps) == 2 and 0.375 <= sleeps[0] <= 0.5 and 0.75 <= sleeps[1] <= 1.0


def test_client_errors_are_not_retried(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.Response(404, json={"detail": "Job not found"}))
    with _client(recorder) as client, pytest.raises(lamina.NotFoundError) as caught:
        client.parsing.get("pjb-missing")
    assert len(recorder.requests) == 1 and sleeps == []
    assert "Job not found" in str(caught.value)


def test_connection_errors_are_retried_then_raised(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.ConnectError("refused"))
    with _client(recorder, max_retries=1) as client, pytest.raises(lamina.APIConnectionError):
        client.files.get("dfl-1")
    assert len(recorder.requests) == 2 and len(sleeps) == 1


def test_timeouts_raise_timeout_error(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow"))
    with _client(recorder, max_retries=1) as client, pytest.raises(lamina.APITimeoutError):
        client.files.get("dfl-1")


def test_unexpected_body_is_a_response_validation_error() -> None:
    recorder = Recorder(httpx.Response(200, json={"unexpected": True}))
    with _client(recorder) as client, pytest.raises(lamina.APIResponseValidationError):
        client.files.get("dfl-1")


async def test_async_client_retries_the_same_way() -> None:
    recorder = Recorder(
        httpx.Response(429, headers={"retry-after-ms": "10"}),
        httpx.Response(200, json=_job("COMPLETED")),
    )
    transport = httpx.MockTransport(recorder)
    async with lamina.AsyncClient(base_url=BASE, api_key="k", transport=transport) as client:
        job = await client.parsing.cancel("pjb-1")
    assert job.status == "COMPLETED" and len(recorder.requests) == 2


# --- what goes over the wire --------------------------------------------------------------------


def test_requests_match_what_llamacloud_expects() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/beta/files":
            return httpx.Response(200, json={"id": "dfl-1", "name": "a.pdf", "project_id": "prj-1"})
        return httpx.Response(200, json=_job())

    recorder = Recorder(answer)
    client = _client(recorder, project_id="prj-1", organization_id="org-1")
    with client:
        client.files.create(("a.pdf", b"%PDF-1.4"), external_file_id="ext-9")
        client.parsing.create("dfl-1", tier="agentic", page_ranges={"max_pages": 2})
        client.parsing.create(upload_file=b"%PDF", filename="b.pdf", tier="fast")

    upload, create, create_upload = recorder.requests
    for request in recorder.requests:
        assert request.headers["authorization"] == "Bearer llx-test"
        assert request.url.params["project_id"] == "prj-1"
        assert request.url.params["organization_id"] == "org-1"
    assert upload.method == "POST" and upload.url.path == "/api/v1/beta/files"
    assert upload.headers["content-type"].startswith("multipart/form-data")
    body = upload.content
    assert b'name="purpose"\r\n\r\nparse' in body
    assert b'name="external_file_id"\r\n\r\next-9' in body
    assert b'name="file"; filename="a.pdf"' in body and b"%PDF-1.4" in body
    assert create.url.path == "/api/v2/parse"
    assert json.loads(create.content) == {
        "tier": "agentic",
        "version": "latest",
        "file_id": "dfl-1",
        "page_ranges": {"max_pages": 2},
    }
    assert create_upload.url.path == "/api/v2/parse/upload"
    assert b'name="configuration"\r\n\r\n{"tier": "fast", "version": "latest"}' in (
        create_upload.content
    )
    assert b'filename="b.pdf"' in create_upload.content


def test_expand_is_sent_repeated_like_the_sdk() -> None:
    recorder = Recorder(httpx.Response(200, json={"job": _job("COMPLETED")}))
    with _client(recorder) as client:
        client.parsing.get(
            "pjb-1", expand=["markdown", "items"], image_filenames=["a.png", "b.png"]
        )
    params = recorder.requests[0].url.params
    assert params.get_list("expand") == ["markdown", "items"]
    assert params["image_filenames"] == "a.png,b.png"


def test_presigned_downloads_do_not_leak_the_key() -> None:
    recorder = Recorder(httpx.Response(200, content=b"bytes"))
    with _client(recorder) as client:
        assert client.download("https://bucket.s3.amazonaws.com/x?sig=1") == b"bytes"
        client.download(f"{BASE}/api/v1/results/x")
    foreign, own = recorder.requests
    assert "authorization" not in foreign.headers
    assert own.headers["authorization"] == "Bearer llx-test"


def test_list_iterates_over_every_page() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("page_token")
        if token is None:
            return httpx.Response(200, json={"items": [_job(id="pjb-a")], "next_page_token": "t2"})
        return httpx.Response(200, json={"items": [_job(id="pjb-b")], "next_page_token": None})

    recorder = Recorder(answer)
    with _client(recorder) as client:
        assert [job.id for job in client.parsing.iter(status="PENDING")] == ["pjb-a", "pjb-b"]
    assert recorder.requests[0].url.params["status"] == "PENDING"


# --- waiting for jobs ---------------------------------------------------------------------------


def _states(*statuses: str, error: str | None = None) -> Recorder:
    return Recorder(
        *(
            httpx.Response(200, json={"job": _job(status, error_message=error)})
            for status in statuses
        )
    )


def test_wait_polls_with_growing_intervals(sleeps: list[float]) -> None:
    recorder = _states("PENDING", "RUNNING", "RUNNING", "COMPLETED")
    with _client(recorder) as client:
        job = client.parsing.wait("pjb-1", poll_interval=0.2)
    assert job.status == "COMPLETED"
    assert sleeps == pytest.approx([0.1, 0.15, 0.2])
    assert all("expand" not in r.url.params for r in recorder.requests)


def test_wait_raises_job_failed(sleeps: list[float]) -> None:
    recorder = _states("RUNNING", "FAILED", error="corrupt PDF")
    with _client(recorder) as client, pytest.raises(lamina.JobFailedError) as caught:
        client.parsing.wait("pjb-1")
    assert caught.value.error_message == "corrupt PDF"
    assert caught.value.job is not None and caught.value.job.status == "FAILED"


def test_wait_raises_job_cancelled(sleeps: list[float]) -> None:
    with _client(_states("CANCELLED")) as client, pytest.raises(lamina.JobCancelledError):
        client.parsing.wait("pjb-1")


def test_wait_gives_up_after_timeout() -> None:
    with _client(_states("RUNNING")) as client, pytest.raises(lamina.JobTimeoutError) as caught:
        client.parsing.wait("pjb-1", timeout=0.3, poll_interval=0.05)
    assert caught.value.job_id == "pjb-1" and caught.value.timeout == 0.3


async def test_async_wait_raises_job_failed() -> None:
    recorder = _states("PENDING", "FAILED", error="boom")
    transport = httpx.MockTransport(recorder)
    async with lamina.AsyncClient(base_url=BASE, transport=transport) as client:
        with pytest.raises(lamina.JobFailedError, match="boom"):
            await client.parsing.wait("pjb-1")
