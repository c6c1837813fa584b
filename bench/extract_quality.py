"""Extraction quality of the local extractor (tier ``cost_effective``): real receipts first, then
generated business documents.

Usage::

    python bench/extract_quality.py [--sroie DIR] [--ocr-cache DIR] [--from-path]
                                    [--show-misses] [--no-generated] [--seed 7] [--per-type 12]

**Real receipts (the headline).** The SROIE development set (``shared/bench-data/extract/sroie``:
100 receipt photos and scans, human key fields ``company``, ``date``, ``address``, ``total`` and
the schema ``schema.json``) is scored two ways, each beside a plain regular-expression baseline
(:func:`regex_baseline`, a handful of patterns written for receipts) run on the same text:

- **image**: end to end from the photo through the embedded client, as a user would:
  ``client.parse(path, tier="cost_effective")`` (OCR) then ``client.extract(parse_job_id, schema,
  tier="cost_effective")`` (reuses that parse; ``--from-path`` extracts from the path instead and
  OCRs twice). The baseline reads the same OCR lines. ``--ocr-cache DIR`` keeps the OCR items of
  each receipt and, when present, runs the extractor in-process on them (for quick iterations;
  the numbers to quote come from a run without it).
- **transcript**: the dataset's human line transcripts (``ID.ocr.txt``, one line per text box in
  file order, no positions), given to the extractor as one text item per line. The gap between the
  two rows is OCR error; what the transcript row misses is extraction error.

Scores per field: **exact** (the value equals the reference after trimming) and **normalised**
(case, spaces and punctuation folded; dates compared as calendar dates and amounts as numbers,
so ``2017-12-28`` matches ``12/28/2017`` and ``RM 3.90`` matches ``3.90``). **Calibration**:
normalised accuracy per confidence bucket, and how many values returned with confidence >= 0.8
are wrong. **Halves**: receipts are split by a hash of the reference company name (all receipts
of one shop fall in the same half), ``dev`` (used while developing) and ``check`` (a pseudo
held-out half, looked at only to report); both are printed. Extraction time is measured
in-process on the parsed items (after OCR).

**Generated documents.** Invoices, receipts and forms are generated with a seed (deterministic):
each draws its layout (``Label: value`` lines, label left / value right, labels above values in
two columns, two-column ``Label: value``), label wordings, date and amount formats and line
items at random, keeps the true values, and is extracted through the embedded client. Leaves are
compared exactly (numbers as numbers, dates as ISO) and normalised (letters and digits only;
numbers within 0.01); line items count one field per cell. These documents are drawn by the
team's own generator, so they say little about real documents: never quote them as the headline.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import os
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.business import LAYOUTS, BusinessDoc, draw_document  # noqa: E402

import lamina  # noqa: E402

VENDORS = [
    "Northwind Traders Ltd",
    "Acme Supplies Inc",
    "Blue Harbor Logistics",
    "Vertex Office Partners",
    "Lumen Data Systems",
    "Oakridge Print Co",
]
CUSTOMERS = [
    "Globex Corporation",
    "Initech LLC",
    "Umbrella Health",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli Research",
]
PRODUCTS = [
    "Consulting hours",
    "Software licence",
    "Support plan",
    "Printer toner",
    "Office chairs",
    "Cloud storage",
    "Training day",
    "Network switch",
]
MERCHANTS = [
    "Corner Coffee House",
    "Green Basket Market",
    "City Hardware",
    "Page Turner Books",
    "Sunrise Bakery",
]
MENU = ["Flat white", "Croissant", "Bagel", "Orange juice", "Notebook", "Batteries", "Apples"]
PEOPLE = ["Maria Gonzalez", "James Okafor", "Li Wei", "Sofia Rossi", "Daniel Novak", "Amara Singh"]
DEPARTMENTS = ["Engineering", "Sales", "Finance", "Operations"]
PAYMENTS = ["CASH", "VISA", "MASTERCARD", "AMEX"]

LABELS = {
    "invoice_number": ["Invoice number", "Invoice No.", "Invoice #", "Inv. No"],
    "invoice_date": ["Invoice date", "Date", "Issue date", "Date issued"],
    "due_date": ["Due date", "Payment due", "Due by"],
    "customer": ["Bill to", "Customer", "Billed to", "Client"],
    "email": ["Email", "E-mail", "Contact email"],
    "total": ["Total", "Amount due", "Total due", "Balance due", "Grand total"],
    "receipt_number": ["Receipt no", "Receipt #", "Transaction ID", "Order #"],
    "date": ["Date", "Transaction date", "Purchase date"],
    "payment_method": ["Payment", "Paid by", "Payment method"],
    "full_name": ["Full name", "Name", "Applicant name"],
    "date_of_birth": ["Date of birth", "DOB", "Birth date"],
    "phone": ["Phone", "Telephone", "Phone number", "Mobile"],
    "employer": ["Employer", "Company", "Organization"],
    "start_date": ["Start date", "Effective date", "Commencement date"],
    "department": ["Department", "Dept"],
}

INVOICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string"},
        "invoice_date": {"type": "string", "format": "date"},
        "due_date": {"type": "string", "format": "date"},
        "vendor": {"type": "string", "description": "Company that issued the invoice"},
        "customer": {"type": "string", "description": "Who is billed"},
        "email": {"type": "string", "format": "email"},
        "total": {"type": "number", "description": "Total amount due"},
        "line_items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "quantity": {"type": "integer"},
                    "unit_price": {"type": "number"},
                    "amount": {"type": "number"},
                },
            },
        },
    },
}
RECEIPT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "merchant": {"type": "string"},
        "receipt_number": {"type": "string"},
        "date": {"type": "string", "format": "date"},
        "payment_method": {"type": "string", "enum": PAYMENTS},
        "tax": {"type": "number"},
        "total": {"type": "number"},
    },
}
FORM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "full_name": {"type": "string"},
        "date_of_birth": {"type": "string", "format": "date"},
        "email": {"type": "string", "format": "email"},
        "phone": {"type": "string"},
        "employer": {"type": "string"},
        "start_date": {"type": "string", "format": "date"},
        "department": {"type": "string", "enum": DEPARTMENTS},
    },
}


def fmt_date(rng: random.Random, d: date) -> str:
    styles = ["%Y-%m-%d", "%B %d, %Y", "%d %b %Y", "%m/%d/%Y"]
    if d.day > 12:
        styles.append("%d/%m/%Y")
    return d.strftime(rng.choice(styles))


def fmt_amount(rng: random.Random, value: float, currency: str) -> str:
    if currency == "EUR":
        text = f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
        return rng.choice([f"€{text}", f"{text} EUR"])
    return rng.choice([f"${value:,.2f}", f"{value:,.2f} USD", f"USD {value:,.2f}"])


def rand_date(rng: random.Random, start: int = 2021, end: int = 2025) -> date:
    first = date(start, 1, 1)
    return first + timedelta(days=rng.randrange((date(end, 1, 1) - first).days))


def make_invoice(rng: random.Random) -> tuple[BusinessDoc, dict[str, Any]]:
    currency = rng.choice(["USD", "USD", "EUR"])
    issued = rand_date(rng)
    due = issued + timedelta(days=rng.choice([14, 30, 45]))
    items: list[dict[str, Any]] = []
    for product in rng.sample(PRODUCTS, rng.randint(1, 4)):
        qty, price = rng.randint(1, 12), rng.choice([9.5, 25.0, 80.0, 120.0, 249.99, 1200.0])
        items.append(
            {
                "description": product,
                "quantity": qty,
                "unit_price": price,
                "amount": round(qty * price, 2),
            }
        )
    total = round(sum(i["amount"] for i in items), 2)
    truth: dict[str, Any] = {
        "invoice_number": f"INV-{rng.randint(2020, 2025)}-{rng.randint(1, 9999):04d}",
        "invoice_date": issued.isoformat(),
        "due_date": due.isoformat(),
        "vendor": rng.choice(VENDORS),
        "customer": rng.choice(CUSTOMERS),
        "email": f"billing@{rng.choice(['acme', 'northwind', 'vertex'])}.example",
        "total": total,
        "line_items": items,
    }
    shown: dict[str, Any] = {
        "invoice_number": truth["invoice_number"],
        "invoice_date": fmt_date(rng, issued),
        "due_date": fmt_date(rng, due),
        "customer": truth["customer"],
        "email": truth["email"],
    }
    fields = [(rng.choice(LABELS[k]), v) for k, v in shown.items()]
    doc = BusinessDoc(
        title=truth["vendor"],
        layout=rng.choice(LAYOUTS),
        fields=fields,
        item_header=[
            rng.choice(["Description", "Item"]),
            rng.choice(["Qty", "Quantity"]),
            rng.choice(["Unit price", "Price", "Rate"]),
            rng.choice(["Amount", "Total"]),
        ],
        items=[
            [
                i["description"],
                str(i["quantity"]),
                fmt_amount(rng, i["unit_price"], currency),
                fmt_amount(rng, i["amount"], currency),
            ]
            for i in items
        ],
        totals=[(rng.choice(LABELS["total"]), fmt_amount(rng, total, currency))],
    )
    return doc, truth


def make_receipt(rng: random.Random) -> tuple[BusinessDoc, dict[str, Any]]:
    currency = rng.choice(["USD", "EUR"])
    lines = [
        (m, rng.randint(1, 3), rng.choice([1.25, 2.75, 3.5, 4.5, 12.0]))
        for m in rng.sample(MENU, rng.randint(1, 3))
    ]
    subtotal = round(sum(q * p for _, q, p in lines), 2)
    tax = round(subtotal * 0.08, 2)
    day = rand_date(rng)
    truth: dict[str, Any] = {
        "merchant": rng.choice(MERCHANTS),
        "receipt_number": f"R-{rng.randint(10000, 99999)}",
        "date": day.isoformat(),
        "payment_method": rng.choice(PAYMENTS),
        "tax": tax,
        "total": round(subtotal + tax, 2),
    }
    fields = [
        (rng.choice(LABELS["receipt_number"]), truth["receipt_number"]),
        (rng.choice(LABELS["date"]), fmt_date(rng, day)),
        (rng.choice(LABELS["payment_method"]), truth["payment_method"].title()),
    ]
    doc = BusinessDoc(
        title=truth["merchant"],
        subtitle="12 Market Street, Springfield",
        layout=rng.choice(("colon", "right")),
        fields=fields,
        item_header=["Item", "Qty", "Price", "Amount"],
        items=[
            [m, str(q), fmt_amount(rng, p, currency), fmt_amount(rng, q * p, currency)]
            for m, q, p in lines
        ],
        totals=[
            (rng.choice(["Tax", "VAT", "Sales tax"]), fmt_amount(rng, tax, currency)),
            (
                rng.choice(["Total", "Amount paid", "Total due"]),
                fmt_amount(rng, truth["total"], currency),
            ),
        ],
    )
    return doc, truth


def make_form(rng: random.Random) -> tuple[BusinessDoc, dict[str, Any]]:
    name = rng.choice(PEOPLE)
    born, start = rand_date(rng, 1960, 2002), rand_date(rng, 2018, 2025)
    first = name.split()[0].lower()
    truth: dict[str, Any] = {
        "full_name": name,
        "date_of_birth": born.isoformat(),
        "email": f"{first}@example.org",
        "phone": f"+1 {rng.randint(200, 999)} 555 {rng.randint(1000, 9999)}",
        "employer": rng.choice(CUSTOMERS),
        "start_date": start.isoformat(),
        "department": rng.choice(DEPARTMENTS),
    }
    shown: dict[str, Any] = {
        **truth,
        "date_of_birth": fmt_date(rng, born),
        "start_date": fmt_date(rng, start),
    }
    fields = [(rng.choice(LABELS.get(k, ["Email address", "Email"])), v) for k, v in shown.items()]
    doc = BusinessDoc(
        title=rng.choice(
            ["Employee Onboarding Form", "Membership Application", "Personnel Record"]
        ),
        layout=rng.choice(LAYOUTS),
        fields=fields,
    )
    return doc, truth


GENERATORS = {
    "invoice": (make_invoice, INVOICE_SCHEMA),
    "receipt": (make_receipt, RECEIPT_SCHEMA),
    "form": (make_form, FORM_SCHEMA),
}


def _norm(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return round(float(value), 2)
    return re.sub(r"[^a-z0-9]", "", str(value).lower())


def leaves(truth: Any, got: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(path, true value, extracted value) for every leaf of ``truth``."""
    if isinstance(truth, dict):
        got = got if isinstance(got, dict) else {}
        return [x for k, v in truth.items() for x in leaves(v, got.get(k), f"{path}.{k}")]
    if isinstance(truth, list):
        got = got if isinstance(got, list) else []
        return [
            x
            for i, v in enumerate(truth)
            for x in leaves(v, got[i] if i < len(got) else None, f"{path}[{i}]")
        ]
    return [(path.lstrip("."), truth, got)]


