"""Fields found without a label, from layout and meaning: the issuer's name at the top, its
address block under it, the document date, the total payable near the bottom.

A schema field is given a *role* when its key, title or description says what it is
(``company`` / "issuing company name" → ``vendor``; ``total`` / "total amount paid" →
``total``). Each role has a finder that reads the page as rows (:mod:`lamina.extract._layout`)
and scores every candidate span with a few plain, named cues (position, type of the text,
neighbouring labels, arithmetic between amounts). The best candidate's score, discounted when a
different runner-up scores close to it, is the confidence reported with the value.

Roles are about business documents in general (receipts, invoices, bills, forms with a
letterhead), not about any one layout: the cues are common printing habits (the name in the
letterhead, ``TOTAL`` before the amount, ``CASH`` and ``CHANGE`` after it), and every cue is
optional.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from lamina.extract._document import Box, Document, Line
from lamina.extract._labels import split_words
from lamina.extract._layout import Layout, Row, build_layout
from lamina.extract._lexicon import PLACES, repair_words
from lamina.extract._values import AMOUNT_RE, find_date, repair_ocr

# --- which role a field plays -------------------------------------------------------------------

_ROLE_WORDS: dict[str, tuple[frozenset[str], ...]] = {
    "vendor": tuple(
        frozenset(split_words(p))
        for p in (
            "company",
            "company name",
            "vendor",
            "vendor name",
            "merchant",
            "merchant name",
            "store",
            "store name",
            "shop",
            "shop name",
            "seller",
            "seller name",
            "supplier",
            "supplier name",
            "issuer",
            "business name",
            "restaurant",
            "restaurant name",
            "issuing company",
            "issued by",
            "biller",
        )
    ),
    "address": tuple(
        frozenset(split_words(p))
        for p in (
            "address",
            "company address",
            "vendor address",
            "merchant address",
            "store address",
            "shop address",
            "seller address",
            "supplier address",
            "business address",
            "issuer address",
        )
    ),
    "total": tuple(
        frozenset(split_words(p))
        for p in (
            "total",
            "total amount",
            "grand total",
            "amount due",
            "total due",
            "amount paid",
            "total paid",
            "amount payable",
            "total payable",
            "invoice total",
            "receipt total",
            "balance due",
            "total price",
            "total cost",
        )
    ),
    "date": tuple(
        frozenset(split_words(p))
        for p in (
            "date",
            "receipt date",
            "invoice date",
            "transaction date",
            "purchase date",
            "issue date",
            "date issued",
            "bill date",
            "order date",
            "sale date",
        )
    ),
}
_NOT_ROLE = frozenset(
    split_words(
        "customer client buyer recipient billing bill shipping ship delivery email mail due "
        "birth start end expiry expiration sub subtotal tax vat gst tip discount quantity qty "
        "item items line employer payment"
    )
)
_DESCRIPTION_VETO = frozenset(
    split_words(
        "customer client buyer recipient billing shipping ship delivery employer birth expiry "
        "expiration subtotal tax vat gst tip discount"
    )
)
_DESCRIPTION_CUES = {
    "vendor": re.compile(
        r"\b(issu\w*|vendor|merchant|store|shop|seller|supplier|restaurant|company)\b", re.I
    ),
    "address": re.compile(r"\baddress\b", re.I),
    "total": re.compile(r"\btotal\b|\bamount (paid|due|payable)\b", re.I),
    "date": re.compile(r"\bdate\b", re.I),
}


def field_role(key: str, title: str | None, description: str | None, kind: str) -> str | None:
    """The role of a field from its key (and title), confirmed or given by its description;
    None when the field names something else (``due_date``, ``customer_address``...).

    The longest role phrase inside the key wins (``store_address`` is an address, not a
    store); a key with a word that names another field (``due``, ``customer``, ``sub``) has no
    role."""
    if kind not in ("string", "number", "integer"):
        return None
    words = set(split_words(key)) | set(split_words(title or ""))
    desc = description or ""
    desc_words = set(split_words(desc))
    best: tuple[float, str] | None = None
    for role, phrases in _ROLE_WORDS.items():
        for p in phrases:
            extra = words - p
            if not p <= words or len(extra) > 1 or extra & _NOT_ROLE:
                continue
            score = len(p) - 0.5 * len(extra)
            if best is None or score > best[0]:
                best = (score, role)
    if best is not None:
        role = best[1]
        if desc_words & _DESCRIPTION_VETO:
            return None  # "company": "the employer of the applicant"
        return role
    if desc and not words & _NOT_ROLE and not desc_words & _DESCRIPTION_VETO:
        for role, cue in _DESCRIPTION_CUES.items():
            if cue.search(desc) and (words & {"name", "amount", "date", "address", "value"}):
                return role
    return None


# --- candidates -------------------------------------------------------------------------------


@dataclass
class Pick:
    """A value a role finder proposes: its text, the score, where it was read, and why."""

    text: str
    score: float
    spans: list[tuple[Line, tuple[int, int], Box | None]]
    reason: str
    value: float | str | None = None
    """The comparable value (a number for amounts, an ISO date) when there is one."""
    cues: list[str] = field(default_factory=list)
    row: int = -1
    """Index of the row the value was read from (order on the page)."""
    citations: list[dict[str, Any]] | None = None
    """Ready citations (a value read from a table cell has a cell box, not a line span)."""


def _span_of(row: Row, start: int, end: int) -> list[tuple[Line, tuple[int, int], Box | None]]:
    return row.locate(start, end)


def _whole(row: Row) -> list[tuple[Line, tuple[int, int], Box | None]]:
    return row.locate(0, len(row.text))


# --- text classes -----------------------------------------------------------------------------

COMPANY_SUFFIX = re.compile(
    r"\b(sdn\.?\s*bhd|bhd|s/b|pte\.?\s*ltd|ltd|limited|llc|l\.l\.c|inc|incorporated|corp|"
    r"corporation|co\.|company|gmbh|ag|s\.?a\.?r\.?l|s\.?a|s\.?p\.?a|b\.?v|n\.?v|plc|pty|"
    r"enterprise|enterprises|trading|holdings|group|restaurant|restoran|cafe|café|bakery|"
    r"hotel|store|stores|mart|market|supermarket|hardware|pharmacy|stationery|bookstore|"
    r"kedai|florist|station|kopitiam|house|kitchen|shop|boutique|services|industries)\b\.?"
    r"|(sdn\.?\s*bhd|s/b|pte\.?\s*ltd)\b|(bhd|ltd|gmbh|llc)\W*$",
    re.I,
)
"""Words of business names and legal forms; the legal forms also glued to the name by OCR
(``TRADINGSDNBHD``, ``ACMELTD``)."""
_SUFFIX_ONLY = re.compile(
    r"^\W*(\([^)]*\)\s*)*(sdn\.?\s*bhd|bhd|s/b|pte\.?\s*ltd|ltd|limited|llc|inc|gmbh|plc|"
    r"co\.?|corp)\.?\W*$",
    re.I,
)
_GENERIC_NAME = re.compile(
    r"\b(company|co|corp|corporation|inc|ltd|limited|llc|sdn|bhd|s/b|reg\w*|no|number|the)\b",
    re.I,
)
_SUFFIX_START = re.compile(
    r"^\W*(\([^)]*\)\s*)*(sdn\.?\s*bhd|bhd|s/b|pte|ltd|limited|llc|inc|gmbh|plc|co\.|corp)",
    re.I,
)
_LEGAL_START = re.compile(
    r"^\W*(enterprise|trading|holdings|industries|services|corporation)\b", re.I
)
_STREET_LONG = [
    "jalan",
    "lorong",
    "persiaran",
    "lebuhraya",
    "lebuh",
    "taman",
    "kampung",
    "bandar",
    "street",
    "road",
    "avenue",
    "boulevard",
    "lane",
    "drive",
    "highway",
    "place",
    "square",
    "plaza",
    "centre",
    "center",
    "mall",
    "complex",
    "building",
    "bangunan",
    "wisma",
    "menara",
    "tower",
    "block",
    "floor",
    "level",
    "suite",
    "unit",
    "industrial",
    "park",
    "seksyen",
    "section",
    "batu",
    "mile",
    "strasse",
    "straße",
    "rue",
    "via",
    "calle",
    "avenida",
    "district",
    "ground",
    "shopping",
    "uptown",
    "perindustrian",
    "kawasan",
]
_STREET_SHORT = [
    "jln",
    "lrg",
    "tmn",
    "kg",
    "st",
    "rd",
    "ave",
    "blvd",
    "ln",
    "dr",
    "hwy",
    "pl",
    "sq",
    "bldg",
    "blk",
    "flr",
    "lvl",
    "ste",
    "lot",
    "km",
    "off",
    "str",
]
_STREET = re.compile(
    r"(?<![A-Za-z])("
    + "|".join(_STREET_LONG)
    + r")|(?<![A-Za-z])("
    + "|".join(_STREET_SHORT)
    + r")(?![A-Za-z])|p\.?\s?o\.?\s*box|(?<![A-Za-z])no\.?\s?\d",
    re.I,
)
"""Street words; the long ones also as the start of a glued OCR word (``JALANAIRPANAS``).
``no`` counts only before a number (``NO 290``, ``No.2-1-1``)."""
_POSTCODE = re.compile(
    r"(?<![\d-])(\d{5}|\d{4}|\d{6}|\d{3}-\d{4}|\d{5}-\d{4}|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})"
    r"(?![\d-])"
)
_CONTACT = re.compile(
    r"\b(tel|telephone|phone|ph|fax|hp|h/p|mobile|mob|email|e-mail|www|http|website|hotline|"
    r"whatsapp|call)\b|@|\.com\b",
    re.I,
)
_REGISTRATION = re.compile(
    r"\b(gst|sst|vat|tax|tin|abn|ein|co\.?\s*reg|reg\.?\s*n[o0]|registration|company\s*n[o0]|"
    r"co\.?\s*n[o0]|roc|business\s*n[o0]|brn|uen|id\s*n[o0]|siret|nif|cif|ust)\b|\bgst\s*(reg|id)|^\W*\(\s*\d{3,}[-\s]?"
    r"[A-Z]{1,2}\s*\)\W*$|^\W*\d{4,}-[A-Z]{1,2}\W*$|^\W*\(\s*[\dA-Z]{4,}[-\s][\dA-Z]{1,3}\s*\)\W*$",
    re.I,
)
_TITLE = re.compile(
    r"^\W*(official\s*)?(tax\s*|cash\s*|simplified\s*)?(receipt|invoice|bill|cash\s*bill|"
    r"sales\s+receipt|order|quotation|quote|statement|credit\s+note|debit\s+note|delivery\s+"
    r"order|payment\s+voucher|voucher|docket|ticket|welcome|thank\s+you|copy|duplicate|"
    r"customer\s+copy|merchant\s+copy|original|guest\s*check)\b",
    re.I,
)
_FIELD_LABEL = re.compile(
    r"\b(date|time|cashier|counter|table|pax|no\.?\s*of|invoice\s*(no|number|#)|bill\s*(no|#)|"
    r"receipt\s*(no|#)|order\s*(no|#)|trans|terminal|pos|member|customer|operator|staff|"
    r"served\s+by|salesperson|qty|quantity|description|item|price|amount|total)\b",
    re.I,
)
_WORD = re.compile(r"[^\W\d_]{2,}")


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def is_contact(text: str) -> bool:
    return bool(_CONTACT.search(text))


def is_registration(text: str) -> bool:
    return bool(_REGISTRATION.search(text))


def address_score(text: str) -> float:
    """0..1: how much ``text`` reads as a line of a postal address."""
    text = repair_ocr(re.sub(r"(?<=\d)[Oo](?=\d|[Oo]?[A-Za-z])", "0", text))  # 551O0KUALA
    text = repair_words(text)[0]  # JAIAN BUNGA
    score = 0.0
    if _STREET.search(text):
        score += 0.5
    if _POSTCODE.search(text) and _letters(text) >= 2:
        score += 0.35
    if re.search(r"^\W*(no\.?\s*)?\d+[A-Z]?(-\d+)*\s*[,.]?\s*[A-Za-z]", text, re.I):
        score += 0.2  # a house number first
    if "," in text:
        score += 0.1
    words = [w.lower() for w in _WORD.findall(text)]
    if words and any(w in PLACES for w in words):
        score += 0.3 if sum(w in PLACES for w in words) * 2 >= len(words) else 0.15
    if _CONTACT.search(text) or _TITLE.search(text) or find_date(text):
        score -= 0.6
    if _FIELD_LABEL.search(text) and not _STREET.search(text):
        score -= 0.3
    if is_registration(text):
        score -= 0.5
    if re.search(r"\d+[.,]\d{2}(?![.,/-]?[\dA-Za-z])", text):  # a price, not ``NO 33.35.GF``
        score -= 0.4
    return max(0.0, min(1.0, score))


def name_score(text: str) -> float:
    """0..1: how much ``text`` reads as a business name (letters, few digits, no label)."""
    letters, digits = _letters(text), _digits(text)
    if letters < 3 or len(_WORD.findall(text)) == 0:
        return 0.0
    score = 0.5
    if COMPANY_SUFFIX.search(text):
        score += 0.35
    if digits:  # numbers count, digits misread inside a word (EK9L05IF) much less
        numeric = [t for t in re.findall(r"\w+", text) if _digits(t) * 2 >= len(t)]
        score -= min(0.4, 0.1 * sum(_digits(t) for t in numeric) + 0.02 * digits)
    if not _letters(_GENERIC_NAME.sub("", text)) >= 3:
        return 0.0  # "Company", "Co. Ltd": no name left
    if letters / max(len(text.strip()), 1) < 0.5:
        score -= 0.2
    if _TITLE.search(text) or is_contact(text) or is_registration(text):
        score -= 0.6
    if _FIELD_LABEL.search(text) and not COMPANY_SUFFIX.search(text):
        score -= 0.4
    if ":" in text:
        score -= 0.3
    if _STREET.search(text) and not COMPANY_SUFFIX.search(text):
        score -= 0.2
    return max(0.0, min(1.0, score))


# --- the finders --------------------------------------------------------------------------------


class RoleFinder:
    """Finds role values in one document; the layout is built once and shared."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self._layout: Layout | None = None
        self._vendor: list[Pick] | None = None

    @property
    def layout(self) -> Layout:
        if self._layout is None:
            self._layout = build_layout(self.doc)
        return self._layout

    def picks(self, role: str) -> list[Pick]:
        """Candidates for ``role``, best first."""
        finder = {
            "vendor": self.vendor,
            "address": self.address,
            "total": self.total,
            "date": self.date,
        }[role]
        return sorted((replace(p, cues=list(p.cues)) for p in finder()), key=lambda p: -p.score)

    # header --------------------------------------------------------------------------------------

    def _header(self) -> list[Row]:
        """The rows of the letterhead zone: the first page's top rows, up to the first row that
        holds a date, a price or a field label, and at most 12 rows or 40 % of the page."""
        rows = [r for r in self.layout.rows if r.page == min(self.doc.pages, default=1)]
        out: list[Row] = []
        limit = max(6, min(12, int(len(rows) * 0.4) + 1))
        for row in rows[:limit]:
            text = row.text
            if out and (find_date(text) or re.search(r"\d+[.,]\d{2}\b", text)):
                break
            out.append(row)
        return out

    def vendor(self) -> list[Pick]:
        if self._vendor is not None:
            return self._vendor
        header = self._header()
        heights = [r.height for r in header if r.height > 0]
        tallest = max(heights) if heights else 0.0
        picks: list[Pick] = []
        for i, row in enumerate(header):
            rows, cues = _name_rows(header, i), []
            if rows[0] is not row:
                cues.append("name starts on the row above")
            if rows[-1] is not row:
                cues.append("name continues below")
            joined = _clean_join(" ".join(r.text for r in rows))
            text = _after_label(strip_registration(joined))
            score = name_score(text)
            if score <= 0.15:
                continue
            last = header.index(rows[-1])
            score -= 0.04 * i  # the letterhead is near the top
            legal = bool(COMPANY_SUFFIX.search(text))
            if legal:
                cues.append("company word")
            nxt = _next_meaningful(header, last)
            after = _next_meaningful(header, header.index(nxt)) if nxt is not None else None
            if nxt is not None and address_score(nxt.text) >= 0.5:
                score += 0.25
                cues.append("address below")
            elif legal and after is not None and address_score(after.text) >= 0.5:
                score += 0.15  # a branch or brand line between the name and its address
                cues.append("address two rows below")
            if last + 1 < len(header) and is_registration(header[last + 1].text):
                score += 0.3
                cues.append("registration number below")
            elif text != joined:
                score += 0.3
                cues.append("registration number after it")
            if tallest and row.height >= tallest * 0.9 and len(heights) > 2:
                score += 0.1
                cues.append("large type")
            if address_score(text) >= 0.5:
                score -= 0.3
            if i and address_score(header[i - 1].text) >= 0.5 and len(rows) == 1:
                score -= 0.3  # a town under a street line
            spans = [s for r in rows for s in _whole(r)]
            if text != joined and len(rows) == 1:
                at = max(row.text.find(text.split()[0]), 0)
                spans = row.locate(at, at + len(text))
            reason = "Business name at the top of the document" + (
                f" ({', '.join(cues)})." if cues else "."
            )
            picks.append(Pick(text, max(0.0, score), spans, reason, cues=cues))
        self._vendor = sorted(picks, key=lambda p: -p.score)
        return self._vendor

    def address(self) -> list[Pick]:
        header = self._header()
        rows = [r for r in self.layout.rows if r.page == min(self.doc.pages, default=1)]
        zone = rows[: max(len(header) + 4, 8)]
        vendor = self.vendor()
        start_after = -1
        if vendor and vendor[0].spans:
            first_line = vendor[0].spans[-1][0]
            for i, row in enumerate(zone):
                if first_line in row.pieces:
                    start_after = i
        picks: list[Pick] = []
        i = 0
        while i < len(zone):
            row = zone[i]
            if address_score(row.text) < 0.45:
                i += 1
                continue
            block = [row]
            j = i + 1
            clean_end = False
            while j < len(zone) and len(block) < 6:
                text = zone[j].text
                if _ends_address(text):
                    clean_end = True
                    break
                if _COUNTRY_LAST.search(block[-1].text):
                    clean_end = True  # the country is the address's last line
                    break
                if address_score(text) >= 0.3 or _place_name(text):
                    block.append(zone[j])
                    j += 1
                    continue
                if (  # a weak line between two address lines (``(X) U13/X, SETIA ALAM,``)
                    j + 1 < len(zone)
                    and address_score(zone[j + 1].text) >= 0.45
                    and not COMPANY_SUFFIX.search(text)
                ):
                    block += [zone[j], zone[j + 1]]
                    j += 2
                    continue
                break
            scores = [address_score(r.text) for r in block]
            score = 0.35 + 0.3 * max(scores) + 0.1 * min(len(block) - 1, 2)
            cues = []
            if any(_POSTCODE.search(r.text) for r in block):
                score += 0.1
                cues.append("postcode")
            if start_after >= 0 and 0 <= i - start_after <= 3:
                score += 0.15
                cues.append("under the business name")
            elif start_after >= 0 and i < start_after:
                score -= 0.15  # above the name: a brand's letterhead, the legal name below
            if clean_end:
                cues.append("ends at a contact or title line")
            else:
                score -= 0.1
            text = _clean_join(" ".join(r.text.strip() for r in block))
            text = _LEADING_REGISTRATION.sub("", text) or text
            spans = [s for r in block for s in _whole(r)]
            picks.append(
                Pick(
                    text,
                    min(score, 1.0),
                    spans,
                    f"Address block of {len(block)} line(s) in the letterhead"
                    + (f" ({', '.join(cues)})." if cues else "."),
                    cues=cues,
                )
            )
            i = j
        return picks

    # date ----------------------------------------------------------------------------------------

    def date(self) -> list[Pick]:
        rows = self.layout.rows
        picks: list[Pick] = []
        for k, row in enumerate(rows):
            for m in _find_dates(row.text):
                iso, (start, end) = m
                before = row.text[:start]
                prev = rows[k - 1].text if k else ""
                score = 0.55
                cues = []
                if re.search(r"\b(date|dated|tarikh|datum|fecha|data)\b\W*$", before, re.I):
                    score += 0.3
                    cues.append("after a Date label")
                elif re.search(r"\bdate\b", before, re.I) or re.fullmatch(
                    r"\W*(date|tarikh)\W*", prev, re.I
                ):
                    score += 0.2
                    cues.append("Date label nearby")
                if re.search(r"\d{1,2}[:.]\d{2}", row.text[end : end + 16]):
                    score += 0.1
                    cues.append("time next to it")
                label = before + " " + row.text[end:]
                if re.search(
                    r"\b(due|expir\w*|valid|until|exp|birth|dob|from|to|period|print\w*|"
                    r"delivery)\b",
                    label,
                    re.I,
                ):
                    score -= 0.3
                picks.append(
                    Pick(
                        row.text[start:end],
                        score,
                        _span_of(row, start, end),
                        "A date" + (f" ({', '.join(cues)})." if cues else "."),
                        value=iso,
                        cues=cues,
                    )
                )
        if len({p.value for p in picks}) == 1:
            for p in picks:
                p.score += 0.2
                p.reason = p.reason.rstrip(".") + "; the only date on the document."
        return _agree(picks)

    # total ---------------------------------------------------------------------------------------

    def total(self) -> list[Pick]:
        rows = self.layout.rows
        amounts = [(k, a) for k, row in enumerate(rows) for a in find_prices(row.text)]
        if not amounts:
            return []
        n = len(rows)
        tender: dict[float, list[str]] = {}
        for k, row in enumerate(rows):
            cue = _TENDER.search(row.text)
            if cue:
                for value in _row_or_next_amounts(rows, k):
                    tender.setdefault(value, []).append(cue.group(0).lower())
        cash = [v for v, names in tender.items() if any(not _CHANGE.search(x) for x in names)]
        change = [v for v, names in tender.items() if any(_CHANGE.search(x) for x in names)]
        paid_minus_change = {round(c - ch, 2) for c in cash for ch in change if c - ch > 0}
        picks: list[Pick] = []
        cued: list[Pick] = []
        for k, (start, end, value) in amounts:
            row = rows[k]
            label = _label_for(rows, k, start)
            strength = _total_strength(label)
            cues: list[str] = []
            score = 0.2
            if strength > 0:
                score += 0.35 * strength
                cues.append(f"after {label.strip()[:30]!r}")
            elif strength < 0:
                score += 0.25 * strength
            if _TENDER.search(label):
                score -= 0.15
            position = k / max(n - 1, 1)
            if position >= 0.4:
                score += 0.05
            repeats = sum(1 for _, (_, _, v) in amounts if abs(v - value) < 0.005)
            if repeats >= 2:
                score += 0.05 * min(repeats - 1, 3)
                cues.append(f"printed {repeats} times")
            if round(value, 2) in paid_minus_change:
                score += 0.2
                cues.append("equals paid minus change")
            larger = [
                v
                for _, (_, _, v) in amounts
                if v > value + 0.005 and v not in tender and v < 10 * max(value, 0.01)
            ]
            if not larger:
                score += 0.1
                cues.append("largest amount")
            if _is_quantity_or_rate(row.text, start, end):
                score -= 0.3
            if value < 0.005:
                score -= 0.5
            pick = Pick(
                row.text[start:end],
                score,
                _span_of(row, start, end),
                "",
                value=round(value, 2),
                cues=cues,
                row=k,
            )
            picks.append(pick)
            if strength > 0:
                cued.append(pick)
        _rounding_cue(rows, picks, cued)
        for pick in picks:
            pick.reason = "Total amount" + (f" ({', '.join(pick.cues)})." if pick.cues else ".")
        return _agree(picks)


