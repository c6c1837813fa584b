"""One field's confidence from how sure the extractor is and how well the text was read.

``extraction_confidence`` says whether the right span was chosen; ``parsing_confidence`` is the
parse's confidence for the page(s) the value was read from (1 for a text layer, the OCR score
for a scan or photo). An OCR score is an average over the page: a long value (an address) is
more likely than a short one (a total) to hold at least one misread character, so the overall
``confidence`` discounts the parsing confidence by the length of the cited text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

CHARS_PER_STEP = 6.0
"""Cited characters per power of the page's parsing confidence (calibrated on the dev half of
the SROIE receipts; see bench/extract_quality.py)."""


ROLE_CALIBRATION: dict[str, tuple[float, float, float]] = {
    "address": (1.998, -0.152, 0.097),
    "date": (3.725, 0.175, 0.117),
    "total": (0.646, 1.204, 1.205),
    "vendor": (3.221, -0.423, 0.230),
}
"""Per role, ``(a, b, c)`` of ``P(right) = 1 / (1 + exp(-(a + b * score + c * margin)))`` for
the best candidate's score and its margin over the best different value. Fitted on the human
transcripts of the dev half of the SROIE receipts by ``bench/extract_calibration.py`` (the
choice of the span only: OCR reading errors are the parse discount's)."""


def role_confidence(role: str, score: float, runner: float) -> float:
    """The calibrated probability that a role field's best candidate is right."""
    a, b, c = ROLE_CALIBRATION[role]
    margin = min(max(score - runner, 0.0), 1.0)
    z = a + b * score + c * margin
    return round(min(0.99, 1.0 / (1.0 + math.exp(-z))), 3)


def parsing_of(citations: Sequence[dict[str, Any]], pages: dict[int, float | None]) -> float | None:
    """The lowest known parse confidence among the cited pages, or None."""
    known = [pages.get(c.get("page", 0)) for c in citations]
    values = [v for v in known if v is not None]
    return min(values) if values else None


def overall(extraction: float, parsing: float | None, cited_chars: int) -> float:
    """The field's confidence: ``extraction`` discounted for reading errors of the cited text."""
    if parsing is None or parsing >= 0.999:
        return round(extraction, 3)
    factor = max(parsing, 0.0) ** (max(cited_chars, 1) / CHARS_PER_STEP)
    return round(extraction * factor, 3)


def leaf_meta(
    extraction: float,
    reasoning: str,
    citations: list[dict[str, Any]],
    *,
    parsing: float | None,
) -> dict[str, Any]:
    """A leaf's field metadata in the wire shape."""
    chars = sum(len(str(c.get("matching_text") or "")) for c in citations)
    extraction = round(extraction, 3)
    return {
        "confidence": overall(extraction, parsing, chars) if citations else extraction,
        "extraction_confidence": extraction,
        "parsing_confidence": None if parsing is None else round(parsing, 3),
        "reasoning": reasoning,
        "citation": citations,
    }
