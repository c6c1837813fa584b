"""Parse quality, speed and memory on the bench-data PDFs: Lamina's tiers against peers.

Usage::

    python bench/parse_quality.py [--set pdf|tables|all] [--data DIR] [--tables-data DIR]
                                  [--peers-python PY] [--only NAME ...] [--per-doc]
    python bench/parse_quality.py --big [--big-pages 1000]

Both data sets are scored by default, each contender in one child process per set.

Contenders, each run in its own subprocess (so its peak RSS is its own):

- ``lamina-fast``, ``lamina-cost_effective``: this checkout (``lamina.engine.parse_document``).
- ``pdfplumber``: ``page.extract_text()`` plus ``page.find_tables()`` (run with this Python).
- ``pymupdf4llm``, ``markitdown``, ``unstructured`` (``partition_pdf(strategy="fast")``): run
  with ``--peers-python`` (default ``/work/venv-peers/bin/python``); a peer that cannot be
  imported there is reported as "not installed".

Data: every ``NAME.pdf`` in ``--data`` (default ``../shared/bench-data/pdf`` next to the
project) that has ``NAME.gt.md`` and ``NAME.gt.json`` (docling's reference output).

Scores (all in 0..1, higher is better; documents pooled as described):

- **text**: text fidelity. Both the contender's markdown and ``NAME.gt.md`` are stripped of
  markdown syntax (heading marks, list markers, emphasis, code fences, links → their text,
  HTML tags and comments, table pipes and separator rows), NFKC-normalised, lower-cased and
  split into words. The score is the normalised edit similarity of the two word sequences,
  ``1 - levenshtein(words_a, words_b) / max(len_a, len_b)`` (word-level Levenshtein; computed
  with rapidfuzz when it is importable, otherwise with an exact dynamic program in Python),
  averaged over documents (each document counts once).
- **head-R** / **head-P**: heading recall and precision by text. Reference headings are the
  ``#`` lines of ``NAME.gt.md`` (all level 2 there, so levels are ignored); a contender's
  headings are its markdown ``#`` lines (Lamina: its heading items). Texts are compared after
  lower-casing and dropping everything but letters and digits; matches are one-to-one.
  Pooled over all documents (micro average).
- **cell-F1**: table cell F1. The reference is the multiset of non-empty cell texts of every
  table grid in ``NAME.gt.json`` (a spanning cell counts in every grid position it covers, as
  docling's grid lists it); the contender's is the multiset of non-empty cells of its tables
  (Lamina: table items' rows; pdfplumber: ``find_tables`` grids; others: the pipe or HTML
  tables in their output), texts normalised as for headings. True positives are the multiset
  intersection per document; precision, recall and F1 are pooled over all documents, so
  tables found where the reference has none count against precision.
- **pages/s**: pages parsed divided by the summed parse time of the documents (imports and
  interpreter start-up excluded). **x plumber** is that rate over pdfplumber's.
- **RSS MB**: the child process's peak resident set size (imports included).

**Tables set** (``--tables-data``, default ``bench-data/tables``: camelot's test PDFs with
``NAME.tables.json``, the expected cell grids per page): each contender's tables with their
page (pymupdf4llm: the pipe tables of each page chunk). Cells are compared after NFKC, dropping
``<s>`` markup and all whitespace, lower-cased.

- **adj-F1** (and its **adj-P**, **adj-R**): neighbouring-cell pairs, the ICDAR 2013 way: each
  non-empty cell with the next non-empty cell to its right and below it (empty cells skipped,
  so a spanning cell neighbours what follows the span). Every expected table is matched
  one-to-one, best cell F1 first, with a predicted table on its page; pairs are pooled over
  all expected tables and their matches (an unmatched expected table counts only its own).
- **found**: expected tables whose match has cell F1 >= 0.5.
- **extra**: predicted tables on annotated pages that match none (reported, not scored: the
  set annotates only some tables, e.g. not the layout frame in ``table_region``).

``--big`` generates a 1,000-page report-like PDF with reportlab and reports Lamina's pages/s
and peak RSS for both tiers (the target: under 500 MB).
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# bench-data sits in ``shared/`` beside the checkout (a worktree under ``wt/`` looks one up).
BENCH_DATA = next(
    (d / "shared" / "bench-data" for d in ROOT.parents if (d / "shared" / "bench-data").is_dir()),
    ROOT.parent / "shared" / "bench-data",
)
DEFAULT_DATA = BENCH_DATA / "pdf"
DEFAULT_TABLES = BENCH_DATA / "tables"
DEFAULT_PEERS = Path("/work/venv-peers/bin/python")
OURS = ("lamina-fast", "lamina-cost_effective", "pdfplumber")
PEERS = ("pymupdf4llm", "markitdown", "unstructured")
CONTENDERS = OURS + PEERS

# --- children: parse every document, print one JSON line -------------------------------------


def _lamina(tier: str) -> Any:
    from lamina.engine import parse_document
    from lamina.types import ParseConfiguration

    config = ParseConfiguration(tier=tier)

    def run(path: Path) -> dict[str, Any]:
        result = parse_document(path.read_bytes(), filename=path.name, config=config)
        headings: list[str] = []
        tables: list[list[list[str]]] = []
        pages: list[int] = []
        for page in result.pages:
            for item in page.items:
                if item.type == "heading":
                    headings.append(item.value)  # type: ignore[union-attr]
                elif item.type == "table" and item.rows:  # type: ignore[union-attr]
                    rows = item.rows  # type: ignore[union-attr]
                    tables.append([[str(c) if c is not None else "" for c in r] for r in rows])
                    pages.append(page.page_number)
        markdown = "\n\n".join(p.markdown for p in result.pages)
        return {
            "pages": len(result.pages),
            "md": markdown,
            "headings": headings,
            "tables": tables,
            "table_pages": pages,
        }

    return run


def _pdfplumber() -> Any:
    import pdfplumber

    def run(path: Path) -> dict[str, Any]:
        texts: list[str] = []
        tables: list[list[list[str]]] = []
        table_pages: list[int] = []
        with pdfplumber.open(path) as pdf:
            for number, page in enumerate(pdf.pages, 1):
                texts.append(page.extract_text() or "")
                for table in page.find_tables():
                    tables.append([[c or "" for c in row] for row in table.extract()])
                    table_pages.append(number)
                page.flush_cache()
            pages = len(pdf.pages)
        return {
            "pages": pages,
            "md": "\n\n".join(texts),
            "headings": None,
            "tables": tables,
            "table_pages": table_pages,
        }

    return run


def _pymupdf4llm() -> Any:
    import pymupdf
    import pymupdf4llm

    def run(path: Path) -> dict[str, Any]:
        with pymupdf.open(path) as doc:
            pages = doc.page_count
        chunks = pymupdf4llm.to_markdown(str(path), show_progress=False, page_chunks=True)
        tables: list[list[list[str]]] = []
        table_pages: list[int] = []
        for number, chunk in enumerate(chunks, 1):
            for table in md_tables(chunk["text"]):
                tables.append(table)
                table_pages.append(number)
        md = "\n\n".join(chunk["text"] for chunk in chunks)
        return {
            "pages": pages,
            "md": md,
            "headings": None,
            "tables": tables,
            "table_pages": table_pages,
        }

    return run


def _markitdown() -> Any:
    from markitdown import MarkItDown

    converter = MarkItDown()

    def run(path: Path) -> dict[str, Any]:
        md = converter.convert(str(path)).text_content
        return {"pages": _page_count(path), "md": md, "headings": None, "tables": None}

    return run


def _unstructured() -> Any:
    from unstructured.partition.pdf import partition_pdf

    def run(path: Path) -> dict[str, Any]:
        elements = partition_pdf(filename=str(path), strategy="fast")
        parts: list[str] = []
        headings: list[str] = []
        tables: list[list[list[str]]] = []
        for el in elements:
            if el.category == "Title":
                headings.append(el.text)
                parts.append("## " + el.text)
            elif el.category == "Table" and getattr(el.metadata, "text_as_html", None):
                tables.extend(_html_tables(el.metadata.text_as_html))
                parts.append(el.text)
            else:
                parts.append(el.text)
        return {
            "pages": _page_count(path),
            "md": "\n\n".join(parts),
            "headings": headings,
            "tables": tables,
        }

    return run


def _page_count(path: Path) -> int:
    """Pages of a PDF without any PDF library: count /Type /Page objects."""
    return max(1, len(re.findall(rb"/Type\s*/Page(?!s)", path.read_bytes())))


def child(name: str, data_dir: Path, files: list[str]) -> None:
    """Parse ``files`` with one contender and print a JSON line with outputs and timings."""
    factories = {
        "lamina-fast": lambda: _lamina("fast"),
        "lamina-cost_effective": lambda: _lamina("cost_effective"),
        "pdfplumber": _pdfplumber,
        "pymupdf4llm": _pymupdf4llm,
        "markitdown": _markitdown,
        "unstructured": _unstructured,
    }
    try:
        run = factories[name]()
    except ImportError as exc:
        print(json.dumps({"name": name, "error": f"not installed ({exc.name})"}))
        return
    docs: dict[str, Any] = {}
    seconds = 0.0
    pages = 0
    for stem in files:
        path = data_dir / f"{stem}.pdf"
        start = time.perf_counter()
        try:
            out = run(path)
        except Exception as exc:  # a peer failing on one file is a result, not a crash
            out = {"pages": 0, "md": "", "headings": None, "tables": None, "error": repr(exc)}
        seconds += time.perf_counter() - start
        pages += out["pages"]
        docs[stem] = out
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"name": name, "pages": pages, "seconds": seconds, "rss_mb": rss_mb, "docs": docs}
        )
    )


# --- scoring -------------------------------------------------------------------------------

_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$")
_MD_NOISE = re.compile(r"<!--.*?-->|<[^>]+>|[*_`~#>|]", re.DOTALL)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_LIST_MARK = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+", re.MULTILINE)
_KEY = re.compile(r"[^\w]+|_")


def strip_markdown(md: str) -> list[str]:
    """The words of ``md`` without markdown syntax, NFKC-normalised and lower-cased."""
    lines = [ln for ln in md.splitlines() if not _TABLE_SEP.match(ln)]
    text = "\n".join(lines)
    text = _LINK.sub(r"\1", text)
    text = _LIST_MARK.sub(" ", text)
    text = html.unescape(_MD_NOISE.sub(" ", text))
    text = unicodedata.normalize("NFKC", text).lower()
    return text.split()


def key(text: str) -> str:
    """Text compared by value: lower case, letters and digits only."""
    return _KEY.sub("", unicodedata.normalize("NFKC", text).lower())


def word_similarity(a: list[str], b: list[str]) -> float:
    """1 - Levenshtein(a, b) / max(len): edit similarity of two word sequences."""
    if not a and not b:
        return 1.0
    try:
        from rapidfuzz.distance import Levenshtein

        return float(Levenshtein.normalized_similarity(a, b))
    except ImportError:
        pass
    # Exact DP over word ids; rows kept as lists of ints.
    ids: dict[str, int] = {}
    x = [ids.setdefault(w, len(ids)) for w in a]
    y = [ids.setdefault(w, len(ids)) for w in b]
    prev = list(range(len(y) + 1))
    for i, xi in enumerate(x, 1):
        cur = [i] + [0] * len(y)
        for j, yj in enumerate(y, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (xi != yj))
        prev = cur
    return 1.0 - prev[-1] / max(len(x), len(y))


def md_headings(md: str) -> list[str]:
    return [ln.lstrip("#").strip() for ln in md.splitlines() if re.match(r"^#{1,6}\s", ln)]


class _TableParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _html_tables(text: str) -> list[list[list[str]]]:
    parser = _TableParser()
    parser.feed(text)
    return parser.tables


def md_tables(md: str) -> list[list[list[str]]]:
    """Pipe tables and HTML tables in a markdown text, as grids of cell text."""
    tables: list[list[list[str]]] = _html_tables(md) if "<table" in md else []
    current: list[list[str]] = []
    for line in [*md.splitlines(), ""]:
        s = line.strip()
        if s.startswith("|") and s.endswith("|") and len(s) > 1:
            if not _TABLE_SEP.match(s):
                cells = re.split(r"(?<!\\)\|", s[1:-1])
                current.append([c.strip().replace("<br>", " ") for c in cells])
        elif current:
            tables.append(current)
            current = []
    return tables


def gt_cells(gt: dict[str, Any]) -> Counter[str]:
    out: Counter[str] = Counter()
    for table in gt.get("tables", []):
        for row in table.get("data", {}).get("grid", []):
            for cell in row:
                k = key(cell.get("text", ""))
                if k:
                    out[k] += 1
    return out


def score(result: dict[str, Any], data_dir: Path) -> dict[str, Any]:
    """Pooled scores of one contender's outputs."""
    sims: list[float] = []
    h_tp = h_gt = h_pred = 0
    c_tp = c_gt = c_pred = 0
    for stem, out in result["docs"].items():
        gt_md = (data_dir / f"{stem}.gt.md").read_text(encoding="utf-8")
        gt = json.loads((data_dir / f"{stem}.gt.json").read_text(encoding="utf-8"))
        sims.append(word_similarity(strip_markdown(out["md"]), strip_markdown(gt_md)))
        want = Counter(k for k in map(key, md_headings(gt_md)) if k)
        heads = out["headings"] if out["headings"] is not None else md_headings(out["md"])
        got = Counter(k for k in map(key, heads) if k)
        h_tp += sum((want & got).values())
        h_gt += sum(want.values())
        h_pred += sum(got.values())
        tables = out["tables"] if out["tables"] is not None else md_tables(out["md"])
        pred: Counter[str] = Counter(k for t in tables for row in t for c in row if (k := key(c)))
        ref = gt_cells(gt)
        c_tp += sum((ref & pred).values())
        c_gt += sum(ref.values())
        c_pred += sum(pred.values())
    p = c_tp / c_pred if c_pred else 0.0
    r = c_tp / c_gt if c_gt else 0.0
    return {
        "text": sum(sims) / len(sims) if sims else 0.0,
        "head_r": h_tp / h_gt if h_gt else 0.0,
        "head_p": h_tp / h_pred if h_pred else 0.0,
        "cell_f1": 2 * p * r / (p + r) if p + r else 0.0,
    }


