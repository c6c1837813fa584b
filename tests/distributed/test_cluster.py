"""Scale-out end to end: API replicas and Celery workers as separate processes on their own
ports, over the real PostgreSQL and a real broker (RabbitMQ, and Redis in one
parametrisation), driven by the official ``llama-cloud`` SDK as a LlamaCloud user would.

Jobs are created through one replica and followed through the other: nothing is kept in a
replica's memory. A worker killed with SIGKILL mid-job loses nothing and runs nothing twice.
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.distributed.conftest import need_broker
from tests.fixtures.business import INVOICE, invoice_schema, make_invoice_pdf
from tests.fixtures.cluster import BROKERS, Cluster
from tests.fixtures.documents import SIMPLE_TITLE, make_multipage_pdf, make_simple_pdf
from tests.fixtures.server import free_port

pytestmark = pytest.mark.slow

KEYS = "key-a:proj-a,key-b:proj-b"


def sdk(base_url: str, key: str = "key-a"):  # type: ignore[no-untyped-def]
    from llama_cloud import LlamaCloud

    return LlamaCloud(api_key=key, base_url=base_url, max_retries=0, timeout=60)


@pytest.fixture(
    scope="module",
    params=["rabbitmq", "redis"],
)
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    url = BROKERS[request.param]
    need_broker(url)
    root = tmp_path_factory.mktemp(f"cluster-{request.param}")
    with Cluster(root, url, LAMINA_API_KEYS=KEYS, LAMINA_METRICS="1") as c:
        c.add_replica()
        c.add_replica()
        c.add_worker()
        c.add_worker()
        yield c


@pytest.mark.heavy
def test_parse_extract_batch_through_two_replicas_and_two_workers(
    cluster: Cluster, tmp_path: Path
) -> None:
    one, two = (sdk(r.base_url) for r in cluster.replicas)
    # Health and readiness of every process.
    for replica in cluster.replicas:
        assert httpx.get(f"{replica.base_url}/health").status_code == 200
        ready = httpx.get(f"{replica.base_url}/ready").json()
        assert ready["checks"] == {"database": True, "broker": True}
    for worker in cluster.workers:
        assert httpx.get(f"http://127.0.0.1:{worker.health_port}/ready").status_code == 200

    # Parse: upload and create on one replica, wait and read (presigned URL too) on the other.
    pdf = make_simple_pdf(tmp_path).read_bytes()
    file = one.files.create(file=("simple.pdf", io.BytesIO(pdf)), purpose="parse")
    job = one.parsing.create(tier="fast", version="latest", file_id=file.id)
    done = two.parsing.wait_for_completion(job.id, polling_interval=0.2, timeout=120)
    assert done.status == "COMPLETED", done.error_message
    got = two.parsing.get(job.id, expand=["markdown", "markdown_content_metadata"])
    assert got.markdown is not None and SIMPLE_TITLE in got.markdown.pages[0].markdown  # type: ignore[union-attr]
    meta = got.result_content_metadata
    assert meta is not None and meta["markdown"].presigned_url
    fetched = httpx.get(meta["markdown"].presigned_url)
    assert fetched.status_code == 200 and SIMPLE_TITLE in fetched.text

    # Extract: the invoice through the other replica.
    invoice = make_invoice_pdf(tmp_path).read_bytes()
    inv = two.files.create(file=("invoice.pdf", io.BytesIO(invoice)), purpose="extract")
    ext = two.extract.create(
        file_input=inv.id,
        configuration={"data_schema": invoice_schema(), "tier": "cost_effective"},  # type: ignore[arg-type]
    )
    finished = one.extract.wait_for_completion(ext.id, polling_interval=0.2, timeout=120)
    assert finished.status == "COMPLETED"
    assert finished.extract_result["total"] == INVOICE["total"]  # type: ignore[index]

    # A v2 batch over a directory: created on one replica, followed on the other, its items
    # run by the workers, the batch moved by whichever replica leads.
    directory = one.beta.directories.create(name="scale", description="cluster")
    for i in range(6):
        one.beta.directories.files.upload(
            directory.id,
            upload_file=(
                f"n{i}.txt",
                io.BytesIO(f"# Note {i}\n\nBody {i}.\n".encode()),
                "text/plain",
            ),
        )
    batch = two.batches.create(
        source_directory_id=directory.id,
        config={"job": {"type": "parse_v2", "configuration_id": "cfg-PARSE_FAST"}},
    )
    deadline = time.monotonic() + 180
    while (state := one.batches.get(batch.id, expand=["results"])).status != "COMPLETED":
        assert state.status in ("PENDING", "RUNNING") and time.monotonic() < deadline, state
        time.sleep(0.3)
    assert state.results is not None and len(state.results) == 6
    for result in state.results:
        assert result.job_reference is not None
        assert two.parsing.get(result.job_reference.id).job.status == "COMPLETED"
    # Every outcome was recorded once, by one worker.
    assert all(n == 1 for n in Counter(cluster.recorded_jobs()).values())
    # Any replica reports the deployment's metrics (read from the shared database).
    metrics = httpx.get(f"{cluster.replicas[1].base_url}/metrics").text
    assert "lamina_workers 2.0" in metrics
    assert 'lamina_jobs{kind="extract",status="COMPLETED"} 1.0' in metrics
    assert 'lamina_job_duration_seconds_count{tier="fast"}' in metrics


def _running_in(engine: sa.Engine, pgid: int) -> str | None:
    """The id of a job whose lease is held by a process of the group ``pgid``, if any."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, lease_owner FROM parse_jobs WHERE status = 'RUNNING'")
        ).all()
    for job_id, owner in rows:
        pid = int(owner.split("/")[1])
        try:
            if os.getpgid(pid) == pgid:
                return str(job_id)
        except ProcessLookupError:
            continue
    return None