def _rounding_cue(rows: list[Row], picks: list[Pick], cued: list[Pick]) -> None:
    """A total rounded to the smallest coin: ``TOTAL 29.28``, ``ROUNDING 0.02``, ``29.30``.
    The amount below a labelled total that differs from it by a printed rounding is the one
    paid."""
    adjustments = set()
    for k, row in enumerate(rows):
        if re.search(r"round|adj", row.text, re.I):
            adjustments |= {abs(v) for v in _row_or_next_amounts(rows, k) if 0 < abs(v) < 1}
    if not adjustments:
        return
    for pick in picks:
        value = float(pick.value or 0.0)
        for other in cued:
            base = float(other.value or 0.0)
            if other.row >= pick.row or abs(base - value) < 0.005:
                continue
            if any(
                abs(base + d - value) < 0.005 or abs(base - d - value) < 0.005 for d in adjustments
            ):
                pick.score += 0.25
                pick.cues.append("labelled total after rounding")
                break


_TRAILING_REGISTRATION = re.compile(
    r"[\s,]*(\(\s*[^()]*\d{3,}[^()]*\)|(co\.?|company|reg\w*|gst|roc)[\s.:]*(n[o0]|id)?[\s.:]*"
    r"[\dA-Z-]*\d{3,}[\dA-Z-]*|\d{5,}-[A-Z])\W*$",
    re.I,
)