# --- tables set: cell grids against camelot's expected grids ------------------------------

_SUP = re.compile(r"</?s>")


def cell_key(text: str) -> str:
    """A table cell compared by value: NFKC, ``<s>`` markup and all whitespace dropped,
    lower case (the tables set's references keep camelot's line breaks inside cells)."""
    text = unicodedata.normalize("NFKC", _SUP.sub("", text))
    return "".join(text.split()).lower()


def grid_cells(rows: list[list[str]]) -> Counter[str]:
    """The multiset of a grid's non-empty cell texts."""
    return Counter(k for row in rows for c in row if (k := cell_key(c)))


def adjacency(rows: list[list[str]]) -> Counter[tuple[str, str, str]]:
    """Neighbouring-cell pairs of a grid: each non-empty cell with the next non-empty cell to
    its right in its row ("h") and below it in its column ("v"); empty cells are skipped, so a
    spanning cell (text in one grid slot, the others empty) neighbours what follows the span."""
    keys = [[cell_key(c) for c in row] for row in rows]
    width = max((len(r) for r in keys), default=0)
    keys = [r + [""] * (width - len(r)) for r in keys]
    out: Counter[tuple[str, str, str]] = Counter()
    for row in keys:
        seq = [k for k in row if k]
        out.update((a, b, "h") for a, b in itertools.pairwise(seq))
    for c in range(width):
        seq = [r[c] for r in keys if r[c]]
        out.update((a, b, "v") for a, b in itertools.pairwise(seq))
    return out


