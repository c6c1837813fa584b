"""How well a label in a document ("Amount due", "Bill to") names a schema field
(``total``, ``customer_name``): word overlap after splitting snake/camel case, stemming lightly,
and expanding synonyms of common business fields."""

from __future__ import annotations

import re
from functools import lru_cache

# Groups of words and phrases that mean the same field on business documents.
SYNONYMS: tuple[frozenset[str], ...] = tuple(
    frozenset(group)
    for group in (
        {
            "total",
            "amount due",
            "balance due",
            "total due",
            "grand total",
            "balance",
            "total amount",
            "amount payable",
            "amount paid",
            "total paid",
            "total payable",
            "invoice total",
            "amount",
            "sum",
        },
        {"subtotal", "sub total", "net amount", "net total", "total before tax", "net"},
        {"tax", "vat", "gst", "sales tax", "tax amount", "vat amount"},
        {"tax rate", "vat rate", "tax percent", "vat percent", "tax %", "vat %"},
        {
            "date",
            "issued",
            "issue date",
            "invoice date",
            "dated",
            "date issued",
            "date of issue",
            "receipt date",
            "transaction date",
            "purchase date",
            "order date",
        },
        {"due date", "payment due", "due", "pay by", "payment due date", "due by"},
        {
            "vendor",
            "seller",
            "from",
            "supplier",
            "merchant",
            "store",
            "company",
            "issuer",
            "sold by",
            "vendor name",
            "payee",
            "shop",
        },
        {
            "customer",
            "bill to",
            "billed to",
            "buyer",
            "client",
            "sold to",
            "customer name",
            "invoice to",
            "to",
            "purchaser",
            "recipient",
        },
        {"ship to", "shipping address", "deliver to", "delivery address"},
        {
            "invoice number",
            "invoice no",
            "invoice #",
            "invoice id",
            "inv no",
            "invoice",
            "inv #",
            "number",
            "no",
            "reference",
            "ref",
        },
        {
            "receipt number",
            "receipt no",
            "receipt #",
            "transaction id",
            "transaction no",
            "trans id",
            "order number",
            "order no",
            "order #",
            "order id",
        },
        {"po number", "purchase order", "po", "po #", "p o number"},
        {"email", "e mail", "email address", "mail", "contact email"},
        {"phone", "telephone", "tel", "phone number", "mobile", "cell", "contact number"},
        {"address", "street address", "mailing address", "location"},
        {
            "name",
            "full name",
            "applicant name",
            "applicant",
            "employee name",
            "employee",
            "patient name",
            "patient",
            "member name",
        },
        {"date of birth", "dob", "birth date", "birthday", "born"},
        {"currency", "ccy"},
        {"quantity", "qty", "units", "count", "pcs", "quantity ordered"},
        {"unit price", "price", "rate", "unit cost", "price each", "each", "cost"},
        {
            "description",
            "item",
            "product",
            "details",
            "service",
            "article",
            "item description",
            "name",
        },
        {"line total", "amount", "total", "line amount", "ext price", "extended price"},
        {"payment method", "paid by", "payment", "payment type", "tender", "card type"},
        {"account number", "account no", "account", "acct", "iban", "acct no"},
        {"tip", "gratuity", "service charge"},
        {"discount", "savings", "rebate"},
        {"signature", "signed", "signed by"},
        {"id", "identifier", "number", "no", "code"},
        {"start date", "from date", "begins", "commencement date", "effective date"},
        {"end date", "to date", "ends", "expiry date", "expiration date", "termination date"},
        {"department", "dept", "division"},
        {"title", "job title", "position", "role"},
        {"company", "organization", "organisation", "employer", "business name", "firm"},
        {"city", "town"},
        {"zip", "postal code", "zip code", "postcode"},
        {"country", "nation"},
        {"salary", "pay", "wage", "compensation", "annual salary"},
    )
)

STOPWORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "for",
        "in",
        "on",
        "at",
        "by",
        "is",
        "are",
        "was",
        "be",
        "this",
        "that",
        "to",
        "with",
        "and",
        "or",
        "your",
        "our",
        "its",
        "as",
        "it",
        "field",
        "value",
    ]
)
# Words that say little about which field a label is (kept out of scores unless alone).
WEAK = frozenset({"name", "number", "no", "id", "date", "amount", "total", "details"})


def split_words(text: str) -> list[str]:
    """``invoiceNumber`` / ``invoice_number`` / ``Invoice No.`` → ``["invoice", "number"]``."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    text = text.replace("#", " number ").replace("№", " number ")
    words = re.findall(r"[a-z0-9%]+", text.lower())
    return [_stem(w) for w in words if w not in STOPWORDS]


def _stem(word: str) -> str:
    aliases = {
        "no": "number",
        "num": "number",
        "nbr": "number",
        "qty": "quantity",
        "amt": "amount",
        "addr": "address",
        "tel": "phone",
        "dob": "date of birth",
        "inv": "invoice",
    }
    word = aliases.get(word, word)
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def phrase(text: str) -> str:
    return " ".join(split_words(text))


@lru_cache(maxsize=4096)
def expansions(text: str) -> frozenset[str]:
    """``text`` normalised, plus every synonym phrase of a group it belongs to."""
    base = phrase(text)
    out = {base}
    for group in SYNONYMS:
        normalised = {phrase(g) for g in group}
        if base in normalised:
            out |= normalised
    return frozenset(p for p in out if p)


def label_score(field_names: tuple[str, ...], label: str) -> float:
    """0..1: how well ``label`` (text from the document) names a field known by ``field_names``:
    its key (or a path such as ``vendor name``) first, then title, then description."""
    target = phrase(label)
    if not target:
        return 0.0
    label_forms = expansions(label)
    best = 0.0
    for rank, name in enumerate(field_names):
        if not name:
            continue
        if rank >= 2 and len(split_words(name)) > 4:  # a description: how much of the label it says
            best = max(best, 0.7 * _covered(target, phrase(name)))
            continue
        weight = 1.0 if rank == 0 else 0.9
        own = phrase(name)
        for candidate in expansions(name):
            best = max(best, weight * _overlap(candidate, target, exact_synonym=candidate != own))
        if own in label_forms:
            best = max(best, weight * 0.95)
    return best


def _covered(label: str, description: str) -> float:
    words, known = set(label.split()), set(description.split())
    common = words & known
    if not common or all(w in WEAK for w in common):
        return 0.0
    return len(common) / len(words)


def _overlap(candidate: str, target: str, *, exact_synonym: bool) -> float:
    if candidate == target:
        return 0.95 if exact_synonym else 1.0
    a, b = candidate.split(), target.split()
    if not a or not b:
        return 0.0
    common = set(a) & set(b)
    if not common:
        return 0.0
    strong = [w for w in common if w not in WEAK]
    recall = len(common) / len(set(a))
    precision = len(common) / len(set(b))
    score = 2 * recall * precision / (recall + precision)
    if not strong:
        score *= 0.6
    if recall == 1.0:  # every word of the field's name is in the label ("date" in "Sale date")
        score = max(score, 0.65)
    return score * (0.9 if exact_synonym else 1.0)
