"""Prometheus metrics of a Lamina deployment, read from the database at scrape time.

Every replica reports the same numbers (the database is the single source of truth), so a
scrape of any one replica is enough and no counter is lost when a replica restarts:

- ``lamina_queue_depth{project}``: jobs waiting (PENDING) per project;
- ``lamina_jobs_inflight{project}``: jobs handed to the broker and not finished (broker mode);
- ``lamina_jobs{kind,status}``: jobs by kind and status;
- ``lamina_job_duration_seconds{tier}``: a summary (count, sum) of finished jobs' run time;
- ``lamina_workers``: live ``lamina worker`` processes (heartbeats), or the local worker
  processes of a plain ``lamina serve``;
- ``lamina_worker_processes``: their job processes in all.

Needs ``prometheus-client`` (the ``distributed`` extra).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from lamina.services.runtime.distributed.heartbeat import live_workers
from lamina.services.store.db import Database
from lamina.services.store.tables import jobs_table


def render(db: Database, *, local_workers: int | None = None) -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(db, local_workers))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Collector:
    def __init__(self, db: Database, local_workers: int | None) -> None:
        self.db = db
        self.local_workers = local_workers

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily, SummaryMetricFamily

        c = jobs_table.c
        depth = GaugeMetricFamily(
            "lamina_queue_depth", "Jobs waiting for a worker, per project", labels=["project"]
        )
        inflight = GaugeMetricFamily(
            "lamina_jobs_inflight",
            "Jobs handed to the broker and not finished, per project",
            labels=["project"],
        )
        jobs = GaugeMetricFamily(
            "lamina_jobs", "Jobs by kind and status", labels=["kind", "status"]
        )
        duration = SummaryMetricFamily(
            "lamina_job_duration_seconds", "Run time of finished jobs, by tier", labels=["tier"]
        )
        seconds: sa.ColumnElement[Any] = sa.func.extract("epoch", c.finished_at - c.started_at)
        if self.db.engine.dialect.name == "sqlite":
            seconds = (sa.func.julianday(c.finished_at) - sa.func.julianday(c.started_at)) * 86400
        with self.db.begin() as conn:
            for project, n in conn.execute(
                sa.select(c.project_id, sa.func.count())
                .where(c.status == "PENDING")
                .group_by(c.project_id)
            ):
                depth.add_metric([project], n)
            for project, n in conn.execute(
                sa.select(c.project_id, sa.func.count())
                .where(c.status.in_(("PENDING", "RUNNING")), c.released_at.is_not(None))
                .group_by(c.project_id)
            ):
                inflight.add_metric([project], n)
            for kind, status, n in conn.execute(
                sa.select(c.kind, c.status, sa.func.count()).group_by(c.kind, c.status)
            ):
                jobs.add_metric([kind, status], n)
            for tier, n, total in conn.execute(
                sa.select(c.tier, sa.func.count(), sa.func.coalesce(sa.func.sum(seconds), 0))
                .where(
                    c.status.in_(("COMPLETED", "FAILED")),
                    c.started_at.is_not(None),
                    c.finished_at.is_not(None),
                )
                .group_by(c.tier)
            ):
                duration.add_metric([tier], count_value=n, sum_value=float(total))
        yield from (depth, inflight, jobs, duration)
        workers = GaugeMetricFamily("lamina_workers", "Live worker processes (heartbeats)")
        processes = GaugeMetricFamily("lamina_worker_processes", "Job processes of the workers")
        if self.local_workers is not None:
            workers.add_metric([], self.local_workers)
            processes.add_metric([], self.local_workers)
        else:
            live = live_workers(self.db)
            workers.add_metric([], len(live))
            processes.add_metric([], sum(int(w["concurrency"]) for w in live))
        yield from (workers, processes)