def score(truth: Any, got: Any) -> tuple[int, int, int, list[str]]:
    """(fields, exact, normalised, misses)."""
    exact = norm = 0
    misses = []
    items = leaves(truth, got)
    for path, want, have in items:
        exact += have == want and type(have) is type(want)
        ok = _norm(have) == _norm(want)
        norm += ok
        if not ok:
            misses.append(f"{path}: want {want!r}, got {have!r}")
    return len(items), exact, norm, misses


# --- real receipts (SROIE) ----------------------------------------------------------------------

SROIE_FIELDS = ("company", "date", "address", "total")
BUCKETS = (0.0, 0.2, 0.4, 0.6, 0.8, 0.9, 1.01)
_DATA_CANDIDATES = (
    ROOT.parent / "shared" / "bench-data",
    ROOT.parents[1] / "shared" / "bench-data",
    Path("/work/shared/bench-data"),
)


def default_sroie() -> Path:
    for base in _DATA_CANDIDATES:
        if (base / "extract" / "sroie").is_dir():
            return base / "extract" / "sroie"
    return _DATA_CANDIDATES[0] / "extract" / "sroie"


@dataclass
class Receipt:
    id: str
    image: Path
    truth: dict[str, str]
    transcript: list[str]

    @property
    def half(self) -> str:
        """``dev`` or ``check``, by a hash of the shop's name (one shop, one half)."""
        digest = hashlib.sha1(_fold(self.truth["company"]).encode()).digest()
        return "dev" if digest[0] % 2 == 0 else "check"


