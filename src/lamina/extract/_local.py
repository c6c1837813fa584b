"""The local extractor (tier ``cost_effective``): parse items + a JSON Schema → data and field
metadata, with no model and no network.

1. Candidates: every (label, value) pair the layout suggests — ``Label: value`` (several per
   line), a label line with its value block below, a label prefix followed by a value on the
   same line (``Total  $1,234.50``), two-cell table rows, and header/first-row table grids.
2. For each schema leaf, the candidate whose label best names the field (words, synonyms,
   title, description) *and* whose value reads as the field's type wins.
3. Arrays of objects come from the table whose header best matches the item properties.
4. Values are coerced to the schema; a value not found is null with confidence 0, never guessed.

Every value found carries a citation: page, matched text, box (narrowed to the value within its
line), page size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lamina.extract._confidence import leaf_meta, parsing_of, role_confidence
from lamina.extract._document import Box, Document, Line, Table, span_box
from lamina.extract._labels import SYNONYMS, label_score, phrase, split_words
from lamina.extract._lexicon import repair_words
from lamina.extract._roles import (
    Pick,
    RoleFinder,
    address_score,
    field_role,
    find_prices,
    name_score,
)
from lamina.extract._schema import Node, coerce
from lamina.extract._values import (
    CURRENCY_CODES,
    LOCAL_CURRENCY,
    find_amount,
    find_currency,
    find_date,
    find_email,
    find_percent,
    find_phone,
    find_url,
    match_enum,
    parse_bool,
    parse_datetime,
    repair_ocr,
)

MIN_SCORE = 0.5
"""Below this label score a candidate is not trusted; the field stays null."""
ROLE_MIN_CONFIDENCE = 0.2
"""Below this a role field comes back null, with the best guess named in the reasoning."""
_PAIR_RE = re.compile(
    r"(?P<label>[A-Za-z#№][A-Za-z0-9 .#№/&'()%-]{0,40}?)\s*(?<!\d)[:\uff1a]\s*(?P<value>.*?)"
    r"(?=\s+[A-Z][A-Za-z .#/&'()-]{0,30}(?<!\d)[:\uff1a](?:\s|$)|$)"
)
_VENDOR_WORDS = {"vendor", "seller", "supplier", "merchant", "store", "issuer", "shop", "company"}
_SUMMARY_LABELS = {
    phrase(w)
    for group in SYNONYMS[:4]
    for w in group
    if w not in ("amount", "sum", "net", "balance")
}


@dataclass
class Candidate:
    """A label and the text of its value, with where the value sits."""

    label: str
    value: str
    page: int
    order: int
    prior: float
    line: Line | None = None
    offset: int = 0
    """Where ``value`` starts within ``line.text``."""
    box: Box | None = None
    block: list[Line] = field(default_factory=list)


@dataclass
class Found:
    """An extracted value and its metadata tree (a leaf entry, a dict, or a list)."""

    value: Any
    meta: Any


# --- candidates --------------------------------------------------------------------------------


def candidates(doc: Document) -> list[Candidate]:
    """Every (label, value) pair suggested by the document's lines and tables."""
    out: list[Candidate] = []
    for line in doc.lines:
        pairs = list(_PAIR_RE.finditer(line.text))
        for m in pairs:
            label, value = m.group("label").strip(), m.group("value").strip()
            if value:
                out.append(
                    Candidate(label, value, line.page, line.index, 1.0, line, m.start("value"))
                )
            else:
                right = _value_right(doc, line)
                if right is not None:
                    out.append(_below(label, [right], 1.0))
                block = _block_below(doc, line)
                if block:
                    out.append(_below(label, block, 0.95))
        if not pairs:
            words = line.text.split()
            if len(words) <= 6 and not _looks_like_value(line.text):
                right = _value_right(doc, line)
                if right is not None:
                    out.append(_below(line.text.strip(), [right], 0.9))
                block = _block_below(doc, line)
                if block:
                    out.append(_below(line.text.strip(), block, 0.85))
            for k in range(1, min(7, len(words))):
                label = " ".join(words[:k])
                if _looks_like_value(label):
                    break
                offset = _offset_after_words(line.text, k)
                out.append(
                    Candidate(label, line.text[offset:], line.page, line.index, 0.9, line, offset)
                )
    for table in doc.tables:
        labels = [_is_label_row(row) for row in table.rows]
        for r, row in enumerate(table.rows):
            if labels[r]:  # labels over the values of the next row (a form laid out as a grid)
                if r + 1 < len(table.rows) and not labels[r + 1]:
                    out += _grid_pairs(table, r, 0.95)
                continue
            filled = [c for c, text in enumerate(row) if text]
            if len(filled) >= 2 and not _looks_like_value(row[filled[-2]]):
                label, value = row[filled[-2]], row[filled[-1]]
                box = table.cell_box(r, filled[-1])
                out.append(Candidate(label, value, table.page, table.index, 0.95, box=box))
        if len(table.rows) >= 2 and not labels[0]:  # header over the first row, weakly
            out += _grid_pairs(table, 0, 0.9 if len(table.rows) == 2 else 0.6)
    return out