_COUNTRY_LAST = re.compile(
    r"\b(malaysia|singapore|indonesia|thailand|philippines|brunei|vietnam|india|china|"
    r"australia|usa|u\.s\.a|united\s+states|united\s+kingdom|uk|canada|france|germany)\W*$",
    re.I,
)
_LEADING_REGISTRATION = re.compile(r"^\W*\(\s*(no\.?\s*)?[\dA-Z-]*\d{3,}[\dA-Z-]*\s*\)\W*", re.I)
"""A registration number printed before an address on its first line: ``(No.193573-M)``."""


def strip_registration(text: str) -> str:
    """A business name without the registration number printed after it:
    ``AEON CO. (M) BHD (126926-H)`` → ``AEON CO. (M) BHD``."""
    text = _clean_join(text.replace("\uff08", "(").replace("\uff09", ")"))
    while True:
        shorter = _TRAILING_REGISTRATION.sub("", text).strip()
        if shorter == text or _letters(shorter) < 3:
            return text
        text = shorter


def _after_label(text: str) -> str:
    """``OWNED BY: ACME SDN BHD`` → ``ACME SDN BHD`` (a label before a legal name)."""
    head, colon, tail = text.rpartition(":")
    if colon and COMPANY_SUFFIX.search(tail) and _letters(tail) >= 3 and len(head) < 25:
        return tail.strip()
    return text


