"""Field accuracy of the local extractor (tier ``cost_effective``) on generated business documents.

Usage::

    python bench/extract_quality.py [--seed 7] [--per-type 12] [--show-misses]

A development set of invoices, receipts and forms is generated with a seed (deterministic):
each document draws its layout (``Label: value`` lines, label left / value right, labels above
values in two columns, two-column ``Label: value``), its label wordings (``Invoice #``, ``Amount
due``, ``DOB``...), date formats, amount formats and line items at random, and keeps the true
values. Every document is extracted through the embedded client (upload → extract job → wait →
result), exactly as a user would, and each leaf of the result is compared with the truth:

- **exact**: the extracted JSON value equals the true one (numbers as numbers, dates as ISO).
- **normalised**: strings equal after lower-casing and dropping everything but letters and
  digits; numbers within 0.01.

Line items count one field per cell. Accuracy = fields right / fields expected, pooled per
document type and overall.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-type", type=int, default=12, help="documents per type")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("LAMINA_LOG_LEVEL", "WARNING")  # quiet worker processes
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
        f"\nLocal extractor (cost_effective), seed {args.seed}, {count} documents, {elapsed:.1f}s\n"
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
