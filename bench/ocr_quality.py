"""OCR quality on scanned pages: Lamina (``cost_effective``, OCR on) against tesseract, one run.

Usage::

    python bench/ocr_quality.py [--data DIR] [--set pages|tables|ocr ...] [--only NAME ...]
                                [--per-doc] [--dpi 200]

The project has no human-annotated scans, so the scanned pages are made from bench-data's
real documents with reference output (``../shared/bench-data``, see its MANIFEST):

- ``pages``: every page of the born-digital PDFs in ``pdf/`` (two-column papers, a handbook,
  a manual with tables; the Arabic and Korean documents are left out: neither contender reads
  them),
  rendered at ``--dpi`` and made to look scanned (grey, a slight skew alternating +-0.3 degrees,
  a little blur and sensor noise, JPEG quality 80; seeded, so every run sees the same pixels).
  Reference: ``NAME.gt.md`` (text, headings, paragraph order) and ``NAME.gt.json`` (tables).
- ``tables``: the page of each table in ``tables/`` rendered the same way. Reference: the cell
  grids in ``NAME.tables.json``.
- ``ocr``: the four scanned PDFs in ``ocr/`` (upright and turned 90/180/270), page rendered as
  is. Reference: ``NAME.gt.md``.

Contenders read the same image files: ``lamina`` (``lamina.engine.parse_document`` on the PNG,
tier ``cost_effective``) and ``tesseract`` (the ``tesseract`` command, English, default page
segmentation, plain text; measuring only, never a dependency). Each runs in its own subprocess.

Scores (0..1, higher is better):

- **text**: word-level normalised edit similarity of the markdown-stripped output against the
  reference (as in ``bench/parse_quality.py``), per document, averaged.
- **order**: reading order. The reference's paragraphs (blank-line separated blocks of
  ``gt.md`` with at least six words; tables left out) are located in the contender's word
  stream by their distinctive word 3-grams (a paragraph's place is the median position of its
  3-grams found exactly once in the output; a paragraph with fewer than two such is not
  located). The score is the share of located paragraph pairs that come out in the reference
  order (pooled over documents). ``order-mc`` is the same on the multi-column documents only.
- **head-R / head-P**: heading recall and precision by text, as in ``parse_quality.py``
  (tesseract has no headings).
- **lists**: share of the reference's list items (``- `` lines of gt.md) that the contender
  gives as list items (a markdown list line whose text matches by letters and digits).
- **tables**: reference tables found: a contender table whose multiset of non-empty cells
  (letters and digits only) has F1 >= 0.5 with the reference table's; ``adj-F1`` is the
  neighbouring-cell F1 of the best match (pairs of horizontally or vertically adjacent
  non-empty cells), averaged over reference tables (0 for a table not found).
- **s/page**: seconds per page (sum of per-page parse times; start-up excluded).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from parse_quality import key, md_headings, md_tables, strip_markdown, word_similarity

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = next(
    (p / "shared" / "bench-data" for p in ROOT.parents if (p / "shared" / "bench-data").is_dir()),
    ROOT.parent / "shared" / "bench-data",
)
CONTENDERS = ("lamina", "tesseract")
SETS = ("pages", "tables", "ocr")
#: Documents of the ``pages`` set laid out in two columns (for ``order-mc``).
MULTI_COLUMN = ("amt_handbook_sample", "redp5110_sampled")
#: Left out of ``pages``: Arabic (right_to_left_*) and Korean (normal_4pages) documents, which
#: neither contender reads (tesseract runs with English only, RapidOCR's models read Chinese
#: and English).
SKIP_PAGES = ("right_to_left", "normal_4pages")
CACHE = Path(tempfile.gettempdir()) / "lamina-ocr-bench"

# --- building the scanned pages --------------------------------------------------------------


def _scanned(image: Any, seed: int) -> Any:
    """``image`` made to look scanned: grey, skewed a little, blurred, noisy, JPEG'd."""
    import io

    import numpy as np
    from PIL import Image, ImageFilter

    grey = image.convert("L")
    angle = 0.3 if seed % 2 else -0.3
    grey = grey.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    grey = grey.filter(ImageFilter.GaussianBlur(0.6))
    rng = np.random.default_rng(seed)
    arr = np.asarray(grey, dtype=np.float32) + rng.normal(0, 8, (grey.height, grey.width))
    noisy = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), mode="L")
    buf = io.BytesIO()
    noisy.save(buf, format="JPEG", quality=80)
    buf.seek(0)
    return Image.open(buf).convert("L")