def load_receipts(folder: Path) -> list[Receipt]:
    out = []
    for key in sorted(folder.glob("*.key.json")):
        rid = key.name.removesuffix(".key.json")
        text = (folder / f"{rid}.ocr.txt").read_text(encoding="utf-8")
        truth = json.loads(key.read_text(encoding="utf-8"))
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        out.append(Receipt(rid, folder / f"{rid}.jpg", truth, lines))
    return out


def transcript_pages(lines: list[str]) -> list[dict[str, Any]]:
    """One page, one text item per transcript line. The transcripts carry no positions, so the
    boxes only keep the order: one line under the other, all left-aligned, 6 pt per character."""
    step, height = 14.0, 11.0
    items = [
        {
            "type": "text",
            "value": line,
            "md": line,
            "bbox": [{"x": 10.0, "y": 10.0 + i * step, "w": 6.0 * len(line), "h": height}],
        }
        for i, line in enumerate(lines)
    ]
    width = max([6.0 * len(line) for line in lines] + [100.0]) + 20.0
    return [
        {
            "page_number": 1,
            "page_width": width,
            "page_height": 20.0 + len(lines) * step,
            "items": items,
        }
    ]


def page_lines(pages: list[dict[str, Any]]) -> list[str]:
    """The text lines of parsed pages in reading order (what the regex baseline reads)."""
    from lamina.extract import Document

    return [line.text for line in Document.from_pages(pages).lines]