def _is_label_row(row: list[str]) -> bool:
    """A table row of labels only: every cell upper-case or ending in a colon, none data."""
    cells = [c for c in row if c]
    return bool(cells) and all(
        (c.isupper() or c.endswith(":")) and not _looks_like_value(c) for c in cells
    )


def _grid_pairs(table: Table, r: int, prior: float) -> list[Candidate]:
    """Candidates pairing each cell of row ``r`` with the cell under it."""
    out = []
    below = table.rows[r + 1]
    for j, label in enumerate(table.rows[r]):
        if label and j < len(below) and below[j]:
            box = table.cell_box(r + 1, j)
            out.append(Candidate(label, below[j], table.page, table.index, prior, box=box))
    return out


def _below(label: str, block: list[Line], prior: float) -> Candidate:
    first = block[0]
    return Candidate(
        label.rstrip(":").strip(), first.text, first.page, first.index, prior, first, 0, block=block
    )


def _offset_after_words(text: str, k: int) -> int:
    m = re.match(rf"\s*(?:\S+\s+){{{k}}}", text)
    return m.end() if m else len(text)


def _looks_like_value(text: str) -> bool:
    """Text that reads as data rather than a label: digits, an amount, an email, a date."""
    stripped = text.strip()
    return bool(
        re.search(r"\d", stripped) or find_email(stripped) or stripped.startswith(("$", "€", "£"))
    )


def _value_right(doc: Document, label: Line) -> Line | None:
    """The nearest line to the right of ``label`` on the same baseline (label left, value
    right, drawn as separate pieces)."""
    if label.box is None:
        return None
    lx, ly, lw, lh = label.box
    right_edge = lx + lw
    best: Line | None = None
    for line in doc.lines:
        if line is label or line.page != label.page or line.box is None:
            continue
        x, y, _w, h = line.box
        same_row = abs((y + h / 2) - (ly + lh / 2)) < max(lh, h) * 0.6
        nearer = best is None or x < best.box[0]  # type: ignore[index]
        if same_row and right_edge - 2 <= x <= right_edge + 250 and nearer:
            best = line
    if best is not None and _PAIR_RE.search(best.text):
        return None
    return best


def _block_below(doc: Document, label: Line) -> list[Line]:
    """Lines right under ``label`` and aligned with it (a label above its value block)."""
    if label.box is None:
        return []
    lx, ly, lw, lh = label.box
    below = [
        line
        for line in doc.lines
        if line.page == label.page
        and line.box is not None
        and line.box[1] > ly + lh * 0.5
        and line.box[0] < lx + max(lw, 40) + 10
        and line.box[0] + line.box[2] > lx - 5
    ]
    below.sort(key=lambda line: line.box[1] if line.box else 0)
    block: list[Line] = []
    bottom = ly + lh
    for line in below:
        assert line.box is not None
        if line.box[1] - bottom > max(lh, line.box[3]) * 1.6:
            break
        if block and abs(line.box[0] - block[0].box[0]) > 15:  # type: ignore[index]
            break
        if _PAIR_RE.search(line.text) and not block:
            break
        block.append(line)
        bottom = line.box[1] + line.box[3]
        if len(block) >= 4:
            break
    return block