def _f1(tp: int, n_pred: int, n_ref: int) -> float:
    return 2 * tp / (n_pred + n_ref) if n_pred + n_ref else 0.0


def score_tables(result: dict[str, Any], data_dir: Path) -> dict[str, Any]:
    """Table scores of one contender on the tables set.

    Each expected table is matched one-to-one (greedy, best cell F1 first) with a predicted
    table on the same page; it is *found* when that cell F1 is at least 0.5. Adjacency F1 pools
    the neighbouring-cell pairs of every expected table and of the predicted table matched to
    it (an unmatched expected table adds only to the reference count). Predicted tables on an
    annotated page that match no expected table are counted as ``extra`` (the set annotates
    only some tables, so they are reported, not scored).
    """
    a_tp = a_ref = a_pred = 0
    found = expected = extra = 0
    per_doc: dict[str, tuple[int, int, float]] = {}
    for stem, out in result["docs"].items():
        refs = json.loads((data_dir / f"{stem}.tables.json").read_text(encoding="utf-8"))
        preds = out.get("tables") or []
        if out.get("tables") is None:
            preds = md_tables(out["md"])
        pages = out.get("table_pages") or [None] * len(preds)
        pairs: list[tuple[float, int, int]] = []
        for i, ref in enumerate(refs):
            rc = grid_cells(ref["rows"])
            for j, pred in enumerate(preds):
                if pages[j] is not None and pages[j] != ref["page"]:
                    continue
                pc = grid_cells(pred)
                f1 = _f1(sum((rc & pc).values()), sum(pc.values()), sum(rc.values()))
                if f1 > 0:
                    pairs.append((f1, i, j))
        pairs.sort(reverse=True)
        match: dict[int, tuple[int, float]] = {}
        taken: set[int] = set()
        for f1, i, j in pairs:
            if i not in match and j not in taken:
                match[i] = (j, f1)
                taken.add(j)
        doc_found = 0
        d_tp, d_ref, d_pred = a_tp, a_ref, a_pred
        for i, ref in enumerate(refs):
            ra = adjacency(ref["rows"])
            a_ref += sum(ra.values())
            if i in match:
                j, f1 = match[i]
                pa = adjacency(preds[j])
                a_tp += sum((ra & pa).values())
                a_pred += sum(pa.values())
                doc_found += f1 >= 0.5
        found += doc_found
        expected += len(refs)
        ref_pages = {ref["page"] for ref in refs}
        extra += sum(
            1
            for j in range(len(preds))
            if j not in taken and (pages[j] in ref_pages or pages[j] is None)
        )
        d_tp, d_ref, d_pred = a_tp - d_tp, a_ref - d_ref, a_pred - d_pred
        per_doc[stem] = (doc_found, len(refs), _f1(d_tp, d_pred, d_ref))
    p = a_tp / a_pred if a_pred else 0.0
    r = a_tp / a_ref if a_ref else 0.0
    return {
        "adj_f1": 2 * p * r / (p + r) if p + r else 0.0,
        "adj_p": p,
        "adj_r": r,
        "found": found,
        "expected": expected,
        "extra": extra,
        "per_doc": per_doc,
    }