def _clean_join(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _name_rows(header: list[Row], i: int) -> list[Row]:
    """Row ``i`` with the rows its name runs over: back while the row starts with a legal
    form (``CO. (M) SDN BHD`` under ``POPULAR BOOK``) or the row above leaves a bracket open;
    forward while a bracket is open or the next row starts with a legal form. At most 3."""
    first = last = i
    if is_registration(header[i].text):
        return [header[i]]
    while first > 0 and last - first < 2:
        above = header[first - 1].text
        here = header[first].text
        if name_score(above) < 0.3 or address_score(above) >= 0.5:
            break
        if _SUFFIX_START.match(here) or _LEGAL_START.match(here) or _open_bracket(above):
            first -= 1
            continue
        break
    while last + 1 < len(header) and last - first < 2:
        below = header[last + 1].text
        if address_score(below) >= 0.5 or is_registration(below):
            break
        text = " ".join(r.text for r in header[first : last + 1])
        if _open_bracket(text) or _SUFFIX_START.match(below) or _SUFFIX_ONLY.match(below):
            last += 1
            continue
        break
    return header[first : last + 1]


def _open_bracket(text: str) -> bool:
    return text.count("(") > text.count(")")


def _ends_address(text: str) -> bool:
    """A row that closes an address block: phone, e-mail, tax or registration number, a title
    (``TAX INVOICE``), a date, a price or a ``label:`` field."""
    if is_contact(text) or _TITLE.search(text) or find_date(text):
        return True
    if is_registration(text) and not _STREET.search(text):
        return True
    if re.search(r"\d+[.,]\d{2}\b", text):
        return True
    return ":" in text and not _STREET.search(text) and address_score(text) < 0.45


def _next_meaningful(rows: list[Row], i: int) -> Row | None:
    """The next row after ``rows[i]``, skipping registration numbers and suffix-only rows."""
    for row in rows[i + 1 : i + 4]:
        if is_registration(row.text) or _SUFFIX_ONLY.match(row.text):
            continue
        return row
    return None


def _place_name(text: str) -> bool:
    """A short line of words only (a town or a region under the street line)."""
    words = text.split()
    return (
        1 <= len(words) <= 4
        and _letters(text) >= 3
        and not _digits(text)
        and not _FIELD_LABEL.search(text)
        and not COMPANY_SUFFIX.search(text)
        and ":" not in text
    )


_GLUED_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?=\d{1,2}:\d{2}|\D|$)")
"""A day/month/year date glued to the number before it (``Order No. 100021911/03/2018``)."""


