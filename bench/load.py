"""Status-poll and list throughput and latency of a ``lamina serve`` on loopback, while jobs run.

Usage::

    python bench/load.py [--seconds 10] [--concurrency 8] [--jobs 200] [--workers 2]

Starts ``python -m lamina serve`` on a free port with a fresh data dir and one API key (so
auth is on the hot path, as in production), creates ``--jobs`` small parse jobs (text
documents, the workers keep running them during the measurement), then for each scenario runs
``--busy`` heavy jobs (4,000-page PDFs, tier cost_effective) that
keep the workers running during the measurement, then for each scenario runs ``--concurrency``
asyncio clients (httpx, keep-alive) for ``--seconds`` and prints a table:

- ``poll``: ``GET /api/v2/parse/{id}`` over the created job ids, round-robin;
- ``poll+expand``: the same with ``expand=job_metadata`` (reads one small result file);
- ``list``: ``GET /api/v2/parse?page_size=20``.

Target on a 2-core machine: >= 1,000 status polls/s with p99 < 50 ms. The load generator
shares the CPU with the server, so the numbers are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fixtures.server import LiveServer, serve  # noqa: E402

KEY = "bench-key"


def start_server(data_dir: Path, workers: int) -> LiveServer:
    """``lamina serve`` with an API key, at the default lease (as a deployment runs); the
    per-key rate limit is off, since this measures how many requests the server can answer."""
    return serve(
        data_dir,
        *("--workers", str(workers), "--api-key", f"{KEY}:bench"),
        LAMINA_LEASE_SECONDS="30",
        LAMINA_RATE_LIMIT_PER_SECOND="0",
        LAMINA_MAX_CONNECTIONS="2000",
    )


def create_busy_jobs(base: str, count: int, pages: int = 4000) -> None:
    """Heavier jobs (a ``pages``-page PDF, tier cost_effective) that keep the workers busy."""
    from tests.fixtures.hostile import make_many_pages_pdf

    pdf = make_many_pages_pdf(pages)
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        for n in range(count):
            http.post(
                "/api/v2/parse/upload",
                files={"file": (f"busy-{n}.pdf", pdf)},
                # The same bytes each time: without disable_cache, every job after the first
                # would be a cache hit and the workers would sit idle.
                data={
                    "configuration": (
                        '{"tier": "cost_effective", "version": "latest", "disable_cache": true}'
                    )
                },
            ).raise_for_status()


def create_jobs(base: str, count: int) -> list[str]:
    headers = {"Authorization": f"Bearer {KEY}"}
    ids = []
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        for n in range(count):
            text = f"# Document {n}\n\n" + ("Some words of the body. " * 200)
            response = http.post(
                "/api/v2/parse/upload",
                files={"file": (f"doc-{n}.md", text.encode())},
                data={"configuration": '{"tier": "fast", "version": "latest"}'},
            )
            response.raise_for_status()
            ids.append(response.json()["id"])
    return ids


async def run_scenario(
    base: str, paths: list[str], seconds: float, concurrency: int
) -> tuple[int, int, list[float]]:
    """(requests, errors, latencies in ms) of ``concurrency`` clients for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=10) as http:

        async def client(offset: int) -> None:
            nonlocal errors
            i = offset
            while time.perf_counter() < stop:
                path = paths[i % len(paths)]
                i += concurrency
                started = time.perf_counter()
                try:
                    response = await http.get(path)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - started) * 1000)
                errors += not ok

        await asyncio.gather(*(client(n) for n in range(concurrency)))
    return len(latencies), errors, latencies


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--busy", type=int, default=8, help="Heavy jobs running meanwhile.")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="lamina-load-"))
    server = start_server(data_dir / "data", args.workers)
    base = server.base_url
    try:
        ids = create_jobs(base, args.jobs)
        create_busy_jobs(base, args.busy)
        scenarios = {
            "poll": [f"/api/v2/parse/{i}" for i in ids],
            "poll+expand": [f"/api/v2/parse/{i}?expand=job_metadata" for i in ids],
            "list": ["/api/v2/parse?page_size=20"],
        }
        rows = []
        for name, paths in scenarios.items():
            asyncio.run(run_scenario(base, paths, 1.0, args.concurrency))  # warm-up
            count, errors, latencies = asyncio.run(
                run_scenario(base, paths, args.seconds, args.concurrency)
            )
            rows.append(
                (
                    name,
                    count / args.seconds,
                    statistics.median(latencies),
                    _pct(latencies, 0.99),
                    max(latencies),
                    errors,
                )
            )
        status = httpx.get(
            f"{base}/api/v2/parse",
            params={"status": "COMPLETED", "page_size": 1},
            headers={"Authorization": f"Bearer {KEY}"},
        ).json()
        total = args.jobs + args.busy
    finally:
        server.stop()

    print(
        f"\nlamina serve, {args.workers} worker(s), {args.concurrency} concurrent clients, "
        f"{args.seconds:g} s per scenario, {os.cpu_count()} CPUs; "
        f"{status['total_size']}/{total} jobs completed by the end ({args.busy} heavy)\n"
    )
    print(f"{'scenario':<14}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'errors':>8}")
    for name, rps, p50, p99, worst, errors in rows:
        print(f"{name:<14}{rps:>10.0f}{p50:>10.1f}{p99:>10.1f}{worst:>10.1f}{errors:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
