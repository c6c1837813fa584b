"""Files and results in S3-compatible object storage, end to end: two API replicas and a
Celery worker, each with a data dir of its own (nothing shared on disk), over the real
PostgreSQL and RabbitMQ, driven by the official SDK.

The object store is moto's standalone S3 server on a loopback port: it stands in for S3, which
cannot run here, and is reached over HTTP through boto3 exactly as S3 would be.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.distributed.conftest import need_broker
from tests.distributed.test_cluster import KEYS, sdk
from tests.fixtures.business import INVOICE, invoice_schema, make_invoice_pdf
from tests.fixtures.cluster import BROKERS, Cluster
from tests.fixtures.documents import SIMPLE_TITLE, make_simple_pdf
from tests.fixtures.s3 import ObjectStore

pytestmark = [pytest.mark.slow, pytest.mark.heavy]


def _on(url: str, base_url: str) -> str:
    """``url`` (a presigned link one replica made) sent to another replica."""
    parts = urlsplit(url)
    return f"{base_url}{parts.path}?{parts.query}"


def test_parse_extract_and_presigned_urls_through_s3(
    object_store: ObjectStore, tmp_path: Path
) -> None:
    need_broker(BROKERS["rabbitmq"])
    bucket = object_store.new_bucket()
    storage_url = f"s3://{bucket}/deploy"
    with Cluster(
        tmp_path / "s3",
        BROKERS["rabbitmq"],
        storage_url=storage_url,
        LAMINA_API_KEYS=KEYS,
        LAMINA_LOG_FORMAT="json",
        **object_store.env,
    ) as c:
        first, second = c.add_replica("--log-level", "info"), c.add_replica("--log-level", "info")
        c.add_worker()
        one, two = sdk(first.base_url), sdk(second.base_url)
        ready = httpx.get(f"{second.base_url}/ready").json()
        assert ready["checks"] == {"database": True, "storage": True, "broker": True}
        worker_ready = httpx.get(f"http://127.0.0.1:{c.workers[0].health_port}/ready").json()
        assert worker_ready["checks"]["storage"] is True

        pdf = make_simple_pdf(tmp_path).read_bytes()
        file = one.files.create(file=("simple.pdf", io.BytesIO(pdf)), purpose="parse")
        assert object_store.keys(bucket, "deploy/files/") == [f"deploy/files/{file.id}"]
        # The file's presigned URL made by one replica downloads from the other.
        link = two.files.content(file.id).url
        assert httpx.get(_on(link, first.base_url)).content == pdf

        job = one.parsing.create(tier="fast", version="latest", file_id=file.id)
        done = two.parsing.wait_for_completion(job.id, polling_interval=0.2, timeout=120)
        assert done.status == "COMPLETED", done.error_message
        results = object_store.keys(bucket, f"deploy/results/{job.id}/")
        assert f"deploy/results/{job.id}/markdown.json" in results
        got = two.parsing.get(job.id, expand=["markdown", "markdown_content_metadata"])
        assert got.markdown is not None and SIMPLE_TITLE in got.markdown.pages[0].markdown  # type: ignore[union-attr]
        meta = got.result_content_metadata
        assert meta is not None and meta["markdown"].presigned_url
        for replica in (first, second):  # signed by replica two, served by either
            fetched = httpx.get(_on(meta["markdown"].presigned_url, replica.base_url))
            assert fetched.status_code == 200 and SIMPLE_TITLE in fetched.text

        # The same file again: a cache hit, its results copied inside the object store.
        again = two.parsing.create(tier="fast", version="latest", file_id=file.id)
        hit = one.parsing.wait_for_completion(again.id, polling_interval=0.2, timeout=120)
        assert hit.status == "COMPLETED"
        meta_again = one.parsing.get(again.id, expand=["job_metadata"]).job_metadata
        assert meta_again is not None and meta_again.get("cached_from") == job.id  # type: ignore[union-attr]
        assert f"deploy/results/{again.id}/markdown.json" in object_store.keys(
            bucket, f"deploy/results/{again.id}/"
        )

        invoice = make_invoice_pdf(tmp_path).read_bytes()
        inv = two.files.create(file=("invoice.pdf", io.BytesIO(invoice)), purpose="extract")
        ext = two.extract.create(
            file_input=inv.id,
            configuration={"data_schema": invoice_schema(), "tier": "cost_effective"},  # type: ignore[arg-type]
        )
        finished = one.extract.wait_for_completion(ext.id, polling_interval=0.2, timeout=120)
        assert finished.status == "COMPLETED"
        assert finished.extract_result["total"] == INVOICE["total"]  # type: ignore[index]

        # Every process logged JSON lines; those about the job name it and its project.
        logs = {
            p.log: [json.loads(line) for line in p.log.read_text().splitlines() if line]
            for p in [*c.workers, *c.replicas]
        }
        about = [r for records in logs.values() for r in records if r.get("job_id") == job.id]
        assert all(r["project_id"] == "proj-a" for r in about)
        messages = {r["message"] for r in about}
        assert f"job {job.id}: released to the workers" in messages  # by the releasing replica
        assert f"job {job.id}: COMPLETED" in messages  # by the worker
        assert any(  # the replicas' access lines name the caller's project
            r.get("path") == "/api/v2/parse" and r.get("project_id") == "proj-a"
            for records in logs.values()
            for r in records
        )

        # Deleting through one replica removes the objects.
        one.parsing.delete(job.id)
        assert object_store.keys(bucket, f"deploy/results/{job.id}/") == []
        # No process kept uploads or results on its own disk: they are all in the bucket.
        for folder in c.root.iterdir():
            if folder.is_dir():
                assert not list(folder.glob("files/*")), folder
                assert not list(folder.glob("results/*")), folder
                assert not (folder / "signing.key").exists()