def _find_dates(text: str) -> list[tuple[str, tuple[int, int]]]:
    """Every date in ``text`` with its span; when none is found with clean edges, a
    day/month/year glued to a number before it (OCR lost the space)."""
    out = []
    at = 0
    while at < len(text):
        found = find_date(text[at:])
        if not found:
            break
        iso, (s, e) = found
        out.append((iso, (at + s, at + e)))
        at += e
    if not out:
        for m in _GLUED_DATE.finditer(text):
            found = find_date(m.group(0))
            if found:
                out.append((found[0], m.span()))
    return out


_PRICE = re.compile(r"(?<![\d.,])(?:\d{1,3}(?:[,. ]\d{3})+|\d+)[.,]\d{2}(?!\d)")
"""A price: two decimals, thousands grouped by commas, dots or spaces (``1,234.50``,
``1.234,50``, ``12 345,67``)."""
_TOTAL_STRONG = re.compile(
    r"(grand\s*total|total\s*(amount\s*)?(payable|due|to\s*pay)|amount\s*(due|payable)|"
    r"balance\s*due|net+\s*total|total\s*net+|rounded\s*total|total\s*rounded|total\s*after|"
    r"jumlah\s*besar|incl\w*|inclusive|termasuk|to\s*pay|payable)",
    re.I,
)
_TOTAL_PLAIN = re.compile(
    r"(total|jumlah|amount\s*paid|amt\s*due|\bsum\b|\bnett?\b|totaal|gesamt|summe|importe)",
    re.I,
)
_TOTAL_WEAK = re.compile(r"\b(amount|amt|rounding|rounded|sales|bill)\b", re.I)
_NOT_TOTAL = re.compile(
    r"(sub\s*-?\s*total|\bqty\b|quantity|\bitems?\b|\bpcs\b|\bunits?\b|excl\w*|exclusive|"
    r"before\s*(tax|gst|vat)|w/o|discount|\bdisc\b|savings?|\bpoints?\b|change|\bbaki\b|"
    r"\btip\b|deposit|service\s*(charge|chg)|\bsvc\b|weight|\bkg\b|tender)",
    re.I,
)
_ADJUSTMENT = re.compile(r"(round\w*|\badj\w*)", re.I)
_TAX_WORD = re.compile(r"\b(tax|gst|vat|sst|ppn|cukai)\b", re.I)
_TENDER = re.compile(
    r"\b(cash|tunai|tendered|tender|paid|payment|visa|master\s*card|mastercard|amex|card|"
    r"credit|debit|change|baki|balance)\b",
    re.I,
)
_CHANGE = re.compile(r"\b(change|baki)\b", re.I)


