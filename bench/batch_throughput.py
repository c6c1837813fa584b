"""Batch throughput: files/s of one batch job with 1, 2 and N workers, beside the same files
parsed one by one with ``client.parse`` in a loop, in one run on this machine.

Each configuration gets a fresh data dir and its own in-process server (the embedded client
with ``LAMINA_WORKERS`` set), so nothing is served from another run's results. The corpus is
generated: one-page PDFs and short text files, distinct bytes each.

    python bench/batch_throughput.py [--files 200] [--workers N] [--tier fast]
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import sys, time
from pathlib import Path
from lamina import Client
mode, folder, tier = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
paths = sorted(folder.iterdir())
with Client() as client:
    client.files.list(page_size=1)  # start the embedded server and its workers first
    start = time.perf_counter()
    if mode == "loop":
        for path in paths:
            client.parse(path, tier=tier, expand=("text",))
    else:
        directory = client.directories.create("bench")
        for path in paths:
            client.directories.upload_file(directory.id, path)
        job = client.batches.create(directory.id, tier=tier, max_concurrency=64)
        final = client.batches.wait(job.id, poll_interval=0.05)
        assert final.job.status == "completed", final
        assert final.job.failed_items == 0, final
    print(time.perf_counter() - start)
"""


def make_corpus(folder: Path, count: int) -> None:
    """``count`` files: half one-page PDFs, half text notes."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    for i in range(count):
        if i % 2 == 0:
            buffer = io.BytesIO()
            c = canvas.Canvas(buffer, pagesize=A4, invariant=1)
            c.setFont("Helvetica", 11)
            for line in range(30):
                c.drawString(72, 770 - 14 * line, f"Document {i}, line {line}: quarterly figures.")
            c.showPage()
            c.save()
            (folder / f"doc-{i:05d}.pdf").write_bytes(buffer.getvalue())
        else:
            text = "\n\n".join(f"Note {i} paragraph {p}: " + "words " * 40 for p in range(10))
            (folder / f"note-{i:05d}.txt").write_text(text)


def run(mode: str, folder: Path, workers: int, tier: str) -> float:
    """Seconds for one configuration, measured in a fresh process and data dir."""
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "LAMINA_HOME": home, "LAMINA_WORKERS": str(workers)}
        env["LAMINA_POLL_INTERVAL_SECONDS"] = "0.05"
        done = subprocess.run(
            [sys.executable, "-c", CHILD, mode, str(folder), tier],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 4, help="N")
    parser.add_argument("--tier", default="fast")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_corpus(folder, args.files)
        rows = [("client.parse loop", "loop", 1)]
        for workers in sorted({1, 2, args.workers}):
            rows.append((f"batch, {workers} worker(s)", "batch", workers))
        print(f"{args.files} files ({args.tier} tier), {os.cpu_count()} CPUs")
        print(f"{'configuration':<24} {'seconds':>8} {'files/s':>8}")
        for label, mode, workers in rows:
            seconds = run(mode, folder, workers, args.tier)
            print(f"{label:<24} {seconds:>8.2f} {args.files / seconds:>8.1f}")


if __name__ == "__main__":
    main()