# The baseline: a handful of regular expressions a developer would write for receipts.
_RX_DATE = re.compile(
    r"\b(\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}[ -][A-Za-z]{3}[ -]\d{2,4})"
)
_RX_AMOUNT = re.compile(r"(\d{1,3}(?:,\d{3})*\.\d{2})\b")
_RX_TOTAL = re.compile(r"\b(grand\s*total|total|amount|jumlah)\b", re.I)
_RX_NOT_TOTAL = re.compile(r"sub\s*-?\s*total|total\s*qty|total\s*items?|tax|gst|discount", re.I)
_RX_COMPANY = re.compile(
    r"\b(sdn\.?\s*bhd|bhd|s/b|enterprise|trading|restoran|restaurant|store|shop|mart|company|"
    r"ltd|inc|llc|gmbh)\b",
    re.I,
)
_RX_CONTACT = re.compile(r"\b(tel|fax|phone|gst|co\.?\s*reg|company\s*no|invoice|receipt)\b", re.I)


def regex_baseline(lines: list[str]) -> dict[str, str | None]:
    """Company: the first line with a company word, else the first line of letters. Address: the
    lines after it up to a contact/tax line (at most 4). Date: the first date. Total: the last
    amount on or after the last TOTAL-like line, else the largest amount."""
    company_at = next((i for i, ln in enumerate(lines[:10]) if _RX_COMPANY.search(ln)), None)
    if company_at is None:
        company_at = next(
            (i for i, ln in enumerate(lines[:5]) if re.fullmatch(r"[A-Za-z&.,'() -]{4,}", ln)), 0
        )
    company = lines[company_at] if lines else None
    address = []
    for ln in lines[company_at + 1 : company_at + 6]:
        if _RX_CONTACT.search(ln) or (address and len(address) >= 4):
            break
        if re.search(r"\d", ln) or address:
            address.append(ln)
    date = next((m.group(1) for ln in lines if (m := _RX_DATE.search(ln))), None)
    total = None
    cue = [i for i, ln in enumerate(lines) if _RX_TOTAL.search(ln) and not _RX_NOT_TOTAL.search(ln)]
    if cue:
        for ln in lines[cue[-1] : cue[-1] + 4]:
            found = _RX_AMOUNT.findall(ln)
            if found:
                total = found[-1]
                break
    if total is None:
        amounts = [a for ln in lines for a in _RX_AMOUNT.findall(ln)]
        total = max(amounts, key=lambda a: float(a.replace(",", "")), default=None)
    return {
        "company": company,
        "date": date,
        "address": " ".join(address) or None,
        "total": total,
    }