def _render(pdf: Path, pages: list[int] | None, dpi: int, scan: bool) -> list[Path]:
    """PNG files of ``pages`` (1-based; all when None) of ``pdf``, cached between runs."""
    import pypdfium2

    out_dir = CACHE / f"{dpi}{'s' if scan else ''}"
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        numbers = pages or list(range(1, len(doc) + 1))
        paths = []
        for n in numbers:
            path = out_dir / f"{pdf.stem}-p{n}.png"
            if not path.exists():
                image = doc[n - 1].render(scale=dpi / 72).to_pil()
                if scan:
                    image = _scanned(image, seed=n + len(pdf.stem))
                image.save(path, dpi=(dpi, dpi))
            paths.append(path)
        return paths
    finally:
        doc.close()


def build(data: Path, sets: list[str], dpi: int) -> list[dict[str, Any]]:
    """The documents to read: name, set, page images and reference."""
    docs: list[dict[str, Any]] = []
    if "pages" in sets:
        for pdf in sorted((data / "pdf").glob("*.pdf")):
            if any(pdf.stem.startswith(s) for s in SKIP_PAGES):
                continue
            docs.append(
                {
                    "name": pdf.stem,
                    "set": "pages",
                    "images": [str(p) for p in _render(pdf, None, dpi, True)],
                    "gt_md": pdf.with_suffix("").as_posix() + ".gt.md",
                    "gt_json": pdf.with_suffix("").as_posix() + ".gt.json",
                }
            )
    if "tables" in sets:
        for spec in sorted((data / "tables").glob("*.tables.json")):
            stem = spec.name[: -len(".tables.json")]
            tables = json.loads(spec.read_text(encoding="utf-8"))
            pages = sorted({t["page"] for t in tables})
            docs.append(
                {
                    "name": stem,
                    "set": "tables",
                    "images": [
                        str(p) for p in _render(spec.parent / f"{stem}.pdf", pages, dpi, True)
                    ],
                    "gt_tables": str(spec),
                }
            )
    if "ocr" in sets:
        for pdf in sorted((data / "ocr").glob("*.pdf")):
            docs.append(
                {
                    "name": pdf.stem,
                    "set": "ocr",
                    "images": [str(p) for p in _render(pdf, None, dpi, False)],
                    "gt_md": pdf.with_suffix("").as_posix() + ".gt.md",
                }
            )
    return docs


# --- children --------------------------------------------------------------------------------


def _lamina() -> Any:
    from lamina.engine import parse_document
    from lamina.types import ParseConfiguration

    config = ParseConfiguration(tier="cost_effective")

    def run(path: Path) -> dict[str, Any]:
        result = parse_document(path.read_bytes(), filename=path.name, config=config)
        headings: list[str] = []
        tables: list[list[list[str]]] = []
        for page in result.pages:
            for item in page.items:
                if item.type == "heading":
                    headings.append(item.value)  # type: ignore[union-attr]
                elif item.type == "table":
                    rows = item.rows  # type: ignore[union-attr]
                    tables.append([[str(c) if c is not None else "" for c in r] for r in rows])
        md = "\n\n".join(p.markdown for p in result.pages)
        return {"md": md, "headings": headings, "tables": tables}

    return run


def _tesseract() -> Any:
    exe = shutil.which("tesseract")
    if exe is None:
        raise ImportError(name="tesseract")

    def run(path: Path) -> dict[str, Any]:
        proc = subprocess.run(
            [exe, str(path), "-", "-l", "eng"], capture_output=True, text=True, check=True
        )
        return {"md": proc.stdout, "headings": [], "tables": []}

    return run


def child(name: str, manifest: Path) -> None:
    """Read every page image with one contender; print one JSON line."""
    docs = json.loads(manifest.read_text(encoding="utf-8"))
    try:
        run = {"lamina": _lamina, "tesseract": _tesseract}[name]()
    except ImportError as exc:
        print(json.dumps({"name": name, "error": f"not installed ({exc.name})"}))
        return
    out: dict[str, Any] = {}
    seconds = 0.0
    pages = 0
    for doc in docs:
        parts = []
        for image in doc["images"]:
            start = time.perf_counter()
            try:
                parts.append(run(Path(image)))
            except Exception as exc:
                parts.append({"md": "", "headings": [], "tables": [], "error": repr(exc)})
            seconds += time.perf_counter() - start
            pages += 1
        out[f"{doc['set']}/{doc['name']}"] = {
            "md": "\n\n".join(p["md"] for p in parts),
            "headings": [h for p in parts for h in p["headings"]],
            "tables": [t for p in parts for t in p["tables"]],
        }
    print(json.dumps({"name": name, "pages": pages, "seconds": seconds, "docs": out}))


