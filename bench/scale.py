"""Scale-out benchmark: throughput with 1, 2 and 4 Celery workers, the per-job overhead of the
distributed path against a plain ``lamina serve``, and fairness between projects.

Everything runs on this machine against the real PostgreSQL and broker (RabbitMQ by default):
API replicas and ``lamina worker`` processes are separate processes (tests/fixtures/cluster.py).

    python bench/scale.py                       # all three parts
    python bench/scale.py --part throughput --workers 1 2 4 --jobs 40 --pages 6
    python bench/scale.py --part overhead --jobs 20
    python bench/scale.py --part fairness --batch-files 60 --singles 10

Throughput: N uncached parse jobs (``cost_effective``, a generated PDF of P pages) through one
replica; jobs/s and pages/s from the first create to the last completion; efficiency is
jobs/s per worker relative to one worker, and per CPU used (the machine has ``os.cpu_count()``
cores: past that, more workers cannot help). Overhead: sequential one-page text jobs,
create→COMPLETED latency, on ``lamina serve --workers 1`` and on 1 replica + 1 worker (and
with ``--storage s3://`` against moto's S3 server on loopback, when moto is installed).
Fairness: project A starts a batch over a directory of many 15-page PDFs; project B then creates
single jobs, one every 0.3 s; B's time-to-start (``started_at - created_at`` in the database),
p50/p95, with the scheduler (``LAMINA_MAX_INFLIGHT_PER_PROJECT=2``) and without (0: everything
released to the broker at once, first come first served).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures.cluster import BROKERS, Cluster
from tests.fixtures.documents import make_multipage_pdf
from tests.fixtures.s3 import ObjectStore, s3_available
from tests.fixtures.server import serve

KEYS = "key-a:proj-a,key-b:proj-b"


def _client(base_url: str, key: str = "key-a") -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def _upload(http: httpx.Client, name: str, data: bytes) -> str:
    response = http.post(
        "/api/v1/beta/files", files={"file": (name, io.BytesIO(data))}, data={"purpose": "parse"}
    )
    response.raise_for_status()
    return str(response.json()["id"])


def _create(http: httpx.Client, file_id: str, tier: str = "cost_effective") -> str:
    body = {"file_id": file_id, "tier": tier, "version": "latest", "disable_cache": True}
    response = http.post("/api/v2/parse", json=body)
    response.raise_for_status()
    return str(response.json()["id"])


def _wait_all(http: httpx.Client, job_ids: list[str], timeout: float = 900) -> float:
    """Poll until every job is terminal; returns the monotonic time the last one was seen."""
    pending = set(job_ids)
    deadline = time.monotonic() + timeout
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} job(s) not finished")
        for job_id in list(pending):
            status = http.get(f"/api/v2/parse/{job_id}").json()["job"]["status"]
            if status in ("COMPLETED", "FAILED", "CANCELLED"):
                if status != "COMPLETED":
                    raise RuntimeError(f"job {job_id} {status}")
                pending.discard(job_id)
        time.sleep(0.1)
    return time.monotonic()


def _cpu_seconds() -> float:
    """CPU time of every process on the machine so far (from /proc/stat), in seconds."""
    with open("/proc/stat") as f:
        fields = [float(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def throughput(root: Path, broker: str, workers: list[int], jobs: int, pages: int) -> None:
    pdf = make_multipage_pdf(root, pages=pages).read_bytes()
    print(f"\n## Throughput: {jobs} jobs x {pages} pages (cost_effective), 1 replica")
    print("| workers | jobs/s | pages/s | per-worker efficiency | machine CPU busy |")
    print("|---|---|---|---|---|")
    base = None
    for count in workers:
        with Cluster(root / f"tp-{count}", broker, LAMINA_API_KEYS=KEYS) as cluster:
            replica = cluster.add_replica()
            for _ in range(count):
                cluster.add_worker()
            http = _client(replica.base_url)
            file_id = _upload(http, "doc.pdf", pdf)
            cpu0, t0 = _cpu_seconds(), time.monotonic()
            ids = [_create(http, file_id) for _ in range(jobs)]
            t1 = _wait_all(http, ids)
            cpu = (_cpu_seconds() - cpu0) / (t1 - t0) / (os.cpu_count() or 1)
            rate = jobs / (t1 - t0)
            base = base or rate
            print(
                f"| {count} | {rate:.2f} | {rate * pages:.1f} | {rate / (base * count):.0%} "
                f"| {cpu:.0%} |",
                flush=True,
            )
            http.close()


def _sequential_latency(base_url: str, jobs: int) -> list[float]:
    http = _client(base_url)
    file_id = _upload(http, "n.txt", b"Plain notes.\n\nSecond paragraph.\n")
    times = []
    for _ in range(jobs):
        t0 = time.monotonic()
        job_id = _create(http, file_id, tier="fast")
        while http.get(f"/api/v2/parse/{job_id}").json()["job"]["status"] != "COMPLETED":
            time.sleep(0.01)
        times.append(time.monotonic() - t0)
    http.close()
    return times


def overhead(root: Path, broker: str, jobs: int) -> None:
    print(f"\n## Per-job overhead: {jobs} sequential one-page text jobs, create → COMPLETED")
    (root / "local").mkdir(parents=True, exist_ok=True)
    local = serve(root / "local" / "data", "--workers", "1", LAMINA_API_KEYS=KEYS)
    try:
        _sequential_latency(local.base_url, 2)  # warm-up
        local_times = _sequential_latency(local.base_url, jobs)
    finally:
        local.stop()
    with Cluster(root / "dist", broker, LAMINA_API_KEYS=KEYS) as cluster:
        replica = cluster.add_replica()
        cluster.add_worker()
        _sequential_latency(replica.base_url, 2)
        dist_times = _sequential_latency(replica.base_url, jobs)
    rows = [
        ("lamina serve --workers 1 (SQLite)", local_times),
        ("1 replica + 1 worker (PostgreSQL + broker)", dist_times),
    ]
    if s3_available():  # the same, files and results in an object store (moto on loopback)
        store = ObjectStore(root)
        try:
            url = f"s3://{store.new_bucket()}/bench"
            with Cluster(
                root / "s3", broker, storage_url=url, LAMINA_API_KEYS=KEYS, **store.env
            ) as cluster:
                replica = cluster.add_replica()
                cluster.add_worker()
                _sequential_latency(replica.base_url, 2)
                rows.append(
                    (
                        "same, --storage s3:// (moto server)",
                        _sequential_latency(replica.base_url, jobs),
                    )
                )
        finally:
            store.close()
    lm, dm = statistics.median(local_times), statistics.median(dist_times)
    print("| path | median s | p90 s |")
    print("|---|---|---|")
    for name, t in rows:
        print(f"| {name} | {statistics.median(t):.3f} | {sorted(t)[int(0.9 * len(t))]:.3f} |")
    print(f"\noverhead of the distributed path: {dm - lm:+.3f} s per job (median)")
    if len(rows) == 3:
        sm = statistics.median(rows[2][1])
        print(f"overhead of object storage on top: {sm - dm:+.3f} s per job (median)")


def _fairness_run(root: Path, broker: str, limit: int, files: int, singles: int) -> list[float]:
    env = {"LAMINA_API_KEYS": KEYS, "LAMINA_MAX_INFLIGHT_PER_PROJECT": str(limit)}
    env["LAMINA_BATCH_MAX_CONCURRENCY"] = str(files)  # the whole batch queued at once
    with Cluster(root, broker, **env) as cluster:
        replica = cluster.add_replica()
        cluster.add_worker()
        cluster.add_worker()
        a, b = _client(replica.base_url, "key-a"), _client(replica.base_url, "key-b")
        directory = a.post("/api/v1/beta/directories", json={"name": "big"}).json()["id"]
        pdf = make_multipage_pdf(root, pages=15).read_bytes()  # about a second per item
        for i in range(files):
            a.post(
                f"/api/v1/beta/directories/{directory}/files/upload",
                files={"upload_file": (f"f{i}.pdf", pdf + f"\n%{i}".encode())},
            ).raise_for_status()
        a.post(
            "/api/v2/batches",
            json={
                "source_directory_id": directory,
                "config": {
                    "job": {"type": "parse_v2", "configuration_id": "cfg-PARSE_COST_EFFECTIVE"}
                },
            },
        ).raise_for_status()
        time.sleep(3)  # the batch's items are queued and running
        file_id = _upload(b, "n.txt", b"Project B's note.\n")
        ids = []
        for _ in range(singles):  # one every 0.3 s while A's batch runs
            ids.append(_create(b, file_id, tier="fast"))
            time.sleep(0.3)
        _wait_all(b, ids)
        engine = sa.create_engine(cluster.database_url)
        with engine.connect() as conn:
            left = conn.execute(
                sa.text(
                    "SELECT count(*) FROM parse_jobs WHERE project_id = 'proj-a' "
                    "AND status IN ('PENDING', 'RUNNING')"
                )
            ).scalar_one()
            print(f"  (limit {limit}: project A still had {left} job(s) queued or running)")
            rows = conn.execute(
                sa.text(
                    "SELECT EXTRACT(EPOCH FROM started_at - created_at) FROM parse_jobs "
                    "WHERE id = ANY(:ids)"
                ),
                {"ids": ids},
            ).all()
        engine.dispose()
        a.close()
        b.close()
        return [float(r[0]) for r in rows]


def fairness(root: Path, broker: str, files: int, singles: int) -> None:
    print(
        f"\n## Fairness: project A's batch of {files} PDFs, then project B's {singles} single jobs"
    )
    print("| scheduler | B time-to-start p50 s | p95 s | max s |")
    print("|---|---|---|---|")
    for name, limit in (("on (2 in flight per project)", 2), ("off (release everything)", 0)):
        starts = sorted(_fairness_run(root / f"fair-{limit}", broker, limit, files, singles))
        p95 = starts[min(len(starts) - 1, int(0.95 * len(starts)))]
        print(
            f"| {name} | {statistics.median(starts):.2f} | {p95:.2f} | {starts[-1]:.2f} |",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--part", choices=["throughput", "overhead", "fairness", "all"], default="all"
    )
    parser.add_argument("--broker", choices=sorted(BROKERS), default="rabbitmq")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--batch-files", type=int, default=60)
    parser.add_argument("--singles", type=int, default=10)
    args = parser.parse_args()
    broker = BROKERS[args.broker]
    print(
        f"# bench/scale.py on {os.cpu_count()} CPUs, broker {args.broker}, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory(prefix="lamina-scale-") as tmp:
        root = Path(tmp)
        if args.part in ("throughput", "all"):
            throughput(root, broker, args.workers, args.jobs, args.pages)
        if args.part in ("overhead", "all"):
            overhead(root, broker, args.jobs)
        if args.part in ("fairness", "all"):
            fairness(root, broker, args.batch_files, args.singles)
    return 0


if __name__ == "__main__":
    sys.exit(main())
