"""Processes killed with SIGKILL, for real: a worker mid-job and the broker itself during a
200-job run beside a 100-file batch, an API replica mid-upload and mid-batch-create. Every
accepted job completes exactly once; nothing half-created is ever visible.

The broker killed here is a ``redis-server`` each test starts on a spare port (the machine's
RabbitMQ and Redis are shared with other work and are never killed); it runs without
persistence, so its restart comes back empty: the jobs it held must be published again from
PostgreSQL, the only place job state lives.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.distributed.conftest import need_broker
from tests.distributed.test_cluster import KEYS, _running_in, sdk
from tests.fixtures.cluster import BROKERS, Cluster, RedisServer
from tests.fixtures.documents import make_multipage_pdf
from tests.fixtures.s3 import ObjectStore

pytestmark = [pytest.mark.slow, pytest.mark.heavy]

SINGLE = "id NOT IN (SELECT job_id FROM batch_items WHERE job_id IS NOT NULL)"
"""SQL: a parse job that is not a batch item."""
UNLIMITED = {"LAMINA_RATE_LIMIT_PER_SECOND": "0", "LAMINA_CREATE_RATE_LIMIT_PER_SECOND": "0"}


def _count(engine: sa.Engine, where: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(sa.text(f"SELECT count(*) FROM parse_jobs WHERE {where}")).scalar_one()
        )


def _wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_200_jobs_and_a_batch_through_a_worker_sigkill_and_a_broker_restart(
    tmp_path: Path,
) -> None:
    need_broker(BROKERS["redis"])
    redis = RedisServer(tmp_path)
    try:
        # 40 jobs in the broker at once: most wait in its queue, where the kill loses them.
        env = {"LAMINA_API_KEYS": KEYS, "LAMINA_MAX_INFLIGHT_PER_PROJECT": "40", **UNLIMITED}
        with Cluster(tmp_path / "c", redis.url, **env) as c:
            replicas = [c.add_replica(), c.add_replica()]
            apis = [sdk(r.base_url) for r in replicas]
            engine = sa.create_engine(c.database_url)
            pdf = make_multipage_pdf(tmp_path, pages=3).read_bytes()  # a quarter second a job
            file = apis[0].files.create(file=("m.pdf", io.BytesIO(pdf)), purpose="parse")
            jobs = [
                apis[i % 2]
                .parsing.create(
                    tier="fast",
                    version="latest",
                    file_id=file.id,
                    extra_body={"disable_cache": True},
                )
                .id
                for i in range(200)
            ]
            # Meanwhile project B runs a 100-file batch (its jobs made by the leading replica).
            b = sdk(replicas[1].base_url, "key-b")
            directory = b.beta.directories.create(name="kill")
            for i in range(100):
                note = f"# Note {i}\n\nBody {i}.\n".encode()
                b.beta.directories.files.upload(
                    directory.id, upload_file=(f"n{i}.txt", io.BytesIO(note), "text/plain")
                )
            batch = b.batches.create(
                source_directory_id=directory.id,
                config={"job": {"type": "parse_v2", "configuration_id": "cfg-PARSE_FAST"}},
            )
            victim = c.add_worker()  # the workers start on a full queue
            c.add_worker()
            completed = lambda: _count(engine, "status = 'COMPLETED'")  # noqa: E731

            # A worker dies mid-job a fifth of the way in; an orchestrator starts another.
            _wait(lambda: completed() >= 40, 180, "the run did not start")
            _wait(lambda: _running_in(engine, victim.proc.pid) is not None, 60, "victim idle")
            killed_job = _running_in(engine, victim.proc.pid)
            victim.kill()
            c.add_worker()

            # Half way, the broker dies: queued and unacknowledged messages are gone.
            _wait(lambda: completed() >= 100, 180, "the run stalled after the worker kill")
            redis.kill()
            for replica in replicas:  # each replica notices and refuses new work
                _wait(
                    lambda r=replica: httpx.get(f"{r.base_url}/ready").status_code == 503,
                    30,
                    "a replica kept saying ready",
                )
            for replica in replicas:
                refused = httpx.post(
                    f"{replica.base_url}/api/v2/parse",
                    headers={"Authorization": "Bearer key-a"},
                    json={"file_id": file.id, "tier": "fast", "version": "latest"},
                    timeout=30,
                )
                assert refused.status_code == 503, refused.text
                assert int(refused.headers["Retry-After"]) >= 1
            assert _count(engine, SINGLE) == 200  # nothing created, nothing lost
            # Jobs the dead broker held: the restarted one knows nothing of them.
            assert _count(engine, "status = 'PENDING' AND released_at IS NOT NULL") > 0
            time.sleep(2)  # an outage of a few seconds
            redis.start()  # empty

            singles_done = f"status = 'COMPLETED' AND {SINGLE}"
            _wait(lambda: _count(engine, singles_done) == 200, 240, "jobs lost in the restart")
            deadline = time.monotonic() + 240
            while (state := b.batches.get(batch.id, expand=["results"])).status != "COMPLETED":
                assert state.status in ("PENDING", "RUNNING") and time.monotonic() < deadline
                time.sleep(0.3)
            assert state.results is not None and len(state.results) == 100
            batch_jobs = {r.job_reference.id for r in state.results if r.job_reference}
            assert len(batch_jobs) == 100
            assert _count(engine, "status <> 'COMPLETED'") == 0
            recorded = Counter(c.recorded_jobs())
            assert set(recorded) == set(jobs) | batch_jobs
            assert all(n == 1 for n in recorded.values()), [j for j, n in recorded.items() if n > 1]
            with engine.connect() as conn:
                attempts = conn.execute(
                    sa.text("SELECT attempts FROM parse_jobs WHERE id = :id"), {"id": killed_job}
                ).scalar_one()
            assert attempts >= 2
            # The replicas take work again.
            again = apis[1].parsing.create(tier="fast", version="latest", file_id=file.id)
            done = apis[0].parsing.wait_for_completion(again.id, polling_interval=0.2, timeout=60)
            assert done.status == "COMPLETED"
            engine.dispose()
    finally:
        redis.close()


def _post_until_killed(replica, path: str, **kwargs) -> list[object]:  # type: ignore[no-untyped-def]
    """POST in a thread; returns a list that gets the response or the error."""
    outcome: list[object] = []

    def send() -> None:
        try:
            outcome.append(
                httpx.post(
                    f"{replica.base_url}{path}",
                    headers={"Authorization": "Bearer key-a"},
                    timeout=120,
                    **kwargs,
                )
            )
        except httpx.HTTPError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    outcome.append(thread)
    return outcome


@pytest.mark.parametrize("storage", ["directory", "s3"])
def test_sigkill_of_a_replica_mid_upload_leaves_no_file(
    storage: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    need_broker(BROKERS["rabbitmq"])
    env: dict[str, str] = {"LAMINA_API_KEYS": KEYS}
    bucket = None
    if storage == "s3":
        store: ObjectStore = request.getfixturevalue("object_store")
        bucket = store.new_bucket()
        env.update(store.env)
    with Cluster(
        tmp_path / "c",
        BROKERS["rabbitmq"],
        storage_url=f"s3://{bucket}/up" if bucket else None,
        **env,
    ) as c:
        victim, survivor = c.add_replica(), c.add_replica()
        data = os.urandom(64 << 20)
        # Where the victim writes an upload while it is in progress: a temp file beside the
        # uploads (directory), or its local staging copy before the object is sent (s3).
        staging = (
            (c.root / "replica-0" / "tmp", "*.upload")
            if bucket
            else (c.storage / "files", ".*.tmp")
        )
        pending = _post_until_killed(
            victim,
            "/api/v1/beta/files",
            files={"file": ("big.bin", data)},
            data={"purpose": "parse"},
        )
        _wait(lambda: any(staging[0].glob(staging[1])), 60, "the upload never reached storage")
        victim.kill()  # mid-write
        pending[0].join(timeout=30)  # type: ignore[attr-defined]
        assert isinstance(pending[-1], httpx.HTTPError)  # the client saw the connection die

        api = sdk(survivor.base_url)
        assert api.files.list().items == []  # no record of a file...
        if bucket:  # ...and no object, whole or partial
            assert store.keys(bucket, "up/files/") == []
        else:
            assert [p for p in (c.storage / "files").iterdir() if not p.name.startswith(".")] == []
        # The next upload of the same bytes works and is whole.
        up = api.files.create(file=("big.bin", io.BytesIO(data)), purpose="parse")
        assert up.size_bytes == len(data)
        link = api.files.content(up.id).url
        assert (
            hashlib.sha256(httpx.get(link, timeout=60).content).digest()
            == hashlib.sha256(data).digest()
        )


def test_sigkill_of_a_replica_mid_batch_create_leaves_no_batch(tmp_path: Path) -> None:
    need_broker(BROKERS["rabbitmq"])
    with Cluster(tmp_path / "c", BROKERS["rabbitmq"], LAMINA_API_KEYS=KEYS, **UNLIMITED) as c:
        victim, survivor = c.add_replica(), c.add_replica()
        c.add_worker()
        api = sdk(survivor.base_url)
        file = api.files.create(file=("n.txt", io.BytesIO(b"# Note\n\nText.\n")), purpose="parse")
        engine = sa.create_engine(c.database_url)

        def creating() -> bool:
            with engine.connect() as conn:
                return bool(
                    conn.execute(
                        sa.text("SELECT count(*) FROM batch_jobs WHERE status = 'creating'")
                    ).scalar_one()
                )

        # 10,000 items (the most one request takes): written in chunks, under a status
        # nobody sees until the last transaction.
        pending = _post_until_killed(
            victim,
            "/api/v1/beta/batch-processing",
            json={
                "item_ids": [file.id] * 10_000,
                "job_config": {"parameters": {"tier": "fast"}},
            },
        )
        _wait(creating, 60, "the batch was never being created")
        victim.kill()  # mid-create
        pending[0].join(timeout=30)  # type: ignore[attr-defined]
        assert isinstance(pending[-1], httpx.HTTPError)
        assert creating()  # the half-written batch is there, in the database...

        http = httpx.Client(
            base_url=survivor.base_url, headers={"Authorization": "Bearer key-a"}, timeout=30
        )
        listed = http.get("/api/v1/beta/batch-processing").json()  # ...and seen by nobody
        assert listed.get("items", listed.get("data")) == []
        with engine.connect() as conn:
            batch_id = conn.execute(sa.text("SELECT id FROM batch_jobs")).scalar_one()
        assert http.get(f"/api/v1/beta/batch-processing/{batch_id}").status_code == 404
        time.sleep(2)  # the dispatcher of the survivor (now the leader) runs none of its items
        assert _count(engine, "true") == 0
        # A batch created afterwards runs.
        ok = http.post(
            "/api/v1/beta/batch-processing",
            json={"item_ids": [file.id] * 3, "job_config": {"parameters": {"tier": "fast"}}},
        )
        assert ok.status_code == 200, ok.text
        _wait(lambda: _count(engine, "status = 'COMPLETED'") == 3, 120, "the next batch stalled")
        http.close()
        engine.dispose()