# Comparison ---------------------------------------------------------------------------------------


def _fold(text: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}


def date_values(text: str) -> set[date]:
    """Every calendar date ``text`` can mean (day-first and month-first when both are valid)."""
    out: set[date] = set()
    s = str(text)
    for m in re.finditer(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", s):
        out |= _dates(int(m[1]), [(int(m[2]), int(m[3]))])
    for m in re.finditer(r"(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.](\d{2,4})(?!\d)", s):
        a, b, y = int(m[1]), int(m[2]), int(m[3])
        out |= _dates(y if y > 99 else 2000 + y, [(b, a), (a, b)])
    for m in re.finditer(r"(\d{1,2})[\s-]*([A-Za-z]{3})[A-Za-z]*[\s,-]*(\d{2,4})", s):
        month = _MONTHS.get(m[2].lower())
        if month:
            y = int(m[3])
            out |= _dates(y if y > 99 else 2000 + y, [(month, int(m[1]))])
    return out


def _dates(year: int, month_days: list[tuple[int, int]]) -> set[date]:
    out = set()
    for month, day in month_days:
        with contextlib.suppress(ValueError):
            out.add(date(year, month, day))
    return out


def amount_value(text: str) -> float | None:
    m = re.search(r"\d[\d,]*(?:\.\d+)?", str(text).replace(" ", ""))
    if not m:
        return None
    try:
        return float(m.group(0).replace(",", ""))
    except ValueError:
        return None


def field_match(key: str, want: str, got: Any) -> tuple[bool, bool]:
    """(exact, normalised) for one field."""
    if got is None or str(got).strip() == "":
        return False, False
    exact = str(got).strip() == want.strip()
    if _fold(got) == _fold(want):
        return exact, True
    if key == "date":
        a, b = date_values(want), date_values(str(got))
        return exact, bool(a & b) and (len(a) == 1 or len(b) == 1 or a == b)
    if key == "total":
        x, y = amount_value(want), amount_value(str(got))
        return exact, x is not None and y is not None and abs(x - y) < 0.005
    return exact, False


# Tally ------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Scores of one method on one input, per field and per half."""

    rows: list[tuple[str, str, bool, bool, float | None]] = field(default_factory=list)
    """(half, field, exact, normalised, confidence)."""
    docs: dict[str, list[bool]] = field(default_factory=dict)

    def add(
        self, receipt: Receipt, got: dict[str, Any], conf: dict[str, float | None] | None = None
    ) -> list[str]:
        misses = []
        all_right = True
        for key in SROIE_FIELDS:
            exact, norm = field_match(key, receipt.truth[key], got.get(key))
            confidence = (conf or {}).get(key)
            self.rows.append((receipt.half, key, exact, norm, confidence))
            all_right &= norm
            if not norm:
                misses.append(
                    f"{key}: want {receipt.truth[key]!r}, got {got.get(key)!r}"
                    + (f" ({confidence:.2f})" if confidence is not None else "")
                )
        self.docs.setdefault(receipt.half, []).append(all_right)
        return misses

    def fields(self, half: str | None) -> dict[str, tuple[float, float]]:
        out = {}
        for key in SROIE_FIELDS:
            rows = [r for r in self.rows if r[1] == key and (half is None or r[0] == half)]
            n = max(len(rows), 1)
            out[key] = (sum(r[2] for r in rows) / n, sum(r[3] for r in rows) / n)
        return out

    def all_right(self, half: str | None) -> tuple[int, int]:
        docs = [d for h, ds in self.docs.items() if half is None or h == half for d in ds]
        return sum(docs), len(docs)

    def calibration(self, half: str | None = None) -> list[tuple[str, int, float]]:
        rows = [r for r in self.rows if r[4] is not None and (half is None or r[0] == half)]
        out = []
        for lo, hi in itertools.pairwise(BUCKETS):
            inside = [r for r in rows if lo <= (r[4] or 0.0) < hi]
            label = f"[{lo:.1f}, {min(hi, 1.0):.1f}{']' if hi > 1 else ')'}"
            acc = sum(r[3] for r in inside) / len(inside) if inside else float("nan")
            out.append((label, len(inside), acc))
        return out

    def confident_wrong(self, half: str | None = None, at: float = 0.8) -> tuple[int, int]:
        rows = [
            r
            for r in self.rows
            if r[4] is not None and r[4] >= at and (half is None or r[0] == half)
        ]
        return sum(not r[3] for r in rows), len(rows)


def print_table(title: str, tallies: dict[str, Tally]) -> None:
    print(f"\n{title}")
    head = f"{'method':<30}{'half':<7}{'docs':>5}"
    head += "".join(f"{k:>18}" for k in SROIE_FIELDS) + f"{'mean':>16}{'all right':>11}"
    print(head)
    print(" " * 42 + "".join(f"{'exact  norm':>18}" for _ in SROIE_FIELDS) + f"{'exact  norm':>16}")
    for name, tally in tallies.items():
        for half in ("dev", "check", None):
            scores = tally.fields(half)
            right, docs = tally.all_right(half)
            if not docs:
                continue
            cells = "".join(f"{e:>12.3f}{n:>6.3f}" for e, n in scores.values())
            mean_e = sum(e for e, _ in scores.values()) / len(scores)
            mean_n = sum(n for _, n in scores.values()) / len(scores)
            print(
                f"{name:<30}{half or 'all':<7}{docs:>5}{cells}{mean_e:>10.3f}{mean_n:>6.3f}"
                f"{f'{right}/{docs}':>11}"
            )


def print_calibration(title: str, tally: Tally) -> None:
    print(f"\nCalibration, {title}: normalised accuracy per confidence bucket")
    print(f"{'confidence':<14}" + "".join(f"{h:>16}" for h in ("dev", "check", "all")))
    per_half = {h: tally.calibration(h) for h in ("dev", "check", None)}
    for i, (label, _, _) in enumerate(per_half[None]):
        cells = ""
        for h in ("dev", "check", None):
            _, n, acc = per_half[h][i]
            cells += f"{n:>7} {acc:>8.3f}" if n else f"{n:>7} {'-':>8}"
        print(f"{label:<14}{cells}")
    parts = []
    for h in ("dev", "check", None):
        wrong, n = tally.confident_wrong(h)
        parts.append(f"{h or 'all'} {wrong}/{n} ({wrong / max(n, 1):.1%})")
    print("wrong among confidence >= 0.8: " + ", ".join(parts))


def _values_and_confidence(
    data: dict[str, Any], meta: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, float | None]]:
    conf = {}
    for key in SROIE_FIELDS:
        entry = meta.get(key) if isinstance(meta, dict) else None
        conf[key] = entry.get("confidence") if isinstance(entry, dict) else None
    return data, conf


