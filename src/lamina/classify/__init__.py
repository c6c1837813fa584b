"""Document classification by rules, pure Python (no model, no engine, no services).

A rule is a document ``type`` plus a natural-language ``description``. :func:`classify_text`
scores each rule against a document's text with BM25-style term weighting: the rule's words
(the description, and the type name counted twice) are the query, the document is the
collection of one; a word's weight is its rarity among the rules (a word every rule uses says
nothing), and its contribution saturates with how often the document uses it. Each rule's score is
divided by the best it could reach (its coverage); the confidence is the winner's share of the
coverage of all rules times how strongly it matched at all (``1 - exp(-6 * coverage)``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Classification", "Rule", "classify_text", "tokenize"]

_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_STOP = frozenset(
    """a an and are as at be by for from has have in into is it its of on or that the their
    this to was were will with which who whom whose any all each every other such than then
    these those there document documents file files contains contain containing typically
    usually often may might can could should would like e.g eg ie etc about also usually one
    two more most some many much very where when what how type types text page pages""".split()  # noqa: SIM905
)
_K1 = 1.2
_STRENGTH = 6.0


@dataclass(frozen=True)
class Rule:
    """A document type and what identifies it."""

    type: str
    description: str


@dataclass(frozen=True)
class Classification:
    """The chosen type (None when no rule matched at all), its confidence and every score."""

    type: str | None
    confidence: float
    scores: dict[str, float] = field(default_factory=dict)
    matched_terms: list[str] = field(default_factory=list)
    reasoning: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "confidence": self.confidence,
            "scores": self.scores,
            "matched_terms": self.matched_terms,
            "reasoning": self.reasoning,
        }


def _stem(word: str) -> str:
    """A light stemmer: plurals and common suffixes (invoices → invoice, billing → bill)."""
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "s", "ly"):
        if not word.endswith(suffix) or len(word) - len(suffix) < 4:
            continue
        stem = word[: -len(suffix)]
        if suffix in ("ies", "ied"):
            return stem + "y"
        if suffix == "es" and not stem.endswith(("s", "x", "z", "ch", "sh")):
            return word[:-1]  # invoices → invoice, but boxes → box
        if suffix == "s" and stem.endswith("s"):
            return word  # address, business
        return stem
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed words of ``text`` without stop words."""
    out = []
    for raw in _WORD.findall(text.lower()):
        if raw in _STOP:
            continue
        out.append(_stem(raw))
    return out


def _rule_terms(rule: Rule) -> Counter[str]:
    terms = Counter(tokenize(rule.description))
    for word in tokenize(rule.type.replace("_", " ").replace("-", " ")):
        terms[word] += 2
    return terms


def classify_text(text: str, rules: Sequence[Rule | Mapping[str, Any]]) -> Classification:
    """The rule that best matches ``text``, with a confidence in [0, 1]."""
    parsed = [
        r if isinstance(r, Rule) else Rule(str(r["type"]), str(r["description"])) for r in rules
    ]
    if not parsed:
        return Classification(None, 0.0, reasoning="No rules given")
    doc = Counter(tokenize(text))
    queries = [_rule_terms(rule) for rule in parsed]
    n = len(parsed)
    containing: Counter[str] = Counter()
    for query in queries:
        containing.update(set(query))
    scores: list[float] = []
    coverages: list[float] = []
    matches: list[list[str]] = []
    for query in queries:
        score = best = 0.0
        hit: list[str] = []
        for term, qtf in query.items():
            idf = math.log(1 + (n - containing[term] + 0.5) / (containing[term] + 0.5))
            weight = idf * (1 + math.log(qtf))
            best += weight
            tf = doc.get(term, 0)
            if tf:
                score += weight * tf * (_K1 + 1) / (tf + _K1) / (_K1 + 1)
                hit.append(term)
        scores.append(score)
        coverages.append(score / best if best else 0.0)
        matches.append(sorted(hit, key=lambda t: -doc[t]))
    top = max(range(n), key=lambda i: (coverages[i], scores[i]))
    if scores[top] <= 0:
        return Classification(
            None,
            0.0,
            {r.type: 0.0 for r in parsed},
            reasoning="No words of any rule appear in the document",
        )
    # Share of the evidence the winner holds, times how strongly it matched at all.
    share = coverages[top] / sum(coverages)
    strength = 1 - math.exp(-_STRENGTH * coverages[top])
    confidence = share * strength
    winner = parsed[top]
    return Classification(
        winner.type,
        round(confidence, 4),
        {r.type: round(c, 4) for r, c in zip(parsed, coverages, strict=True)},
        matches[top][:10],
        f"Matched {len(matches[top])} term(s) of the '{winner.type}' rule: "
        + ", ".join(matches[top][:5]),
    )
