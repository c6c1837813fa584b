"""Parse v2 in-process: create, list, GET with every expand, presigned results, errors."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lamina.types import (
    EXPAND_VALUES,
    ItemsResult,
    MarkdownResult,
    MetadataResult,
    ParseJob,
    ParseResponse,
    TextResult,
    strict_validate,
)
from tests.fixtures.documents import SIMPLE_PARAGRAPH, SIMPLE_TITLE
from tests.server.conftest import create_job, running_app, upload, wait_for_job

SEED_TIER_ERROR = {
    "detail": [
        {
            "type": "value_error",
            "loc": ["tier"],
            "msg": (
                "Unsupported tier: invalid_tier. Must be one of: fast, cost_effective, agentic, "
                "agentic_plus"
            ),
            "input": {},
        }
    ]
}


@pytest.fixture
def completed(client: TestClient, docs: dict[str, bytes]) -> str:
    """Id of a COMPLETED job over the simple PDF."""
    job = create_job(client, upload(client, docs["simple"])["id"])
    assert wait_for_job(client, job["id"])["status"] == "COMPLETED"
    return str(job["id"])


def test_create_by_file_id(client: TestClient, docs: dict[str, bytes]) -> None:
    file_id = upload(client, docs["simple"])["id"]
    job = strict_validate(ParseJob, create_job(client, file_id, user_metadata={"k": "v"}))
    assert job.id.startswith("pjb-")
    assert job.status == "PENDING"
    assert (job.tier, job.name, job.user_metadata) == ("fast", "doc.pdf", {"k": "v"})
    done = wait_for_job(client, job.id)
    assert done["status"] == "COMPLETED"
    assert done["error_message"] is None


def test_create_by_upload(client: TestClient, docs: dict[str, bytes]) -> None:
    response = client.post(
        "/api/v2/parse/upload",
        files={"file": ("notes.txt", docs["text"], "text/plain")},
        data={"configuration": '{"tier": "fast", "version": "latest"}'},
    )
    assert response.status_code == 200, response.text
    job = strict_validate(ParseJob, response.json())
    assert wait_for_job(client, job.id)["status"] == "COMPLETED"
    body = client.get(f"/api/v2/parse/{job.id}", params={"expand": "text_full"}).json()
    assert "Second paragraph." in body["text_full"]


@pytest.mark.parametrize(
    ("configuration", "loc"),
    [
        (None, ["body", "configuration"]),
        ("{not json", ["body", "configuration"]),
        ('{"version": "latest"}', ["body", "configuration", "tier"]),
        ('{"tier": "invalid_tier", "version": "latest"}', ["tier"]),
    ],
)
def test_upload_bad_configuration(
    client: TestClient, docs: dict[str, bytes], configuration: str | None, loc: list[str]
) -> None:
    data = {"configuration": configuration} if configuration is not None else {}
    response = client.post(
        "/api/v2/parse/upload", files={"file": ("a.txt", docs["text"])}, data=data
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


def test_unknown_tier_is_the_seed_body(client: TestClient, docs: dict[str, bytes]) -> None:
    file_id = upload(client, docs["simple"])["id"]
    response = client.post(
        "/api/v2/parse", json={"file_id": file_id, "tier": "invalid_tier", "version": "latest"}
    )
    assert response.status_code == 422
    assert response.json() == SEED_TIER_ERROR


@pytest.mark.parametrize("tier", ["agentic", "agentic_plus"])
def test_agentic_without_model_endpoint(client: TestClient, tier: str) -> None:
    response = client.post(
        "/api/v2/parse", json={"source_url": "http://x/a.pdf", "tier": tier, "version": "latest"}
    )
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["tier"]
    assert "LAMINA_MODEL_URL" in detail["msg"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"tier": "fast", "version": "latest"}, 422),
        ({"file_id": "dfl-nope", "tier": "fast", "version": "latest"}, 404),
        ({"source_url": "ftp://x/a.pdf", "tier": "fast", "version": "latest"}, 422),
        ({"source_url": "http://x/a.pdf", "tier": "fast", "version": "v9"}, 422),
        ({"source_url": "http://x/a.pdf", "version": "latest"}, 422),
        ({"source_url": "http://x/a.pdf", "tier": "fast", "page_ranges": {"max_pages": 0}}, 422),
    ],
)
def test_create_rejects_bad_bodies(client: TestClient, body: dict[str, Any], status: int) -> None:
    response = client.post("/api/v2/parse", json=body)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list if status == 422 else str)


def test_get_unknown_job_is_404(client: TestClient) -> None:
    response = client.get("/api/v2/parse/pjb-nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "Parse job not found: pjb-nope"}


def test_get_without_expand_is_job_only(client: TestClient, completed: str) -> None:
    body = client.get(f"/api/v2/parse/{completed}").json()
    assert set(body) == {"job"}
    strict_validate(ParseResponse, body)


def test_get_with_every_expand(client: TestClient, completed: str) -> None:
    response = client.get(f"/api/v2/parse/{completed}", params={"expand": ",".join(EXPAND_VALUES)})
    assert response.status_code == 200
    body = response.json()
    parsed = strict_validate(ParseResponse, body)
    assert parsed.job.status == "COMPLETED"
    markdown = strict_validate(MarkdownResult, body["markdown"])
    assert SIMPLE_TITLE in markdown.pages[0].markdown  # type: ignore[union-attr]
    text = strict_validate(TextResult, body["text"])
    assert SIMPLE_PARAGRAPH in text.pages[0].text
    items = strict_validate(ItemsResult, body["items"])
    assert items.pages[0].items  # type: ignore[union-attr]
    metadata = strict_validate(MetadataResult, body["metadata"])
    assert [p.page_number for p in metadata.pages] == [1]
    assert SIMPLE_TITLE in body["markdown_full"] and SIMPLE_PARAGRAPH in body["text_full"]
    assert body["job_metadata"]["page_count"] == 1
    assert body["raw_parameters"]["tier"] == "fast"
    contents = body["result_content_metadata"]
    for key in ("text", "markdown", "items", "metadata", "text_full", "markdown_full"):
        assert contents[key]["exists"] is True and contents[key]["size_bytes"] > 0
        assert contents[key]["presigned_url"]
    for key in ("xlsx", "outputPDF", "raw_words"):
        assert contents[key] == {"size_bytes": 0, "exists": False}
    assert body["images_content_metadata"] == {"total_count": 0, "images": []}
    # The same keys in the same order, whatever order the expand values came in (a response
    # that hashes differently on every call defeats caches keyed by its bytes).
    again = client.get(
        f"/api/v2/parse/{completed}", params={"expand": ",".join(reversed(EXPAND_VALUES))}
    ).json()
    assert list(again["result_content_metadata"]) == list(contents)


@pytest.mark.parametrize("value", EXPAND_VALUES)
def test_each_expand_alone(client: TestClient, completed: str, value: str) -> None:
    body = client.get(f"/api/v2/parse/{completed}", params={"expand": value}).json()
    strict_validate(ParseResponse, body)
    if value.endswith("_content_metadata") and value != "images_content_metadata":
        assert len(body["result_content_metadata"]) == 1
    else:
        assert value in body, body


def test_repeated_expand_params(client: TestClient, completed: str) -> None:
    params = [("expand", "markdown"), ("expand", "text,items")]
    body = client.get(f"/api/v2/parse/{completed}", params=params).json()
    assert {"markdown", "text", "items"} <= set(body)


def test_unknown_expand_is_422(client: TestClient, completed: str) -> None:
    response = client.get(f"/api/v2/parse/{completed}", params={"expand": "markdown,bogus"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "expand"]


def test_presigned_result_download(client: TestClient, completed: str) -> None:
    body = client.get(
        f"/api/v2/parse/{completed}",
        params={"expand": "markdown_full,markdown_full_content_metadata"},
    ).json()
    url = body["result_content_metadata"]["markdown_full"]["presigned_url"]
    download = client.get(url)
    assert download.status_code == 200
    assert download.text == body["markdown_full"]


def test_presigned_result_tampered_or_expired(client: TestClient, completed: str) -> None:
    body = client.get(f"/api/v2/parse/{completed}", params={"expand": "text_content_metadata"})
    url: str = body.json()["result_content_metadata"]["text"]["presigned_url"]
    assert client.get(url).status_code == 200
    assert client.get(url.replace("text.json", "items.json")).status_code == 403
    signature = url.rsplit("signature=", 1)[1]
    forged = url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    assert client.get(forged).status_code == 403
    expires = url.split("expires=")[1].split("&")[0]
    assert client.get(url.replace(f"expires={expires}", "expires=1000")).status_code == 403
    services = client.app.state.services  # type: ignore[attr-defined]
    path = f"/api/v2/parse/{completed}/results/text.json"
    query, _ = services.signer.sign(path, project="default", ttl_seconds=-5)
    expired = client.get(f"{path}?{query.encode()}")
    assert expired.status_code == 403
    assert "expired" in expired.json()["detail"]


def test_images_metadata_and_filter(tmp_path: Any, docs: dict[str, bytes]) -> None:
    from lamina.engine.result import ExtractedImage, ParseResult
    from lamina.services.runtime.execution import write_results

    with running_app(tmp_path / "data") as app_client:
        job = create_job(app_client, upload(app_client, docs["simple"])["id"])
        wait_for_job(app_client, job["id"])
        services = app_client.app.state.services  # type: ignore[attr-defined]
        result = ParseResult(
            file_type="pdf",
            page_count=1,
            pages=[],
            engine_version="test",
            images=[
                ExtractedImage(
                    filename=f"image_{i}.png",
                    page_number=1,
                    category="embedded",
                    bbox=(1, 2, 3, 4),
                    data=b"png%d" % i,
                )
                for i in range(2)
            ],
        )
        with services.storage.staged_results(job["id"]) as folder:
            write_results(folder, result, 0.1)
        url = f"/api/v2/parse/{job['id']}"
        body = app_client.get(url, params={"expand": "images_content_metadata"}).json()
        images = strict_validate(ParseResponse, body).images_content_metadata
        assert images is not None and images.total_count == 2
        assert images.images[0].bbox is not None and images.images[0].bbox.w == 3
        assert app_client.get(images.images[1].presigned_url or "").content == b"png1"
        filtered = app_client.get(
            url, params={"expand": "images_content_metadata", "image_filenames": "image_1.png"}
        ).json()["images_content_metadata"]
        assert [i["filename"] for i in filtered["images"]] == ["image_1.png"]


def test_content_of_unfinished_job_is_withheld(client: TestClient, docs: dict[str, bytes]) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    services.runner.stop()  # nothing runs: the job stays PENDING
    job = create_job(client, upload(client, docs["simple"])["id"])
    body = client.get(
        f"/api/v2/parse/{job['id']}",
        params={"expand": "markdown,text_content_metadata,raw_parameters,job_metadata"},
    ).json()
    assert body["job"]["status"] == "PENDING"
    assert set(body) == {"job", "raw_parameters", "job_metadata"}


def test_list_pagination_and_filters(client: TestClient, docs: dict[str, bytes]) -> None:
    file_id = upload(client, docs["simple"])["id"]
    ids = []
    for _ in range(5):
        ids.append(create_job(client, file_id)["id"])
        time.sleep(0.002)
    bad = client.post(
        "/api/v2/parse",
        json={
            "file_id": upload(client, docs["corrupt"])["id"],
            "tier": "fast",
            "version": "latest",
        },
    ).json()
    for job_id in [*ids, bad["id"]]:
        wait_for_job(client, job_id)

    seen: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"page_size": 4, **({"page_token": token} if token else {})}
        page = client.get("/api/v2/parse", params=params).json()
        assert page["total_size"] == 6
        for item in page["items"]:
            strict_validate(ParseJob, item)
        seen += [item["id"] for item in page["items"]]
        token = page["next_page_token"]
        if not token:
            break
    assert seen == [bad["id"], *reversed(ids)]  # newest first

    failed = client.get("/api/v2/parse", params={"status": "FAILED"}).json()
    assert [j["id"] for j in failed["items"]] == [bad["id"]]
    completed = client.get("/api/v2/parse", params={"status": "COMPLETED"}).json()
    assert completed["total_size"] == 5
    by_ids = client.get("/api/v2/parse", params=[("job_ids", ids[0]), ("job_ids", ids[1])]).json()
    assert {j["id"] for j in by_ids["items"]} == set(ids[:2])
    assert client.get("/api/v2/parse", params={"status": "DONE"}).status_code == 422

    first = client.get(f"/api/v2/parse/{ids[2]}").json()["job"]["created_at"]
    after = client.get("/api/v2/parse", params={"created_at_on_or_after": first}).json()
    assert {j["id"] for j in after["items"]} == {ids[2], ids[3], ids[4], bad["id"]}
    before = client.get("/api/v2/parse", params={"created_at_on_or_before": first}).json()
    assert {j["id"] for j in before["items"]} == set(ids[:3])


def test_cancel_and_delete(client: TestClient, docs: dict[str, bytes], completed: str) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    services.runner.stop()
    job = create_job(client, upload(client, docs["simple"])["id"])
    cancelled = client.post(f"/api/v2/parse/{job['id']}/cancel")
    assert cancelled.status_code == 200
    assert strict_validate(ParseJob, cancelled.json()).status == "CANCELLED"
    assert client.post(f"/api/v2/parse/{job['id']}/cancel").json()["status"] == "CANCELLED"
    again = client.post(f"/api/v2/parse/{completed}/cancel")
    assert again.status_code == 400
    assert "already COMPLETED" in again.json()["detail"]

    deleted = client.delete(f"/api/v2/parse/{completed}")
    assert deleted.json() == {"id": completed, "project_id": "default"}
    assert client.get(f"/api/v2/parse/{completed}").status_code == 404
    assert not services.storage.result_dir(completed).exists()
    assert client.delete(f"/api/v2/parse/{completed}").status_code == 404


def test_versions(client: TestClient) -> None:
    body = client.get("/api/v2/parse/versions").json()
    for tier in ("fast", "cost_effective", "agentic", "agentic_plus"):
        assert body["latest"][tier] in body[tier]


def test_source_url(tmp_path: Path, doc_server: str) -> None:
    # The document server is on loopback: the operator admits it (denied by default).
    with running_app(tmp_path / "data", outbound_allow=("127.0.0.1",)) as client:
        _check_source_url(client, doc_server)


def _check_source_url(client: TestClient, doc_server: str) -> None:
    ok = client.post(
        "/api/v2/parse",
        json={"source_url": f"{doc_server}/doc.pdf", "tier": "fast", "version": "latest"},
    ).json()
    missing = client.post(
        "/api/v2/parse",
        json={"source_url": f"{doc_server}/missing.pdf", "tier": "fast", "version": "latest"},
    ).json()
    assert ok["name"] == "doc.pdf"
    assert wait_for_job(client, ok["id"])["status"] == "COMPLETED"
    failed = wait_for_job(client, missing["id"])
    assert failed["status"] == "FAILED"
    assert (
        failed["error_message"] == f"Could not fetch source_url {doc_server}/missing.pdf: HTTP 404"
    )


def test_validation_errors_are_json_safe(client: TestClient) -> None:
    response = client.post(
        "/api/v2/parse", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    for entry in response.json()["detail"]:
        assert set(entry) == {"type", "loc", "msg", "input"}