def find_prices(text: str) -> list[tuple[int, int, float]]:
    """Prices in a row (two decimals), as (start, end, value); dates are not prices."""
    dates = [span for _, span in _find_dates(text)]
    out = []
    for m in _PRICE.finditer(text):
        if any(s <= m.start() < e for s, e in dates):
            continue
        if re.match(r"\d{1,2}[:.]\d{2}(?:[:.]\d{2})?\s*(am|pm)?\b", text[m.start() :], re.I) and (
            re.search(r"[:]", text[m.start() : m.end() + 3])
        ):
            continue
        raw = m.group(0).strip()
        digits = raw.replace(" ", "")
        if "," in digits and "." in digits:
            digits = (
                digits.replace(",", "")
                if digits.rfind(".") > digits.rfind(",")
                else (digits.replace(".", "").replace(",", "."))
            )
        elif "," in digits:
            digits = digits.replace(",", ".")
        try:
            value = float(digits)
        except ValueError:
            continue
        start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
        mark = _currency_before(text, start)
        out.append((start - len(mark), m.end(), value))
    return out


def _currency_before(text: str, start: int) -> str:
    m = re.search(r"[$€£¥₹₩]\s?$", text[:start])
    return m.group(0) if m else ""


def _row_or_next_amounts(rows: list[Row], k: int) -> list[float]:
    values = [v for _, _, v in find_prices(rows[k].text)]
    if values:
        return values[-1:]
    for row in rows[k + 1 : k + 3]:
        found = find_prices(row.text)
        if found:
            return [found[0][2]]
        if _letters(row.text) > 3:
            break
    return []


