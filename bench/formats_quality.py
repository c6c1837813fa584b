"""Text quality of the DOCX, PPTX, XLSX and HTML backends against docling's reference markdown.

Usage: ``python bench/formats_quality.py [--data ../shared/bench-data] [--show NAME]``

For every ``NAME`` with a ``NAME.gt.md`` in ``docx/``, ``pptx/``, ``xlsx/`` and ``html/``, parses
``NAME`` with :func:`lamina.engine.parse_document` and prints, per file:

- ``text``: normalised edit similarity of the words, both sides stripped of markdown syntax
  (heading marks, list markers, table pipes and rules, emphasis, link targets, HTML comments),
  i.e. difflib's ratio over the two word sequences (1.0 = the same words in the same order);
- ``head P/R``: heading precision and recall by normalised text (levels not compared:
  docling's levels follow its own habits);
- ``ms``: parse time.

``--show NAME`` prints Lamina's markdown for one file, to compare by eye.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import time
from pathlib import Path

from lamina.engine import parse_document

FOLDERS = ("docx", "html", "xlsx", "pptx")
_STRIP = (
    (re.compile(r"<!--.*?-->", re.DOTALL), " "),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r" \1 "),
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r" \1 "),
    (re.compile(r"^\s{0,12}(#{1,6}|[-*+]|\d+[.)])\s+", re.MULTILINE), " "),
    (re.compile(r"^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$", re.MULTILINE), " "),
    (re.compile(r"```\w*|`|\*\*|__|(?<!\w)[*_](?!\s)|(?<!\s)[*_](?!\w)|\|"), " "),
    (re.compile(r"<br\s*/?>"), " "),
)
_HEADING = re.compile(r"^#{1,6}\s+(.*)$", re.MULTILINE)


def plain_words(markdown: str) -> list[str]:
    """The words of a markdown text, syntax removed."""
    for pattern, repl in _STRIP:
        markdown = pattern.sub(repl, markdown)
    return markdown.split()


def headings(markdown: str) -> list[str]:
    return [" ".join(h.split()).lower() for h in _HEADING.findall(markdown)]


def similarity(ours: str, reference: str) -> float:
    a, b = plain_words(ours), plain_words(reference)
    if not a and not b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def precision_recall(ours: list[str], reference: list[str]) -> tuple[float, float]:
    if not ours and not reference:
        return 1.0, 1.0
    hits = len(set(ours) & set(reference))
    return hits / max(len(set(ours)), 1), hits / max(len(set(reference)), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "bench-data"
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--show", help="print Lamina's markdown for this file name")
    args = parser.parse_args()
    totals: dict[str, list[float]] = {}
    print(f"{'file':<46} {'text':>6} {'head P':>7} {'head R':>7} {'ms':>7}")
    for folder in FOLDERS:
        for gt in sorted((args.data / folder).glob("*.gt.md")):
            source = gt.with_name(gt.name.removesuffix(".gt.md"))
            reference = gt.read_text(encoding="utf-8")
            started = time.perf_counter()
            try:
                result = parse_document(source.read_bytes(), filename=source.name)
            except Exception as exc:
                print(f"{folder + '/' + source.name:<46} ERROR {type(exc).__name__}: {exc}")
                totals.setdefault(folder, []).append(0.0)
                continue
            ms = (time.perf_counter() - started) * 1000
            ours = "\n\n".join(p.markdown for p in result.pages)
            if args.show == source.name:
                print(ours)
            score = similarity(ours, reference)
            prec, rec = precision_recall(headings(ours), headings(reference))
            totals.setdefault(folder, []).append(score)
            name = f"{folder}/{source.name}"
            print(f"{name:<46} {score:6.3f} {prec:7.2f} {rec:7.2f} {ms:7.1f}")
    print()
    for folder, scores in totals.items():
        mean = sum(scores) / len(scores)
        print(f"{folder:<6} mean text similarity {mean:.3f} ({len(scores)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