def run_sroie(args: argparse.Namespace) -> None:
    from lamina.extract import Document, extract_local

    receipts = load_receipts(args.sroie)
    if args.limit:
        receipts = receipts[: args.limit]
    schema = json.loads((args.sroie / "schema.json").read_text(encoding="utf-8"))
    image = {"lamina (image)": Tally(), "regex baseline (image)": Tally()}
    text = {"lamina (transcript)": Tally(), "regex baseline (transcript)": Tally()}
    timings: list[float] = []
    ocr_seconds: list[float] = []
    from_cache = 0
    cache: Path | None = args.ocr_cache
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, lamina.Client(data_dir=Path(tmp) / "home") as client:
        for receipt in receipts:
            cached = cache / f"{receipt.id}.json" if cache is not None else None
            if cached is not None and cached.exists():
                stored = json.loads(cached.read_text(encoding="utf-8"))
                pages = stored["pages"]
                confidence = {int(k): v for k, v in (stored.get("confidence") or {}).items()}
                out = extract_local(Document.from_pages(pages, confidence), schema)
                data, meta = out.data, out.field_metadata["document_metadata"]
                from_cache += 1
            else:
                t0 = time.perf_counter()
                parsed = client.parse(
                    receipt.image,
                    tier="cost_effective",
                    expand=["items", "metadata"],
                    output_options={"granular_bboxes": ["cell"]},
                )
                ocr_seconds.append(time.perf_counter() - t0)
                assert parsed.items is not None and parsed.metadata is not None
                pages = [p.model_dump(mode="json") for p in parsed.items.pages]
                confidence = {m.page_number: m.confidence for m in parsed.metadata.pages}
                if cached is not None:
                    cached.write_text(
                        json.dumps({"pages": pages, "confidence": confidence}), encoding="utf-8"
                    )
                source = receipt.image if args.from_path else parsed.job.id
                result = client.extract(source, schema, tier="cost_effective", timeout=300)
                data, meta = result.raw[0], result.metadata[0]
            assert isinstance(data, dict) and isinstance(meta, dict)
            t0 = time.perf_counter()
            extract_local(Document.from_pages(pages, confidence), schema)
            timings.append(time.perf_counter() - t0)
            values, conf = _values_and_confidence(data, meta)
            misses = image["lamina (image)"].add(receipt, values, conf)
            image["regex baseline (image)"].add(receipt, regex_baseline(page_lines(pages)))
            t_out = extract_local(transcript_pages(receipt.transcript), schema)
            assert isinstance(t_out.data, dict)
            t_values, t_conf = _values_and_confidence(
                t_out.data, t_out.field_metadata["document_metadata"]
            )
            t_misses = text["lamina (transcript)"].add(receipt, t_values, t_conf)
            text["regex baseline (transcript)"].add(receipt, regex_baseline(receipt.transcript))
            if args.show_misses and (misses or t_misses):
                print(f"{receipt.id} [{receipt.half}]")
                for m in misses:
                    print(f"    image      {m}")
                for m in t_misses:
                    print(f"    transcript {m}")
    elapsed = time.perf_counter() - started
    halves = {h: sum(r.half == h for r in receipts) for h in ("dev", "check")}
    print(
        f"\nSROIE receipts: {len(receipts)} ({halves['dev']} dev, {halves['check']} check), "
        f"{args.sroie}, {elapsed:.0f} s"
        + (
            f" [image rows: {from_cache} receipts from the OCR cache, extracted in-process]"
            if from_cache
            else ""
        )
    )
    print_table("From the image (OCR + extraction)", image)
    print_table("From the human transcripts (extraction only)", text)
    print_calibration("lamina (image)", image["lamina (image)"])
    print_calibration("lamina (transcript)", text["lamina (transcript)"])
    timings.sort()
    print(
        f"\nExtraction time after OCR (in-process, per receipt): median "
        f"{timings[len(timings) // 2] * 1000:.1f} ms, max {timings[-1] * 1000:.1f} ms"
    )
    if ocr_seconds:
        ocr_seconds.sort()
        print(f"OCR (client.parse) per receipt: median {ocr_seconds[len(ocr_seconds) // 2]:.2f} s")


