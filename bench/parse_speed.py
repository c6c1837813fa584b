"""Parse speed and peak memory: Lamina's fast tier against raw pypdfium2 and pdfplumber.

Usage: ``python bench/parse_speed.py [--pages N] [--repeat R]``

Generates a realistic text PDF (headings, wrapped paragraphs, lists, code; N pages) with
reportlab in a temporary directory, then measures each contender in a fresh subprocess so that
its peak RSS is its own. Time is the best of R runs of the parse loop (imports and interpreter
start excluded); peak RSS is the child's maximum resident set size, imports included.

The target: Lamina ``fast`` at least half the pages/s of raw pypdfium2 text extraction.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONTENDERS = ("lamina-fast", "pypdfium2-raw", "pdfplumber")

_VOCABULARY = (
    "data model page layout parser table figure result value system method analysis report "
    "revenue quarter region growth customer product service market document section text "
    "line block heading list item code engine output input file format level"
)
_WORDS = tuple(_VOCABULARY.split())


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 18))]
    return " ".join(words).capitalize() + "."


def make_bench_pdf(path: Path, pages: int, seed: int = 7) -> None:
    """Write a ``pages``-page report-like PDF: sections, paragraphs, lists, code, footers."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import (
        ListFlowable,
        ListItem,
        PageBreak,
        Paragraph,
        Preformatted,
        SimpleDocTemplate,
    )

    rng = random.Random(seed)
    styles = getSampleStyleSheet()
    story: list[object] = []
    for n in range(1, pages + 1):
        story.append(Paragraph(f"Section {n}: {rng.choice(_WORDS).title()} overview", styles["h1"]))
        for _ in range(3):
            story.append(Paragraph(" ".join(_sentence(rng) for _ in range(5)), styles["BodyText"]))
        story.append(Paragraph("Key points", styles["h2"]))
        story.append(
            ListFlowable(
                [ListItem(Paragraph(_sentence(rng), styles["BodyText"])) for _ in range(4)],
                bulletType="bullet",
            )
        )
        story.append(Paragraph(" ".join(_sentence(rng) for _ in range(6)), styles["BodyText"]))
        if n % 3 == 0:
            story.append(Preformatted("for row in table:\n    total += row.value", styles["Code"]))
        story.append(PageBreak())

    def footer(canvas: object, doc: object) -> None:
        canvas.setFont("Helvetica", 9)  # type: ignore[attr-defined]
        canvas.drawCentredString(A4[0] / 2, 30, f"Page {doc.page}")  # type: ignore[attr-defined]

    doc = SimpleDocTemplate(str(path), pagesize=A4, invariant=1)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def _run_lamina(data: bytes) -> int:
    from lamina.engine import parse_document
    from lamina.types import ParseConfiguration

    result = parse_document(data, filename="bench.pdf", config=ParseConfiguration(tier="fast"))
    return len(result.pages)


def _run_pypdfium2(data: bytes) -> int:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(data)
    count = 0
    for i in range(len(pdf)):
        page = pdf[i]
        textpage = page.get_textpage()
        textpage.get_text_range()
        textpage.close()
        page.close()
        count += 1
    pdf.close()
    return count


def _run_pdfplumber(data: bytes) -> int:
    import io

    import pdfplumber

    count = 0
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_text()
            page.flush_cache()
            count += 1
    return count


def child(name: str, path: Path, repeat: int) -> None:
    """Measure one contender in this process and print one JSON line."""
    run = {
        "lamina-fast": _run_lamina,
        "pypdfium2-raw": _run_pypdfium2,
        "pdfplumber": _run_pdfplumber,
    }[name]
    data = path.read_bytes()
    best = float("inf")
    pages = 0
    for _ in range(repeat):
        start = time.perf_counter()
        pages = run(data)
        best = min(best, time.perf_counter() - start)
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"name": name, "pages": pages, "seconds": best, "rss_mb": rss_kb / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=CONTENDERS, action="append", help="run only these")
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.file, args.repeat)
        return

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.pdf"
        start = time.perf_counter()
        make_bench_pdf(path, args.pages)
        print(
            f"generated {path.name}: {args.pages} pages, {path.stat().st_size // 1024} KB "
            f"in {time.perf_counter() - start:.1f}s; best of {args.repeat} runs"
        )
        rows = []
        for name in args.only or CONTENDERS:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    name,
                    "--file",
                    str(path),
                    "--repeat",
                    str(args.repeat),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))

    raw = next((r for r in rows if r["name"] == "pypdfium2-raw"), None)
    print(
        f"{'contender':<16}{'pages':>7}{'seconds':>10}{'pages/s':>10}{'vs raw':>8}{'peak RSS':>11}"
    )
    for r in rows:
        rate = r["pages"] / r["seconds"]
        ratio = f"{rate / (raw['pages'] / raw['seconds']):.2f}" if raw else "-"
        print(
            f"{r['name']:<16}{r['pages']:>7}{r['seconds']:>10.3f}{rate:>10.1f}{ratio:>8}"
            f"{r['rss_mb']:>8.1f} MB"
        )


if __name__ == "__main__":
    main()
