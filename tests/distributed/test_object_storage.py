"""S3-compatible object storage for uploads and results (``--storage s3://bucket/prefix``).

Run against a real S3-compatible HTTP server on loopback: moto's standalone server stands in
for S3 (which cannot run here); boto3 talks to it over HTTP exactly as it would to S3.
"""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from lamina.services.store.backends import open_storage
from lamina.services.store.object_storage import S3Storage
from lamina.services.store.storage import TooLargeError
from tests.fixtures.s3 import ObjectStore


def _storage(store: ObjectStore, bucket: str, root: Path, prefix: str = "team/lamina") -> S3Storage:
    storage = open_storage(root, f"s3://{bucket}/{prefix}", options=store.options)
    assert isinstance(storage, S3Storage)
    return storage


def test_uploads_are_objects_whole_or_absent(object_store: ObjectStore, tmp_path: Path) -> None:
    bucket = object_store.new_bucket()
    storage = _storage(object_store, bucket, tmp_path / "a")
    data = b"%PDF-1.4 pretend" * 1000
    size, sha = storage.write_file_from("file-1", io.BytesIO(data), max_bytes=1 << 20)
    assert size == len(data) and len(sha) == 64
    assert object_store.keys(bucket) == ["team/lamina/files/file-1"]
    # Another process with its own data dir reads the same bytes.
    assert _storage(object_store, bucket, tmp_path / "b").read_file("file-1") == data
    with pytest.raises(TooLargeError):
        storage.write_file_from("file-2", io.BytesIO(data), max_bytes=100)
    assert object_store.keys(bucket) == ["team/lamina/files/file-1"]  # nothing of file-2
    assert list((tmp_path / "a" / "tmp").iterdir()) == []  # nor a staging leftover
    storage.delete_file("file-1")
    assert object_store.keys(bucket) == []
    with pytest.raises(FileNotFoundError):
        storage.read_file("file-1")


def test_results_publish_replace_copy_and_delete(object_store: ObjectStore, tmp_path: Path) -> None:
    bucket = object_store.new_bucket()
    worker = _storage(object_store, bucket, tmp_path / "worker")
    api = _storage(object_store, bucket, tmp_path / "api")
    with worker.staged_results("job-1") as staging:
        (staging / "text.json").write_text(json.dumps({"pages": [1]}))
        (staging / "old.md").write_text("from the first attempt")
        (staging / "images").mkdir()
        (staging / "images" / "p1.png").write_bytes(b"\x89PNG fake")
    with worker.staged_results("job-1") as staging:  # a second attempt replaces the first
        (staging / "text.json").write_text(json.dumps({"pages": [1, 2]}))
        (staging / "images").mkdir()
        (staging / "images" / "p1.png").write_bytes(b"\x89PNG again")
    prefix = "team/lamina/results/job-1/"
    assert object_store.keys(bucket, prefix) == [prefix + "images/p1.png", prefix + "text.json"]
    assert api.read_result_json("job-1", "text.json") == {"pages": [1, 2]}
    assert api.read_result_text("job-1", "old.md") is None
    assert api.result_size("job-1", "images/p1.png") == len(b"\x89PNG again")
    assert api.result_size("job-1", "nope.json") is None
    path = api.result_path("job-1", "images/p1.png")
    assert path is not None and path.read_bytes() == b"\x89PNG again"
    missing = api.result_path("job-1", "missing.json")
    assert missing is not None and not missing.exists()
    assert api.result_path("job-1", "../escape") is None
    assert api.result_uri("job-1", "text.json") == f"s3://{bucket}/{prefix}text.json"

    # A cache hit copies another job's files (all but the skipped ones).
    with worker.staged_results("job-2") as staging:
        worker.copy_results("job-1", staging, skip=frozenset({"text.json"}))
    assert object_store.keys(bucket, "team/lamina/results/job-2/") == [
        "team/lamina/results/job-2/images/p1.png"
    ]
    with pytest.raises(FileNotFoundError):
        worker.copy_results("job-9", tmp_path / "x")

    api.delete_results("job-1")
    assert object_store.keys(bucket, prefix) == []
    assert not path.exists()  # the local copy went with it
    assert worker.read_result_json("job-1", "text.json") is None