# --- scoring ---------------------------------------------------------------------------------

_LIST_LINE = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+(.*)$")


def paragraphs(md: str) -> list[list[str]]:
    """The reference's paragraphs as word lists (tables, pictures and short blocks left out)."""
    out = []
    for block in re.split(r"\n\s*\n", md):
        if block.lstrip().startswith("|") or "<!--" in block:
            continue
        words = strip_markdown(block)
        if len(words) >= 6:
            out.append(words)
    return out


def order_pairs(ref_md: str, got_md: str) -> tuple[int, int]:
    """(pairs in reference order, pairs located) for one document."""
    got = [key(w) for w in strip_markdown(got_md)]
    grams: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(got) - 2):
        grams.setdefault(tuple(got[i : i + 3]), []).append(i)
    places = []
    for para in paragraphs(ref_md):
        words = [key(w) for w in para]
        hits = [
            grams[g][0]
            for i in range(len(words) - 2)
            if len(grams.get(g := tuple(words[i : i + 3]), ())) == 1
        ]
        if len(hits) >= 2:
            places.append(statistics.median(hits))
    good = total = 0
    for i in range(len(places)):
        for j in range(i + 1, len(places)):
            total += 1
            good += places[i] < places[j]
    return good, total


def list_hits(ref_md: str, got_md: str) -> tuple[int, int]:
    """(reference list items given as list items, reference list items)."""
    want = [key(m.group(1)) for ln in ref_md.splitlines() if (m := _LIST_LINE.match(ln))]
    got = Counter(key(m.group(1)) for ln in got_md.splitlines() if (m := _LIST_LINE.match(ln)))
    hit = 0
    for k in want:
        if k and got[k] > 0:
            got[k] -= 1
            hit += 1
    return hit, len([k for k in want if k])


def _cells(grid: list[list[str]]) -> Counter[str]:
    return Counter(k for row in grid for c in row if (k := key(c)))


def _pairs(grid: list[list[str]]) -> Counter[tuple[str, str, str]]:
    out: Counter[tuple[str, str, str]] = Counter()
    for r, row in enumerate(grid):
        for c, cell in enumerate(row):
            a = key(cell)
            if not a:
                continue
            right = next((key(x) for x in row[c + 1 :] if key(x)), "")
            if right:
                out[("h", a, right)] += 1
            below = next((key(g[c]) for g in grid[r + 1 :] if c < len(g) and key(g[c])), "")
            if below:
                out[("v", a, below)] += 1
    return out


def _f1(a: Counter[Any], b: Counter[Any]) -> float:
    tp = sum((a & b).values())
    if not tp:
        return 0.0
    p, r = tp / sum(b.values()), tp / sum(a.values())
    return 2 * p * r / (p + r)


def table_scores(ref: list[list[list[str]]], got: list[list[list[str]]]) -> tuple[int, float]:
    """(reference tables found, summed adjacency F1 of their best matches)."""
    found, adj = 0, 0.0
    for grid in ref:
        cells = _cells(grid)
        best = max(got, key=lambda g: _f1(cells, _cells(g)), default=None)
        if best is not None and _f1(cells, _cells(best)) >= 0.5:
            found += 1
            adj += _f1(_pairs(grid), _pairs(best))
    return found, adj


def gt_json_tables(path: str) -> list[list[list[str]]]:
    gt = json.loads(Path(path).read_text(encoding="utf-8"))
    return [
        [[cell.get("text", "") for cell in row] for row in t.get("data", {}).get("grid", [])]
        for t in gt.get("tables", [])
    ]


