"""The distributed executor's database side on the real PostgreSQL: fair release to the
broker, per-project limits, single jobs before batch items, claims of delivered jobs, lease
recovery, leadership. The broker is replaced by a list the releaser publishes into (the
publishing boundary; the cluster tests use the real brokers)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lamina.services.runtime.distributed.coordination import LeaderLock
from lamina.services.runtime.distributed.release import Releaser
from lamina.services.store.db import Database, new_id, utcnow
from lamina.services.store.tables import batch_items_table, jobs_table


@pytest.fixture
def db(pg_url: str) -> Database:
    database = Database(pg_url)
    database.create_schema()
    yield database
    database.dispose()


def add_jobs(db: Database, project: str, count: int, *, batch: bool = False) -> list[str]:
    """``count`` PENDING parse jobs of ``project``, oldest first (batch items when asked)."""
    ids = []
    start = utcnow()
    with db.begin() as conn:
        for i in range(count):
            job_id = new_id("pjb")
            when = start + timedelta(milliseconds=i)
            conn.execute(
                jobs_table.insert().values(
                    id=job_id,
                    project_id=project,
                    kind="parse",
                    status="PENDING",
                    tier="fast",
                    configuration={},
                    raw_parameters={},
                    created_at=when,
                    updated_at=when,
                    attempts=0,
                )
            )
            if batch:
                conn.execute(
                    batch_items_table.insert().values(
                        id=new_id("bit"),
                        batch_id="bjb-1",
                        position=i,
                        item_id=new_id("dfl"),
                        item_name=f"f{i}",
                        file_id=new_id("dfl"),
                        file_sha256="0" * 64,
                        size_bytes=1,
                        status="processing",
                        job_id=job_id,
                        updated_at=when,
                    )
                )
            ids.append(job_id)
    return ids


def finish(db: Database, job_ids: list[str]) -> None:
    with db.begin() as conn:
        conn.execute(
            jobs_table.update().where(jobs_table.c.id.in_(job_ids)).values(status="COMPLETED")
        )


def releaser(db: Database, sent: list[str], per_project: int = 2) -> Releaser:
    return Releaser(db, sent.append, per_project=per_project, max_attempts=3, lease_grace_seconds=1)


def test_release_is_round_robin_and_bounded_per_project(db: Database) -> None:
    big = add_jobs(db, "proj-a", 50, batch=True)
    small = add_jobs(db, "proj-b", 3)
    sent: list[str] = []
    rel = releaser(db, sent, per_project=2)
    assert rel.release() == 4
    assert sorted(sent) == sorted(big[:2] + small[:2])
    assert rel.release() == 0  # both projects at their limit: nothing more until one finishes
    assert rel.held_back  # (the executor looks again soon: a slot frees when a job ends)
    finish(db, small[:2])
    assert rel.release() == 1 and sent[-1] == small[2]
    finish(db, big[:2])
    assert rel.release() == 2 and sent[-2:] == big[2:4]


def test_single_jobs_go_before_batch_items_of_the_same_project(db: Database) -> None:
    batch = add_jobs(db, "proj-a", 5, batch=True)
    single = add_jobs(db, "proj-a", 1)  # created after the whole batch
    sent: list[str] = []
    assert releaser(db, sent, per_project=2).release() == 2
    assert sent == [single[0], batch[0]]


def test_a_late_project_is_served_in_the_next_round(db: Database) -> None:
    a = add_jobs(db, "proj-a", 30)
    sent: list[str] = []
    rel = releaser(db, sent, per_project=0)  # no in-flight limit: only the order matters
    rel.max_per_pass = 4
    assert rel.release() == 4
    b = add_jobs(db, "proj-b", 2)
    rel.release()
    assert sent[4] == b[0]  # b was never served: it goes first, before a's fifth job
    assert sent[5] == a[4]


def test_a_failed_publish_releases_nothing(db: Database) -> None:
    jobs = add_jobs(db, "proj-a", 2)

    def down(_job_id: str) -> None:
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        Releaser(db, down, per_project=5, max_attempts=3, lease_grace_seconds=1).release()
    with db.begin() as conn:
        stamped = conn.execute(
            sa.select(sa.func.count()).where(jobs_table.c.released_at.is_not(None))
        ).scalar_one()
    assert stamped == 0
    sent: list[str] = []
    assert releaser(db, sent, per_project=5).release() == 2 and sorted(sent) == sorted(jobs)


def test_concurrent_releasers_never_release_a_job_twice(db: Database) -> None:
    add_jobs(db, "proj-a", 40)
    add_jobs(db, "proj-b", 40)
    sent: list[str] = []
    lock = threading.Lock()

    def publish(job_id: str) -> None:
        with lock:
            sent.append(job_id)

    def run() -> None:
        other = Database(db.url)
        rel = Releaser(other, publish, per_project=10, max_attempts=3, lease_grace_seconds=1)
        for _ in range(20):
            rel.release()
        other.dispose()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sent) == len(set(sent)) == 20  # 10 per project, each once


def test_claim_job_runs_a_delivered_job_once_and_fails_it_after_max_attempts(
    db: Database,
) -> None:
    (job,) = add_jobs(db, "proj-a", 1)
    first = db.claim_job(job, "host/1/a", lease_seconds=30, max_attempts=2)
    assert first is not None and first["attempts"] == 1
    assert db.claim_job(job, "host/2/b", lease_seconds=30, max_attempts=2) is None  # leased
    assert db.expire_lease(job, "host/1/a")  # its worker died
    second = db.claim_job(job, "host/2/b", lease_seconds=30, max_attempts=2)
    assert second is not None and second["attempts"] == 2
    assert not db.finish_job(job, "host/1/a", status="COMPLETED")  # the old attempt: refused
    assert db.expire_lease(job, "host/2/b")  # died again: out of attempts
    assert db.claim_job(job, "host/3/c", lease_seconds=30, max_attempts=2) is None
    row = db.get_job(job)
    assert row is not None and row["status"] == "FAILED"
    assert "stopped unexpectedly 2 times" in row["error_message"]


def test_recover_publishes_jobs_whose_lease_expired(db: Database) -> None:
    (job,) = add_jobs(db, "proj-a", 1)
    sent: list[str] = []
    rel = releaser(db, sent)
    rel.release()
    assert db.claim_job(job, "host/1/a", lease_seconds=30, max_attempts=3) is not None
    assert rel.recover() == 0  # lease alive
    with db.begin() as conn:  # the worker died long ago and its message is gone
        conn.execute(
            jobs_table.update()
            .where(jobs_table.c.id == job)
            .values(
                lease_expires_at=utcnow() - timedelta(seconds=5),
                released_at=utcnow() - timedelta(seconds=5),
            )
        )
    assert rel.recover() == 1 and sent == [job, job]
    assert rel.recover() == 0  # not again before another grace period


def test_one_leader_at_a_time(db: Database) -> None:
    first, second = LeaderLock(db.engine), LeaderLock(db.engine)
    assert first.check()
    assert not second.check()
    assert first.check()  # still held
    first.release()  # the leader's connection is gone (as when its replica dies)
    assert second.check()
    assert not first.check()
    second.release()


def test_after_a_broker_outage_released_unclaimed_jobs_are_published_again(
    db: Database,
) -> None:
    jobs = add_jobs(db, "p", 5)
    sent: list[str] = []
    r = releaser(db, sent, per_project=3)
    assert r.release() == 3 and sent == jobs[:3]
    finish(db, [jobs[0]])  # ran before the outage: no second message
    with db.begin() as conn:  # claimed and running: its worker holds it
        conn.execute(jobs_table.update().where(jobs_table.c.id == jobs[1]).values(status="RUNNING"))
    sent.clear()
    assert r.release_again() == 1 and sent == [jobs[2]]  # the one the broker may have lost
    assert r.release_again() == 1  # each outage publishes it again, once
    assert r.release() == 1 and sent[-1] == jobs[3]  # the in-flight limit still holds