# --- reading one value --------------------------------------------------------------------------


def field_words(node: Node, path: tuple[str, ...]) -> tuple[str, ...]:
    """Names a field is known by: its key (with its parent's), title, description."""
    key = node.name or (path[-1] if path else "")
    names: list[str] = []
    if len(path) >= 2:
        names.append(f"{path[-2]} {key}")
    names += [key, node.title, node.description]
    if len(path) >= 2 and phrase(key) in ("name", "company", "company name", "full name"):
        names.append(path[-2])
    return tuple(n for n in names if n)


def _kind_hint(node: Node, key: str) -> str:
    words = set(split_words(key))
    fmt = (node.format or "").lower()
    if node.enum:
        return "enum"
    if node.kind == "boolean":
        return "bool"
    if node.kind in ("number", "integer"):
        if words & {"rate", "percent", "percentage", "pct"} or "%" in key:
            return "percent"
        return node.kind
    if fmt == "email" or "email" in words or "mail" in words:
        return "email"
    if fmt in ("date",) or (not fmt and "date" in words and node.kind == "string"):
        return "date" if fmt == "date" else "date_text"
    if fmt == "date-time":
        return "datetime"
    if fmt in ("uri", "url") or words & {"url", "website", "web", "site"}:
        return "url"
    if "phone" in words or "telephone" in words or "fax" in words or "mobile" in words:
        return "phone"
    if "currency" in words:
        return "currency"
    if words & {"number", "id", "code", "reference", "ref"} and not words & {"phone"}:
        return "identifier"
    return "text"


def read_value(node: Node, key: str, text: str) -> tuple[Any, tuple[int, int]] | None:
    """Read ``text`` as the field's type: the value and the span of ``text`` it came from."""
    text = text.rstrip()
    hint = _kind_hint(node, key)
    whole = (0, len(text))
    if hint == "enum":
        assert node.enum is not None
        value = match_enum(text, node.enum)
        return (value, whole) if value is not None else None
    if hint == "bool":
        flag = parse_bool(text)
        return (flag, whole) if flag is not None else None
    if hint == "percent":
        found_pct = find_percent(text)
        if found_pct:
            return found_pct
    if hint in ("number", "integer", "percent"):
        amount = find_amount(text, prefer_currency=hint == "number")
        if amount is None:
            return None
        value_num: float | int = amount[0]
        if node.kind == "integer":
            if not float(value_num).is_integer():
                return None
            value_num = int(value_num)
        return value_num, amount[1]
    if hint in ("date", "date_text"):
        found_date = find_date(text)
        if not found_date:
            return None
        if hint == "date":
            return found_date
        return text[found_date[1][0] : found_date[1][1]], found_date[1]
    if hint == "datetime":
        found_date = find_date(text)
        if not found_date:
            return None
        return parse_datetime(text[found_date[1][0] :]), (found_date[1][0], len(text))
    finders = {"email": find_email, "phone": find_phone, "url": find_url, "currency": find_currency}
    if hint in finders:
        found = finders[hint](text)
        return found if found else None
    cleaned = text.strip().strip(",;")
    if not cleaned or cleaned in ("-", "—", "N/A", "n/a"):
        return None
    if hint == "identifier":  # a number, code or reference holds a digit; a sentence does not
        m = re.search(r"[A-Za-z0-9#/._-]*\d[A-Za-z0-9#/._-]*", cleaned)
        return (m.group(0).strip("."), m.span()) if m else None
    start = text.find(cleaned)
    return cleaned, (start, start + len(cleaned))


# --- the extractor ------------------------------------------------------------------------------