@pytest.mark.heavy
def test_sigkill_of_a_worker_loses_nothing_and_runs_nothing_twice(
    cluster: Cluster, tmp_path: Path
) -> None:
    count = 40
    replicas = [sdk(r.base_url) for r in cluster.replicas]
    pdf = make_multipage_pdf(tmp_path, pages=12).read_bytes()  # a second or so per job
    file = replicas[0].files.create(file=("multi.pdf", io.BytesIO(pdf)), purpose="parse")
    victim = cluster.workers[0]
    engine = sa.create_engine(cluster.database_url)
    found: list[str] = []

    def kill_the_victim_mid_job() -> None:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            job_id = _running_in(engine, victim.proc.pid)
            if job_id is not None:
                found.append(job_id)
                victim.kill()
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_the_victim_mid_job)
    killer.start()
    jobs = [
        replicas[i % 2]
        .parsing.create(
            tier="cost_effective",
            version="latest",
            file_id=file.id,
            extra_body={"disable_cache": True},  # each job really runs
        )
        .id
        for i in range(count)
    ]
    killer.join()
    assert found, "the victim never ran a job"
    killed_job = found[0]
    cluster.add_worker()  # a replacement, as an orchestrator would start one

    statuses: dict[str, str] = {}
    deadline = time.monotonic() + 300
    while len(statuses) < count:
        assert time.monotonic() < deadline, f"{count - len(statuses)} job(s) never finished"
        for i, job_id in enumerate(jobs):
            if job_id not in statuses:
                job = replicas[i % 2].parsing.get(job_id).job
                if job.status in ("COMPLETED", "FAILED", "CANCELLED"):
                    statuses[job_id] = job.status
        time.sleep(0.5)
    assert set(statuses.values()) == {"COMPLETED"}
    recorded = Counter(cluster.recorded_jobs())
    assert {job for job in recorded if job in statuses} == set(jobs)
    assert all(recorded[job] == 1 for job in jobs), [j for j in jobs if recorded[j] != 1]
    with engine.connect() as conn:
        attempts = conn.execute(
            sa.text("SELECT attempts FROM parse_jobs WHERE id = :id"), {"id": killed_job}
        ).scalar_one()
    engine.dispose()
    assert attempts >= 2  # the killed attempt, then the one that completed