def score(result: dict[str, Any], docs: list[dict[str, Any]], per_doc: bool) -> dict[str, Any]:
    sims: dict[str, list[float]] = {s: [] for s in SETS}
    order = [0, 0]
    order_mc = [0, 0]
    heads = [0, 0, 0]
    lists = [0, 0]
    tables = [0, 0, 0.0]
    for doc in docs:
        out = result["docs"][f"{doc['set']}/{doc['name']}"]
        ref_tables: list[list[list[str]]] = []
        line = f"  {result['name']:<10}{doc['set'] + '/' + doc['name']:<40}"
        if "gt_md" in doc:
            ref_md = Path(doc["gt_md"]).read_text(encoding="utf-8")
            sim = word_similarity(strip_markdown(out["md"]), strip_markdown(ref_md))
            sims[doc["set"]].append(sim)
            line += f"text {sim:.3f}"
            if doc["set"] == "pages":
                good, total = order_pairs(ref_md, out["md"])
                order[0] += good
                order[1] += total
                line += f"  order {good}/{total}"
                if doc["name"] in MULTI_COLUMN:
                    order_mc[0] += good
                    order_mc[1] += total
                want = Counter(k for k in map(key, md_headings(ref_md)) if k)
                got = Counter(k for k in map(key, out["headings"] or md_headings(out["md"])) if k)
                heads[0] += sum((want & got).values())
                heads[1] += sum(want.values())
                heads[2] += sum(got.values())
                hit, n = list_hits(ref_md, out["md"])
                lists[0] += hit
                lists[1] += n
                ref_tables = gt_json_tables(doc["gt_json"])
        if "gt_tables" in doc:
            spec = json.loads(Path(doc["gt_tables"]).read_text(encoding="utf-8"))
            ref_tables = [t["rows"] for t in spec]
        if ref_tables:
            got_tables = out["tables"] or md_tables(out["md"])
            found, adj = table_scores(ref_tables, got_tables)
            tables[0] += found
            tables[1] += len(ref_tables)
            tables[2] += adj
            line += f"  tables {found}/{len(ref_tables)}"
        if per_doc:
            print(line)
    return {
        "text": {s: (sum(v) / len(v) if v else None) for s, v in sims.items()},
        "order": order[0] / order[1] if order[1] else None,
        "order_mc": order_mc[0] / order_mc[1] if order_mc[1] else None,
        "head_r": heads[0] / heads[1] if heads[1] else None,
        "head_p": heads[0] / heads[2] if heads[2] else 0.0,
        "lists": lists[0] / lists[1] if lists[1] else None,
        "tables_found": tables[0],
        "tables_total": tables[1],
        "adj_f1": tables[2] / tables[1] if tables[1] else None,
    }


# --- parent ----------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--set", choices=SETS, action="append", help="run only these sets")
    parser.add_argument("--only", choices=CONTENDERS, action="append", help="run only these")
    parser.add_argument("--doc", action="append", help="run only documents whose name has this")
    parser.add_argument("--per-doc", action="store_true", help="print scores per document")
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument("--save", type=Path, help="write each contender's markdown here")
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--manifest", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.manifest)
        return
    docs = build(args.data, args.set or list(SETS), args.dpi)
    if args.doc:
        docs = [d for d in docs if any(s in d["name"] for s in args.doc)]
    n_pages = sum(len(d["images"]) for d in docs)
    print(f"{len(docs)} documents, {n_pages} page images ({args.dpi} dpi) from {args.data}")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(docs, fh)
        manifest = Path(fh.name)
    results = []
    env = dict(os.environ)
    try:
        for name in args.only or CONTENDERS:
            cmd = [sys.executable, __file__, "--child", name, "--manifest", str(manifest)]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            if proc.returncode != 0 or not lines:
                tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                results.append({"name": name, "error": f"failed: {tail[:160]}"})
                continue
            res = json.loads(lines[-1])
            if args.save and "docs" in res:
                for doc_key, out in res["docs"].items():
                    target = args.save / name / f"{doc_key.replace('/', '__')}.md"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(out["md"], encoding="utf-8")
            if "error" not in res:
                res.update(score(res, docs, args.per_doc))
            results.append(res)
    finally:
        manifest.unlink(missing_ok=True)
    print(
        f"{'contender':<11}{'text-pg':>8}{'text-ocr':>9}{'order':>7}{'order-mc':>9}"
        f"{'head-R':>7}{'head-P':>7}{'lists':>7}{'tables':>8}{'adj-F1':>7}{'s/page':>7}"
    )
    for r in results:
        if "error" in r:
            print(f"{r['name']:<11}{r['error']}")
            continue
        found = f"{r['tables_found']}/{r['tables_total']}" if r["tables_total"] else "-"
        print(
            f"{r['name']:<11}{_fmt(r['text']['pages']):>8}{_fmt(r['text']['ocr']):>9}"
            f"{_fmt(r['order']):>7}{_fmt(r['order_mc']):>9}{_fmt(r['head_r']):>7}"
            f"{_fmt(r['head_p']):>7}{_fmt(r['lists']):>7}{found:>8}{_fmt(r['adj_f1']):>7}"
            f"{r['seconds'] / max(r['pages'], 1):>7.2f}"
        )


if __name__ == "__main__":
    main()