class LocalExtractor:
    """Rule-based extraction over one document (or one page / one table of it)."""

    def __init__(self, doc: Document, *, parsing_confidence: float | None = None) -> None:
        self.doc = doc
        self.cands = candidates(doc)
        self.roles = RoleFinder(doc)
        self.parsing_confidence = parsing_confidence
        self.used_tables: set[int] = set()

    # objects -----------------------------------------------------------------------------------

    def extract_object(self, node: Node, path: tuple[str, ...] = ()) -> Found:
        data: dict[str, Any] = {}
        meta: dict[str, Any] = {}
        for key, sub in node.properties.items():
            found = self.extract_node(sub, (*path, key))
            data[key], meta[key] = found.value, found.meta
        return Found(data, meta)

    def extract_node(self, node: Node, path: tuple[str, ...]) -> Found:
        if node.kind == "object":
            return self.extract_object(node, path)
        if node.kind == "array":
            return self.extract_array(node, path)
        return self.extract_leaf(node, path)

    def extract_leaf(self, node: Node, path: tuple[str, ...]) -> Found:
        key = path[-1] if path else node.name
        best = self._labelled(node, path)
        role = field_role(key, node.title, node.description, node.kind) if len(path) == 1 else None
        if role is not None:
            return self._by_role(node, key, role, best)
        if best is None:
            fallback = self._by_pattern(node, key) or self._letterhead(node, path)
            if fallback is not None:
                return fallback
            return self.missing(key, f"No label naming {key!r} with a readable value was found.")
        score, cand, value, span = best
        value = coerce(node, value) if not isinstance(value, bool) else value
        return Found(
            value, self._meta(cand, span, min(score, 1.0), f"Read next to {cand.label!r}.")
        )

    def _labelled(
        self, node: Node, path: tuple[str, ...]
    ) -> tuple[float, Candidate, Any, tuple[int, int]] | None:
        """The best (label, value) candidate for a leaf: label score x layout prior."""
        key = path[-1] if path else node.name
        names = field_words(node, path)
        best: tuple[float, Candidate, Any, tuple[int, int]] | None = None
        for cand in self.cands:
            score = label_score(names, cand.label)
            if score * cand.prior < MIN_SCORE or (best and score * cand.prior <= best[0]):
                continue
            text = cand.value
            if cand.block and _kind_hint(node, key) == "text" and "address" in split_words(key):
                text = ", ".join(line.text for line in cand.block)
            read = read_value(node, key, text)
            if read is None or read[0] is None:
                continue
            best = (score * cand.prior, cand, read[0], read[1])
        return best

    def _by_role(
        self,
        node: Node,
        key: str,
        role: str,
        labelled: tuple[float, Candidate, Any, tuple[int, int]] | None,
    ) -> Found:
        """A field with a role: the role finder's candidates and the labelled one compete; the
        winner's score, lowered when a different runner-up is close, is the confidence."""
        scored = self._ranked(node, key, role, labelled)
        if not scored:
            return self.missing(key, f"No {role} candidate for {key!r} was found on the page.")
        score, pick, value = scored[0]
        runner = next((s for s, p, _ in scored[1:] if not _same_value(p, pick, role)), 0.0)
        confidence = _confidence(role, score, runner)
        reason = pick.reason
        if runner:
            alt = next(p for s, p, _ in scored[1:] if not _same_value(p, pick, role))
            reason += f" Runner-up: {alt.text[:60]!r}."
        if confidence < ROLE_MIN_CONFIDENCE:
            return self.missing(
                key, f"Too unsure to answer (confidence {confidence:.2f}): {reason}"
            )
        if role in ("vendor", "address") and isinstance(value, str) and self._ocr(pick):
            repaired = repair_ocr(value)
            if repaired != value:
                reason += " OCR look-alike characters repaired (0/O, 1/l, 5/S)."
                value = repaired
            value, respelt = repair_words(value)
            if respelt:
                confidence = round(confidence * 0.95 ** len(respelt), 3)
                reason += f" Misread words respelt: {', '.join(respelt[:3])}."
            garbled = _garbled_words(value, names=role == "vendor")
            if garbled:
                confidence = round(confidence * 0.85 ** len(garbled), 3)
                reason += f" Misread words likely: {', '.join(garbled[:3])}."
        if role == "total" and isinstance(value, str):
            # A labelled cell ("RM 30.70") read whole: keep the amount, as the role finder's
            # own picks do (a letter currency code is not part of the printed amount).
            value = _LETTER_CODE.sub("", value).strip() or value
        value = coerce(node, value) if not isinstance(value, bool) else value
        citations = pick.citations or [
            self.doc.citation(line.page, line.text[a:b], box) for line, (a, b), box in pick.spans
        ]
        return Found(value, self.meta(confidence, reason, citations))

    def _ranked(
        self,
        node: Node,
        key: str,
        role: str,
        labelled: tuple[float, Candidate, Any, tuple[int, int]] | None,
    ) -> list[tuple[float, Pick, Any]]:
        """(score, pick, value) for every readable candidate of a role field, best first."""
        picks = list(self.roles.picks(role))
        label_pick = self._label_as_pick(node, key, role, labelled)
        if label_pick is not None and labelled is not None:
            same = [p for p in picks if _same_value(p, label_pick, role)]
            if same:  # the label confirms a layout candidate
                same[0].score += 0.15
                same[0].reason = same[0].reason.rstrip(".") + f"; labelled {labelled[1].label!r}."
            else:
                picks.append(label_pick)
        scored: list[tuple[float, Pick, Any]] = []
        for pick in picks:
            read = read_value(node, key, pick.text)
            value = read[0] if read is not None else None
            if value is not None:
                scored.append((pick.score, pick, value))
        scored.sort(key=lambda t: -t[0])
        return scored

    def hints(self, node: Node, limit: int = 3) -> dict[str, list[dict[str, Any]]]:
        """For each top-level leaf of ``node``: the best candidate values the rules see, with
        their confidence, citations and reasoning (what a model is shown, and what its answers
        are checked against)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for key, sub in node.properties.items():
            if not sub.is_leaf:
                continue
            labelled = self._labelled(sub, (key,))
            role = field_role(key, sub.title, sub.description, sub.kind)
            entries: list[dict[str, Any]] = []
            if role is not None:
                scored = self._ranked(sub, key, role, labelled)
                for i, (score, pick, value) in enumerate(scored[:limit]):
                    runner = next(
                        (s for s, p, _ in scored[i + 1 :] if not _same_value(p, pick, role)), 0.0
                    )
                    citations = pick.citations or [
                        self.doc.citation(line.page, line.text[a:b], box)
                        for line, (a, b), box in pick.spans
                    ]
                    entries.append(
                        self.meta(_confidence(role, score, runner), pick.reason, citations)
                        | {"value": coerce(sub, value), "text": pick.text}
                    )
            elif labelled is not None:
                score, cand, value, span = labelled
                meta = self._meta(cand, span, min(score, 1.0), f"Read next to {cand.label!r}.")
                text = meta["citation"][0]["matching_text"] if meta["citation"] else str(value)
                entries.append(meta | {"value": coerce(sub, value), "text": text})
            if entries:
                out[key] = entries
        return out

    def _ocr(self, pick: Pick) -> bool:
        """Whether ``pick`` was read from a page with a parse confidence below 1 (OCR)."""
        pages = {line.page for line, _, _ in pick.spans} or set(self.doc.pages)
        return any(
            (info := self.doc.pages.get(n)) is not None
            and info.confidence is not None
            and info.confidence < 0.999
            for n in pages
        )

    def _label_as_pick(
        self,
        node: Node,
        key: str,
        role: str,
        labelled: tuple[float, Candidate, Any, tuple[int, int]] | None,
    ) -> Pick | None:
        """The labelled candidate as a role pick, if its value fits the role."""
        if labelled is None:
            return None
        score, cand, _value, span = labelled
        text = cand.value[span[0] : span[1]] if cand.line is not None or not cand.block else ""
        if cand.block and role == "address":
            text = " ".join(line.text.strip() for line in cand.block)
            spans = [(line, (0, len(line.text)), line.box) for line in cand.block]
        elif cand.line is not None:
            start = cand.offset + span[0]
            end = cand.offset + span[1]
            text = cand.line.text[start:end]
            spans = [(cand.line, (start, end), span_box(cand.line, (start, end)))]
        else:
            text = cand.value[span[0] : span[1]]
            spans = []
        fits = {
            "vendor": lambda t: name_score(t) >= 0.4,
            "address": lambda t: address_score(t) >= 0.3,
            "total": lambda t: any(v > 0 for _, _, v in find_prices(t)) or _marked_amount(t),
            "date": lambda t: find_date(t) is not None,
        }[role]
        if not text.strip() or not fits(text):
            return None
        pick = Pick(
            text.strip(), 0.45 + 0.4 * min(score, 1.0), spans, f"Read next to {cand.label!r}."
        )
        pick.citations = self._meta(cand, span, 0.0, "")["citation"]
        if role == "total":
            prices = find_prices(text)
            amount = find_amount(text)
            pick.value = round(prices[-1][2] if prices else amount[0] if amount else 0.0, 2)
        elif role == "date":
            found = find_date(text)
            pick.value = found[0] if found else None
        return pick

    def _by_pattern(self, node: Node, key: str) -> Found | None:
        """Emails, phones and URLs are recognisable on their own: the first one in the text."""
        hint = _kind_hint(node, key)
        finders = {"email": find_email, "url": find_url}
        if hint not in finders:
            return None
        for line in self.doc.lines:
            found = finders[hint](line.text)
            if found:
                cand = Candidate("", line.text, line.page, line.index, 0.6, line, 0)
                return Found(found[0], self._meta(cand, found[1], 0.6, f"The document's {hint}."))
        return None

    def _letterhead(self, node: Node, path: tuple[str, ...]) -> Found | None:
        """A vendor/seller name with no label is usually the letterhead: the tallest line in
        the top fifth of the first page. Reported with confidence 0.5."""
        words = set(split_words(" ".join(path[-2:])))
        if node.kind != "string" or not words & _VENDOR_WORDS or not self.doc.pages:
            return None
        if path and phrase(path[-1]) not in _VENDOR_WORDS | {"name", "company name"}:
            return None
        first = min(self.doc.pages)
        height = self.doc.pages[first].height or 842.0
        top = [
            line
            for line in self.doc.lines
            if line.page == first
            and line.box is not None
            and line.box[1] < height / 5
            and not _looks_like_value(line.text)
            and not _PAIR_RE.search(line.text)
        ]
        if not top:
            return None
        line = max(top, key=lambda ln: (ln.box[3], -ln.box[1]))  # type: ignore[index]
        cand = Candidate("", line.text, line.page, line.index, 0.5, line, 0)
        return Found(
            line.text.strip(),
            self._meta(cand, (0, len(line.text)), 0.5, "Unlabelled letterhead at the top."),
        )

    def _meta(
        self, cand: Candidate, span: tuple[int, int], confidence: float, reasoning: str
    ) -> dict[str, Any]:
        if cand.line is not None:
            text = cand.value
            start = cand.offset + span[0]
            end = cand.offset + min(span[1], len(text))
            if cand.block and span[1] > len(cand.block[0].text):  # an address block
                citations = [
                    self.doc.citation(line.page, line.text, line.box) for line in cand.block
                ]
            else:
                matched = cand.line.text[start:end]
                box = span_box(cand.line, (start, end))
                citations = [self.doc.citation(cand.page, matched, box)]
        else:
            citations = [self.doc.citation(cand.page, cand.value[span[0] : span[1]], cand.box)]
        return self.meta(confidence, reasoning, citations)

    def meta(
        self, confidence: float, reasoning: str, citations: list[dict[str, Any]]
    ) -> dict[str, Any]:
        parsing = self.parsing_confidence
        if parsing is None:
            parsing = parsing_of(citations, {n: p.confidence for n, p in self.doc.pages.items()})
        return leaf_meta(confidence, reasoning, citations, parsing=parsing)

    def missing(self, key: str, reasoning: str) -> Found:
        return Found(None, self.meta(0.0, reasoning, []))

    # arrays ------------------------------------------------------------------------------------

    def extract_array(self, node: Node, path: tuple[str, ...]) -> Found:
        items = node.items
        if items is None:
            return Found([], [])
        if items.kind == "object":
            rows = self.table_rows(items, field_words(node, path))
            return Found([r.value for r in rows], [r.meta for r in rows])
        column = self._column(items, node, path)
        if column is not None:
            return column
        leaf = self.extract_leaf(node.items or items, path)
        if leaf.value is None:
            return Found([], [])
        parts = [p.strip() for p in re.split(r"[;,]", str(leaf.value)) if p.strip()]
        values = [coerce(items, p) for p in parts]
        return Found([v for v in values if v is not None], [leaf.meta for _ in values])

    def _column(self, items: Node, node: Node, path: tuple[str, ...]) -> Found | None:
        names = field_words(node, path)
        for table in self.doc.tables:
            for j, head in enumerate(table.header):
                if label_score(names, head) >= 0.7:
                    values, metas = [], []
                    for r, row in enumerate(table.body, start=1):
                        if j < len(row) and row[j]:
                            value = coerce(items, row[j])
                            if value is not None:
                                values.append(value)
                                metas.append(self._cell_meta(table, r, j, row[j], 0.8))
                    return Found(values, metas)
        return None

    def _cell_meta(
        self, table: Any, row: int, col: int, text: str, confidence: float
    ) -> dict[str, Any]:
        citation = self.doc.citation(table.page, text, table.cell_box(row, col))
        return self.meta(confidence, "Read from a table cell.", [citation])

    def map_columns(self, item: Node, header: list[str]) -> dict[str, tuple[int, float]]:
        """Property → (column, score), each column used once, best pairs first."""
        pairs = []
        for key, sub in item.properties.items():
            if sub.kind in ("object", "array"):
                continue
            names = field_words(sub, (key,))
            for j, head in enumerate(header):
                score = label_score(names, head) if head else 0.0
                if score >= 0.45:
                    pairs.append((score, key, j))
        pairs.sort(key=lambda p: -p[0])
        mapping: dict[str, tuple[int, float]] = {}
        taken: set[int] = set()
        for score, key, j in pairs:
            if key not in mapping and j not in taken:
                mapping[key] = (j, score)
                taken.add(j)
        return mapping

    def table_rows(self, item: Node, owner_names: tuple[str, ...]) -> list[Found]:
        """One object per body row of the tables whose header best matches ``item``."""
        scored = []
        for table in self.doc.tables:
            if table.index in self.used_tables:
                continue
            mapping = self.map_columns(item, table.header)
            if not mapping:
                continue
            scalar = [k for k, s in item.properties.items() if s.is_leaf]
            coverage = sum(s for _, s in mapping.values()) / max(len(scalar), 1)
            if len(mapping) >= min(2, len(scalar)) and coverage >= 0.3:
                scored.append((coverage, table, mapping))
        if not scored:
            return []
        best_cov = max(s[0] for s in scored)
        chosen = [s for s in scored if s[0] >= best_cov * 0.8]
        out: list[Found] = []
        for _, table, mapping in sorted(chosen, key=lambda s: s[1].index):
            self.used_tables.add(table.index)
            for r, row in enumerate(table.body, start=1):
                found = self.row_object(item, table, r, row, mapping)
                if found is not None:
                    out.append(found)
        return out

    def row_object(
        self,
        item: Node,
        table: Any,
        r: int,
        row: list[str],
        mapping: dict[str, tuple[int, float]],
    ) -> Found | None:
        if self._summary_row(row, mapping):
            return None
        data: dict[str, Any] = {}
        meta: dict[str, Any] = {}
        filled = 0
        for key, sub in item.properties.items():
            if key not in mapping or mapping[key][0] >= len(row) or not row[mapping[key][0]]:
                data[key] = None if sub.is_leaf else ([] if sub.kind == "array" else None)
                meta[key] = self.missing(key, f"No column for {key!r} in this row.").meta
                continue
            j, score = mapping[key]
            read = read_value(sub, key, row[j])
            if read is None:
                data[key] = None
                meta[key] = self.missing(key, f"Cell {row[j]!r} is not a {sub.kind}.").meta
                continue
            data[key] = coerce(sub, read[0]) if not isinstance(read[0], bool) else read[0]
            filled += 1
            text = row[j][read[1][0] : read[1][1]] or row[j]
            citation = self.doc.citation(table.page, text, table.cell_box(r, j))
            meta[key] = self.meta(
                min(score, 1.0) * 0.95, f"Column {table.header[j]!r}.", [citation]
            )
        if filled == 0 or filled < len(mapping) / 2:
            return None
        return Found(data, meta)

    def _summary_row(self, row: list[str], mapping: dict[str, tuple[int, float]]) -> bool:
        """A totals row under the items (``Subtotal``, ``Tax``, ``Total``) is not an item."""
        return any(cell and phrase(cell.rstrip(":")) in _SUMMARY_LABELS for cell in row)


def _same_value(a: Pick, b: Pick, role: str) -> bool:
    if a.value is not None and b.value is not None:
        return a.value == b.value
    return re.sub(r"[^a-z0-9]", "", a.text.lower()) == re.sub(r"[^a-z0-9]", "", b.text.lower())


def _confidence(role: str, score: float, runner: float) -> float:
    """A candidate's score as a confidence: the score itself (capped, and lowered when a
    different candidate scored close to it: the choice between them is a coin toss), never
    above the role's calibrated probability of being right (:func:`role_confidence`), which
    is fitted on few receipts and so only trusted to lower a score, not to raise it."""
    base = max(0.0, min(score, 0.99))
    margin = score - runner
    if margin < 0.3:
        base *= 0.55 + 0.45 * max(margin, 0.0) / 0.3
    return round(min(base, role_confidence(role, score, runner)), 3)


_CODE_ALT = "|".join(sorted({*CURRENCY_CODES, *LOCAL_CURRENCY}, key=len, reverse=True))
_LETTER_CODE = re.compile(rf"^(?:{_CODE_ALT})\.?\s*(?=[-+(]?\d)|(?<=\d)\s*(?:{_CODE_ALT})$", re.I)
"""A letter currency code before or after an amount (``RM 30.70``, ``12.00 EUR``)."""


def _marked_amount(text: str) -> bool:
    """An amount with a currency mark, of at least two digits or with decimals (``$99``,
    ``120 EUR``; not ``RM1``, an OCR slip)."""
    found = find_amount(text)
    if found is None or found[2] is None or found[0] <= 0:
        return False
    number = text[found[1][0] : found[1][1]]
    return len(re.sub(r"\D", "", number)) >= 2 or bool(re.search(r"[.,]\d", number))


def _garbled_words(text: str, *, names: bool) -> list[str]:
    """Words an OCR engine probably misread: digits inside letters (``EK9L05IF``); in a
    name, also letters ending in a digit (``MART5``). Codes such as ``S117``, ``3RD``, ``SS21``
    or ``109F`` are not counted."""
    inside = re.compile(r"[A-Za-z]{2,}\d+[A-Za-z]|[A-Za-z]\d+[A-Za-z]{2,}")
    trailing = re.compile(r"[A-Za-z]{3,}\d")
    return [
        word
        for word in re.findall(r"[A-Za-z0-9]+", text)
        if inside.search(word) or (names and trailing.fullmatch(word))
    ]
