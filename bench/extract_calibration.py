"""Fit the local extractor's confidence for role fields (vendor, address, date, total) on the
dev half of the SROIE receipts, and print the coefficients for ``lamina.extract._confidence``.

Usage::

    python bench/extract_calibration.py [--ocr-cache DIR] [--sroie DIR]

The shipped coefficients are fitted on the transcripts only: they calibrate the choice of the
span (``extraction_confidence``); reading errors of OCR are the parse discount's business
(``CHARS_PER_STEP`` in the same module, chosen on the dev half's photos).

For every dev receipt (the ``dev`` half of ``bench/extract_quality.py``; the ``check`` half is
never read here), from the human transcript (and, with ``--ocr-cache DIR``, from the OCR items
kept by ``extract_quality.py --ocr-cache DIR``), each role field's best candidate gives two
numbers —
its score and its margin over the best candidate with a different value — and whether it is
right (normalised match, as in the quality bench). A logistic regression per role,
``P(right) = 1 / (1 + exp(-(a + b * score + c * margin)))``, turns them into a confidence.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.extract_quality import (  # noqa: E402
    default_sroie,
    field_match,
    load_receipts,
    transcript_pages,
)

from lamina.extract import Document  # noqa: E402
from lamina.extract._local import LocalExtractor, _same_value  # noqa: E402
from lamina.extract._roles import field_role  # noqa: E402
from lamina.extract._schema import compile_schema  # noqa: E402


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> np.ndarray:
    """Logistic regression by Newton's method, a small L2 penalty on the slopes."""
    xb = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(xb.shape[1])
    penalty = np.diag([0.0] + [l2] * x.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) + penalty @ w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + penalty
        w -= np.linalg.solve(hess, grad)
    return w


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sroie", type=Path, default=default_sroie())
    parser.add_argument(
        "--ocr-cache", type=Path, help="also fit on the OCR items kept here (default: transcripts)"
    )
    args = parser.parse_args()
    schema = json.loads((args.sroie / "schema.json").read_text(encoding="utf-8"))
    root = compile_schema(schema)
    rows: dict[str, list[tuple[float, float, int]]] = {}
    for receipt in load_receipts(args.sroie):
        if receipt.half != "dev":
            continue
        docs = [Document.from_pages(transcript_pages(receipt.transcript))]
        cached = args.ocr_cache / f"{receipt.id}.json" if args.ocr_cache else None
        if cached is not None and cached.exists():
            stored = json.loads(cached.read_text(encoding="utf-8"))
            confidence = {int(k): v for k, v in (stored.get("confidence") or {}).items()}
            docs.append(Document.from_pages(stored["pages"], confidence))
        for doc in docs:
            extractor = LocalExtractor(doc)
            for key, node in root.properties.items():
                role = field_role(key, node.title, node.description, node.kind)
                if role is None:
                    continue
                scored = extractor._ranked(node, key, role, extractor._labelled(node, (key,)))
                if not scored:
                    continue
                score, pick, value = scored[0]
                runner = next((s for s, p, _ in scored[1:] if not _same_value(p, pick, role)), 0)
                right = field_match(key, receipt.truth[key], value)[1]
                rows.setdefault(role, []).append((score, min(score - runner, 1.0), int(right)))
    print("ROLE_CALIBRATION = {")
    for role, data in sorted(rows.items()):
        arr = np.array(data, dtype=float)
        w = fit(arr[:, :2], arr[:, 2])
        print(
            f'    "{role}": ({w[0]:.3f}, {w[1]:.3f}, {w[2]:.3f}),  # n={len(arr)}, '
            f"right {arr[:, 2].mean():.2f}"
        )
    print("}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