def test_local_copies_of_results_stay_under_the_cache_size(
    object_store: ObjectStore, tmp_path: Path
) -> None:
    """Downloads fetch result files into a local cache; past ``cache_bytes`` the least
    recently used jobs' copies go (and come back from the bucket on their next use)."""
    bucket = object_store.new_bucket()
    worker = _storage(object_store, bucket, tmp_path / "worker")
    options = {**object_store.options, "cache_bytes": 3500}  # room for two jobs' copies
    api = open_storage(tmp_path / "api", f"s3://{bucket}/team/lamina", options=options)
    assert isinstance(api, S3Storage)
    jobs = ("job-1", "job-2", "job-3")
    for job in jobs:
        with worker.staged_results(job) as staging:
            (staging / "page.png").write_bytes(job.encode() * 300)  # 1500 bytes
    cached = {job: api.result_dir(job) / "page.png" for job in jobs}

    def download(job: str) -> None:
        path = api.result_path(job, "page.png")
        assert path == cached[job] and path.read_bytes() == job.encode() * 300
        time.sleep(0.02)  # distinct times of use

    for job in ("job-1", "job-2", "job-1", "job-3"):  # job-1 used again after job-2
        download(job)
    assert [cached[job].exists() for job in jobs] == [True, False, True]
    download("job-2")  # fetched again from the bucket; now job-1 is the oldest
    assert [cached[job].exists() for job in jobs] == [False, True, True]
    total = sum(f.stat().st_size for f in api.cache_dir.rglob("*") if f.is_file())
    assert total <= 3500


def test_progress_is_seen_by_every_process(object_store: ObjectStore, tmp_path: Path) -> None:
    bucket = object_store.new_bucket()
    worker = _storage(object_store, bucket, tmp_path / "worker")
    api = _storage(object_store, bucket, tmp_path / "api")
    assert api.read_progress("job-1") is None
    worker.write_progress("job-1", 3, 10)
    assert api.read_progress("job-1") == {"pages_done": 3, "pages_total": 10}
    worker.clear_progress("job-1")
    assert api.read_progress("job-1") is None


def test_replicas_starting_together_share_one_signing_secret(
    object_store: ObjectStore, tmp_path: Path
) -> None:
    bucket = object_store.new_bucket()
    replicas = [_storage(object_store, bucket, tmp_path / f"r{i}") for i in range(6)]
    secrets: list[bytes] = []
    start = threading.Barrier(len(replicas))

    def open_one(storage: S3Storage) -> None:
        start.wait()
        secrets.append(storage.signing_secret())

    threads = [threading.Thread(target=open_one, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(secrets) == 6 and len(set(secrets)) == 1 and len(secrets[0]) == 64
    assert object_store.keys(bucket) == ["team/lamina/signing.key"]
    assert not (tmp_path / "r0" / "signing.key").exists()  # nothing secret on local disk


def test_an_unknown_storage_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported storage URL"):
        open_storage(tmp_path, "gs://bucket/prefix")
    with pytest.raises(ValueError, match="names no bucket"):
        open_storage(tmp_path, "s3:///prefix")


@pytest.mark.slow
def test_a_plain_lamina_serve_keeps_files_and_results_in_the_bucket(
    object_store: ObjectStore, tmp_path: Path
) -> None:
    """No broker, no PostgreSQL: ``lamina serve --storage s3://...`` with its own worker
    processes (the local executor) reads inputs from and writes results to the bucket."""
    from tests.fixtures.documents import SIMPLE_TITLE, make_simple_pdf
    from tests.fixtures.server import serve

    bucket = object_store.new_bucket()
    server = serve(
        tmp_path / "data", "--workers", "1", "--storage", f"s3://{bucket}", **object_store.env
    )
    try:
        http = httpx.Client(base_url=server.base_url, timeout=30)
        up = http.post(
            "/api/v1/beta/files",
            files={"file": ("s.pdf", make_simple_pdf(tmp_path).read_bytes())},
            data={"purpose": "parse"},
        ).json()
        job = http.post(
            "/api/v2/parse", json={"file_id": up["id"], "tier": "fast", "version": "latest"}
        ).json()
        deadline = time.monotonic() + 60
        while (got := http.get(f"/api/v2/parse/{job['id']}").json())["job"]["status"] in (
            "PENDING",
            "RUNNING",
        ):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert got["job"]["status"] == "COMPLETED"
        body = http.get(f"/api/v2/parse/{job['id']}", params={"expand": "markdown_full"}).json()
        assert SIMPLE_TITLE in body["markdown_full"]
        keys = object_store.keys(bucket)
        assert f"files/{up['id']}" in keys and f"results/{job['id']}/markdown_full.md" in keys
        assert not list((tmp_path / "data").glob("files/*"))  # nothing kept on local disk
        http.close()
    finally:
        server.stop()