def test_broker_outage_answers_503_with_retry_after_and_creates_nothing(
    tmp_path: Path,
) -> None:
    need_broker(BROKERS["rabbitmq"])  # the rest of the stack must be there
    dead = f"amqp://guest:guest@127.0.0.1:{free_port()}//"  # nothing listens there
    with Cluster(tmp_path / "outage", dead, LAMINA_API_KEYS=KEYS) as c:
        replica = c.add_replica()
        http = httpx.Client(
            base_url=replica.base_url, headers={"Authorization": "Bearer key-a"}, timeout=30
        )
        up = http.post(
            "/api/v1/beta/files",
            files={"file": ("a.txt", b"hello")},
            data={"purpose": "parse"},
        )
        assert up.status_code == 200  # uploads need no broker
        deadline = time.monotonic() + 30
        while (ready := http.get("/ready")).status_code == 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert ready.status_code == 503 and ready.json()["checks"]["broker"] is False
        created = http.post(
            "/api/v2/parse",
            json={"file_id": up.json()["id"], "tier": "fast", "version": "latest"},
        )
        assert created.status_code == 503, created.text
        assert int(created.headers["Retry-After"]) >= 1
        assert http.get("/api/v2/parse").json()["items"] == []  # nothing half-created
        http.close()


@pytest.mark.heavy
def test_a_job_that_kills_its_worker_three_times_fails_with_a_message(tmp_path: Path) -> None:
    need_broker(BROKERS["rabbitmq"])
    with Cluster(tmp_path / "crashy", BROKERS["rabbitmq"], LAMINA_API_KEYS=KEYS) as c:
        api = sdk(c.add_replica().base_url)
        pdf = make_multipage_pdf(tmp_path, pages=40).read_bytes()  # long enough to be caught
        file = api.files.create(file=("long.pdf", io.BytesIO(pdf)), purpose="parse")
        engine = sa.create_engine(c.database_url)
        worker = c.add_worker()
        job = api.parsing.create(tier="cost_effective", version="latest", file_id=file.id)
        for _attempt in range(3):  # each time a worker runs it, the worker dies
            deadline = time.monotonic() + 120
            while _running_in(engine, worker.proc.pid) != job.id:
                assert time.monotonic() < deadline, "the job was not run again"
                time.sleep(0.02)
            worker.kill()
            worker = c.add_worker()
        deadline = time.monotonic() + 120
        while (done := api.parsing.get(job.id).job).status in ("PENDING", "RUNNING"):
            assert time.monotonic() < deadline, "the job never failed"
            time.sleep(0.3)
        engine.dispose()
        assert done.status == "FAILED"
        assert "stopped unexpectedly 3 times" in (done.error_message or "")
        assert c.recorded_jobs() == []  # no worker ever recorded an outcome for it


@pytest.mark.heavy
def test_sigkill_of_the_leading_replica_mid_batch_hands_the_batch_to_another(
    tmp_path: Path,
) -> None:
    need_broker(BROKERS["rabbitmq"])
    with Cluster(tmp_path / "leader", BROKERS["rabbitmq"], LAMINA_API_KEYS=KEYS) as c:
        leader = c.add_replica()  # first up: it takes the leader lock
        time.sleep(2)
        survivor = c.add_replica()
        c.add_worker()
        first, second = sdk(leader.base_url), sdk(survivor.base_url)
        directory = first.beta.directories.create(name="failover")
        for i in range(20):
            body = f"# Note {i}\n\n" + f"Paragraph {i}.\n" * 200
            first.beta.directories.files.upload(
                directory.id, upload_file=(f"n{i}.txt", io.BytesIO(body.encode()), "text/plain")
            )
        batch = first.batches.create(
            source_directory_id=directory.id,
            config={"job": {"type": "parse_v2", "configuration_id": "cfg-PARSE_FAST"}},
        )
        leader.kill()  # mid-batch: its dispatcher and webhook loops die with it
        deadline = time.monotonic() + 180
        while (state := second.batches.get(batch.id, expand=["results"])).status != "COMPLETED":
            assert state.status in ("PENDING", "RUNNING") and time.monotonic() < deadline, state
            time.sleep(0.3)
        assert state.results is not None and len(state.results) == 20
        jobs = [r.job_reference.id for r in state.results if r.job_reference is not None]
        assert len(set(jobs)) == 20
        assert all(second.parsing.get(j).job.status == "COMPLETED" for j in jobs)
        assert all(n == 1 for n in Counter(c.recorded_jobs()).values())