# --- parent --------------------------------------------------------------------------------


def _run_child(python: Path | str, name: str, data_dir: Path, files: list[str]) -> dict[str, Any]:
    cmd = [str(python), __file__, "--child", name, "--data", str(data_dir), "--files", *files]
    if not Path(python).exists():
        return {"name": name, "error": f"not installed (no {python})"}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"name": name, "error": f"failed: {tail[:120]}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def main_quality(args: argparse.Namespace) -> None:
    data_dir: Path = args.data
    files = sorted(
        p.name[:-4]
        for p in data_dir.glob("*.pdf")
        if (data_dir / f"{p.name[:-4]}.gt.md").exists()
        and (data_dir / f"{p.name[:-4]}.gt.json").exists()
    )
    print(f"{len(files)} documents from {data_dir}")
    results = []
    for name in args.only or CONTENDERS:
        python = args.peers_python if name in PEERS else sys.executable
        res = _run_child(python, name, data_dir, files)
        if "error" not in res and not any(d["md"].strip() for d in res["docs"].values()):
            errors = {d.get("error") for d in res["docs"].values()} - {None}
            res = {"name": name, "error": f"no output for any document {sorted(errors)[:1]}"}
        if "error" not in res:
            res.update(score(res, data_dir))
        results.append(res)
        if args.per_doc and "docs" in res:
            for stem, out in res["docs"].items():
                gt_md = (data_dir / f"{stem}.gt.md").read_text(encoding="utf-8")
                sim = word_similarity(strip_markdown(out["md"]), strip_markdown(gt_md))
                print(f"  {name:<22}{stem:<32}text {sim:.3f}")
    plumber = next((r for r in results if r["name"] == "pdfplumber" and "error" not in r), None)
    plumber_rate = plumber["pages"] / plumber["seconds"] if plumber else None
    print(
        f"{'contender':<23}{'text':>7}{'head-R':>8}{'head-P':>8}{'cell-F1':>9}"
        f"{'pages':>7}{'pages/s':>9}{'x plumber':>10}{'RSS MB':>8}"
    )
    for r in results:
        if "error" in r:
            print(f"{r['name']:<23}{r['error']}")
            continue
        rate = r["pages"] / r["seconds"] if r["seconds"] else 0.0
        ratio = f"{rate / plumber_rate:.1f}" if plumber_rate else "-"
        heads = "-" if r["name"] == "pdfplumber" else f"{r['head_r']:.3f}"
        head_p = "-" if r["name"] == "pdfplumber" else f"{r['head_p']:.3f}"
        print(
            f"{r['name']:<23}{r['text']:>7.3f}{heads:>8}{head_p:>8}{r['cell_f1']:>9.3f}"
            f"{r['pages']:>7}{rate:>9.1f}{ratio:>10}{r['rss_mb']:>8.0f}"
        )
    try:
        import rapidfuzz  # noqa: F401

        print("text similarity: rapidfuzz word-level Levenshtein")
    except ImportError:
        print("text similarity: word-level Levenshtein (pure Python)")