def run_generated(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    totals: dict[str, list[int]] = {}
    started = time.perf_counter()
    count = 0
    with tempfile.TemporaryDirectory() as tmp, lamina.Client(data_dir=Path(tmp) / "home") as client:
        for kind, (make, schema) in GENERATORS.items():
            for n in range(args.per_type):
                doc, truth = make(rng)
                path = draw_document(Path(tmp) / f"{kind}_{n}.pdf", [doc])
                result = client.extract(path, schema, timeout=120)
                fields, exact, norm, misses = score(truth, result.raw[0])
                count += 1
                bucket = totals.setdefault(kind, [0, 0, 0, 0])
                for i, v in enumerate((1, fields, exact, norm)):
                    bucket[i] += v
                if args.show_misses and misses:
                    print(f"{kind}_{n} ({doc.layout}): " + "; ".join(misses))
    elapsed = time.perf_counter() - started
    print(
        f"\nGenerated documents (not real; not the headline), seed {args.seed}, {count} documents, "
        f"{elapsed:.1f}s\n"
    )
    print(f"{'type':<10}{'docs':>6}{'fields':>8}{'exact':>8}{'normalised':>12}")
    all_docs = all_fields = all_exact = all_norm = 0
    for kind, (docs, fields, exact, norm) in totals.items():
        print(f"{kind:<10}{docs:>6}{fields:>8}{exact / fields:>8.3f}{norm / fields:>12.3f}")
        all_docs, all_fields = all_docs + docs, all_fields + fields
        all_exact, all_norm = all_exact + exact, all_norm + norm
    print(
        f"{'overall':<10}{all_docs:>6}{all_fields:>8}{all_exact / all_fields:>8.3f}"
        f"{all_norm / all_fields:>12.3f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sroie", type=Path, default=default_sroie(), help="SROIE folder")
    parser.add_argument("--ocr-cache", type=Path, help="keep/reuse OCR items here (dev only)")
    parser.add_argument("--from-path", action="store_true", help="extract from the image path")
    parser.add_argument("--limit", type=int, default=0, help="first N receipts only")
    parser.add_argument("--no-sroie", action="store_true")
    parser.add_argument("--no-generated", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-type", type=int, default=12, help="generated documents per type")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("LAMINA_LOG_LEVEL", "WARNING")  # quiet worker processes
    if not args.no_sroie:
        if not (args.sroie / "schema.json").exists():
            print(f"No SROIE data at {args.sroie} (see shared/bench-data/MANIFEST.md)")
            return 2
        run_sroie(args)
    if not args.no_generated:
        run_generated(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