_CURRENCY_WORD = re.compile(r"\b(rm|usd|eur|sgd|myr|idr|rp|php|thb|s\$)\b|[$€£¥₹₩]", re.I)


def _words(text: str) -> int:
    """Letters in ``text`` once prices and currency marks are taken out."""
    return _letters(_CURRENCY_WORD.sub("", _PRICE.sub("", text)))


def _label_for(rows: list[Row], k: int, start: int) -> str:
    """The words that label an amount: the text before it on its row; else, for an amount on
    a row of its own, its label in a column of labels printed (or transcribed) before a column
    of amounts of the same length (``TOTAL / CASH / CHANGE`` then ``108.50 / 150.00 /
    41.50``); else the nearest row above with words."""
    before = rows[k].text[:start]
    if _words(before) >= 2:
        return AMOUNT_RE.sub(" ", before) if _PRICE.search(before) else before
    first = k
    while first > 0 and _amount_only(rows[first - 1]):
        first -= 1
    last = k
    while last + 1 < len(rows) and _amount_only(rows[last + 1]):
        last += 1
    t = first - 1
    while t >= 0 and not _PRICE.search(rows[t].text) and _words(rows[t].text) < 2:
        t -= 1  # currency marks or colons between the two columns
    labels: list[Row] = []
    while t >= 0 and not _PRICE.search(rows[t].text) and _words(rows[t].text) >= 2:
        labels.insert(0, rows[t])
        t -= 1
    if len(labels) >= 2 and len(labels) == last - first + 1:
        return labels[k - first].text
    for row in reversed(rows[max(0, k - 3) : k]):
        if _PRICE.search(row.text):
            return ""
        if _words(row.text) >= 2:
            return row.text
    return ""