def main_tables(args: argparse.Namespace) -> None:
    """Score every contender on the tables set (``NAME.pdf`` with ``NAME.tables.json``)."""
    data_dir: Path = args.tables_data
    files = sorted(
        p.name[:-4]
        for p in data_dir.glob("*.pdf")
        if (data_dir / f"{p.name[:-4]}.tables.json").exists()
    )
    print(f"\ntables: {len(files)} documents from {data_dir}")
    results = []
    for name in args.only or CONTENDERS:
        python = args.peers_python if name in PEERS else sys.executable
        res = _run_child(python, name, data_dir, files)
        if "error" not in res:
            res.update(score_tables(res, data_dir))
        results.append(res)
        if args.per_doc and "per_doc" in res:
            for stem, (got, want, f1) in res["per_doc"].items():
                print(f"  {name:<22}{stem:<32}found {got}/{want}  adj-F1 {f1:.3f}")
    print(
        f"{'contender':<23}{'adj-F1':>7}{'adj-P':>7}{'adj-R':>7}{'found':>8}{'extra':>6}"
        f"{'pages':>7}{'pages/s':>9}{'RSS MB':>8}"
    )
    for r in results:
        if "error" in r:
            print(f"{r['name']:<23}{r['error']}")
            continue
        rate = r["pages"] / r["seconds"] if r["seconds"] else 0.0
        found = f"{r['found']}/{r['expected']}"
        print(
            f"{r['name']:<23}{r['adj_f1']:>7.3f}{r['adj_p']:>7.3f}{r['adj_r']:>7.3f}{found:>8}"
            f"{r['extra']:>6}{r['pages']:>7}{rate:>9.1f}{r['rss_mb']:>8.0f}"
        )