def _amount_only(row: Row) -> bool:
    return bool(_PRICE.search(row.text)) and _words(row.text) < 2


def _total_strength(label: str) -> float:
    """How strongly ``label`` announces the total: 1 for a grand/net/inclusive total, 0.8 for a
    plain total, 0.3 for an amount; -1 for a subtotal, a tax, a quantity, a discount, the
    change or a figure before tax."""
    if not label.strip():
        return 0.0
    strong = _TOTAL_STRONG.search(label)
    if _NOT_TOTAL.search(label):
        return -1.0
    if _ADJUSTMENT.search(label) and not strong:
        return -1.0
    if _TAX_WORD.search(re.sub(r"\([^)]*\)?", "", label)) and not strong:
        return -1.0  # a tax amount; not a total qualified in brackets, ``TOTAL (INCL. GST)``
    if strong:
        return 1.0
    if _TOTAL_PLAIN.search(label):
        return 0.8
    if _TOTAL_WEAK.search(label):
        return 0.3
    return 0.0


def _is_quantity_or_rate(text: str, start: int, end: int) -> bool:
    after = text[end : end + 3]
    return bool(re.match(r"\s?%", after) or re.match(r"\s?(x|@|/)\s", after))


def _agree(picks: list[Pick]) -> list[Pick]:
    """Candidates with the same value support each other: each keeps its score plus a little
    for every other occurrence; the best occurrence of each value is kept, best first."""
    best: dict[object, Pick] = {}
    for p in picks:
        key = p.value if p.value is not None else p.text
        if key not in best or p.score > best[key].score:
            best[key] = p
    return sorted(best.values(), key=lambda p: -p.score)