def main_big(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from parse_speed import make_bench_pdf

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.pdf"
        start = time.perf_counter()
        make_bench_pdf(path, args.big_pages)
        print(
            f"generated {args.big_pages} pages, {path.stat().st_size // 1024} KB "
            f"in {time.perf_counter() - start:.1f}s"
        )
        print(f"{'contender':<23}{'pages':>7}{'seconds':>9}{'pages/s':>9}{'RSS MB':>8}")
        for name in ("lamina-fast", "lamina-cost_effective"):
            res = _run_child(sys.executable, name, Path(tmp), ["big"])
            if "error" in res:
                print(f"{name:<23}{res['error']}")
                continue
            rate = res["pages"] / res["seconds"]
            print(
                f"{name:<23}{res['pages']:>7}{res['seconds']:>9.2f}{rate:>9.1f}"
                f"{res['rss_mb']:>8.0f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--tables-data", type=Path, default=DEFAULT_TABLES)
    parser.add_argument(
        "--set", choices=("pdf", "tables", "all"), default="all", help="which data set(s) to score"
    )
    parser.add_argument("--peers-python", type=Path, default=DEFAULT_PEERS)
    parser.add_argument("--only", choices=CONTENDERS, action="append", help="run only these")
    parser.add_argument("--per-doc", action="store_true", help="print text scores per document")
    parser.add_argument("--big", action="store_true", help="1,000-page memory check")
    parser.add_argument("--big-pages", type=int, default=1000)
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--files", nargs="*", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.files)
    elif args.big:
        main_big(args)
    else:
        if args.set in ("pdf", "all"):
            main_quality(args)
        if args.set in ("tables", "all"):
            main_tables(args)


if __name__ == "__main__":
    main()
