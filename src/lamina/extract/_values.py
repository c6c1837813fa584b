"""Reading typed values out of text: dates, amounts, numbers, percentages, emails, phones,
booleans, currencies, enum members. Pure functions; each ``find_*`` returns the value and the
span of text it was read from, so a citation can point at exactly that text."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for name in names
}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))

_SEP = r"\s?(?P<sep>[-/.])\s?"
"""A numeric date's separator, with the spaces an OCR engine may read around it (``25 / 12 /
2018``)."""
_TIME_OR_END = r"(?=\d{1,2}[:.]\d{2}|(?!\d))"
"""After a year: the end of the number, or a time glued to it by OCR (``25/12/20188:13:39PM``)."""
DATE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"(?<!\d)(\d{4})\s?(?P<sep>[-/.])\s?(\d{1,2})\s?(?P=sep)\s?(\d{1,2})(?!\d)"),
        "ymd",
    ),
    (re.compile(r"(?<!\d)(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?"), "ymd"),
    (
        re.compile(
            rf"(?<![\d/])(?<!\d\.)(\d{{1,2}}){_SEP}(\d{{1,2}})\s?(?P=sep)\s?(\d{{4}}){_TIME_OR_END}"
        ),
        "dmy_or_mdy",
    ),
    (
        re.compile(
            rf"(?<![\d/])(?<!\d\.)(\d{{1,2}}){_SEP}(\d{{1,2}})\s?(?P=sep)\s?(\d{{2}})"
            r"(?=\d{1,2}:\d{2}|(?![\d/.-]\d))"
        ),
        "dmy_or_mdy2",
    ),
    (
        re.compile(
            rf"(?<![A-Za-z])({_MONTH_RE})\.?[\s-]*(\d{{1,2}})(?:st|nd|rd|th)?(?:,\s*|[\s-]+)"
            rf"(\d{{4}}|\d{{2}})(?![\d:])",
            re.I,
        ),
        "mdy_text",
    ),
    (
        re.compile(
            rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?[\s.-]*({_MONTH_RE})(?![a-z])\.?,?[\s.-]*"
            rf"(\d{{4}}{_TIME_OR_END}|\d{{2}}(?![\d:]))",
            re.I,
        ),
        "dmy_text",
    ),
]
MIN_YEAR, MAX_YEAR = 1900, 2100

CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW"}
CURRENCY_CODES: tuple[str, ...] = (
    "USD",
    "EUR",
    "GBP",
    "JPY",
    "CHF",
    "CAD",
    "AUD",
    "NZD",
    "CNY",
    "INR",
    "SEK",
)
CURRENCY_CODES += ("NOK", "DKK", "PLN", "CZK", "HUF", "BRL", "MXN", "ZAR", "SGD", "HKD", "KRW")
CURRENCY_CODES += ("MYR", "IDR", "PHP", "THB", "VND", "TWD", "AED", "SAR", "TRY", "RUB", "MAD")
LOCAL_CURRENCY = {"RM": "MYR", "RP": "IDR", "RS": "INR", "DH": "MAD", "DHS": "MAD", "S$": "SGD"}
"""Local currency marks printed on receipts, by their upper-case spelling."""
_NUMBER = r"[-+]?\(?\d{1,3}(?:[,.' \u00a0]\d{3})+(?:[.,]\d+)?\)?(?!\d)|[-+]?\(?\d+(?:[.,]\d+)?\)?"
_CODES = "|".join((*CURRENCY_CODES, "RM", "Rp", "Rs", "DH", "DHS", "S\\$"))
AMOUNT_RE = re.compile(
    rf"(?:(?P<pre>[$€£¥₹₩]|(?<![A-Za-z])(?:{_CODES})(?![A-Za-z]))\.?\s{{0,3}})?"
    rf"(?P<num>{_NUMBER})"
    rf"(?:\s?(?P<post>[$€£¥₹₩]|(?<![A-Za-z])(?:{_CODES})(?![A-Za-z])|%))?",
    re.I,
)
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE_RE = re.compile(r"(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){1,4}")
URL_RE = re.compile(r"\bhttps?://[^\s<>\"]+|\bwww\.[^\s<>\"]+", re.I)
TRUE_WORDS = {"yes", "y", "true", "x", "✓", "✔", "☑", "checked", "on", "1", "paid"}
FALSE_WORDS = {"no", "n", "false", "☐", "unchecked", "off", "0", "unpaid", "none"}

Span = tuple[int, int]


def _valid_date(y: int, m: int, d: int) -> str | None:
    if not MIN_YEAR <= y <= MAX_YEAR:
        return None
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def find_date(text: str) -> tuple[str, Span] | None:
    """The first date in ``text`` as ISO ``YYYY-MM-DD``, with its span.

    Numeric dates are read day-first when the first number cannot be a month (``25/03/2024``),
    else month-first (US style, ``03/25/2024`` and ``03/04/2024`` alike).
    """
    best: tuple[str, Span] | None = None
    for pattern, style in DATE_PATTERNS:
        for m in pattern.finditer(text):
            iso = _date_from_match(m, style)
            if iso and (best is None or m.start() < best[1][0]):
                best = (iso, m.span())
                break
    return best


def _date_from_match(m: re.Match[str], style: str) -> str | None:
    if "sep" in m.re.groupindex:  # numeric with one separator: day/month order unknown
        a, b, c = m.group(1), m.group(3), m.group(4)
    else:
        a, b, c = m.group(1), m.group(2), m.group(3)
    if style == "ymd":
        return _valid_date(int(a), int(b), int(c))
    if style in ("dmy_or_mdy", "dmy_or_mdy2"):
        year = _year(c)
        first, second = int(a), int(b)
        if first > 12:
            return _valid_date(year, second, first)
        return _valid_date(year, first, second)
    if style == "mdy_text":
        return _valid_date(_year(c), MONTHS[a.lower()[:3]], int(b))
    return _valid_date(_year(c), MONTHS[b.lower()[:3]], int(a))


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        return 2000 + year if year < 70 else 1900 + year
    return year


def parse_date(text: str) -> str | None:
    found = find_date(text)
    return found[0] if found else None


def parse_datetime(text: str) -> str | None:
    """ISO date-time: an ISO stamp as given, else a date with a time when one follows it."""
    try:
        return datetime.fromisoformat(text.strip()).isoformat()
    except ValueError:
        pass
    found = find_date(text)
    if not found:
        return None
    rest = text[found[1][1] :]
    clock = re.search(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?m\.?)?", rest, re.I)
    if not clock:
        return f"{found[0]}T00:00:00"
    hour, minute, second = int(clock.group(1)), int(clock.group(2)), int(clock.group(3) or 0)
    if clock.group(4) and clock.group(4).lower().startswith("p") and hour < 12:
        hour += 12
    return f"{found[0]}T{hour:02d}:{minute:02d}:{second:02d}"


def _to_float(raw: str) -> float | None:
    """A number written with thousands separators in either convention (1,234.50 / 1.234,50)."""
    negative = (raw.startswith("(") and raw.endswith(")")) or raw.startswith("-")
    digits = raw.strip("()+- ").replace("\u00a0", "").replace(" ", "").replace("'", "")
    if not digits:
        return None
    if "," in digits and "." in digits:
        if digits.rfind(",") > digits.rfind("."):
            digits = digits.replace(".", "").replace(",", ".")
        else:
            digits = digits.replace(",", "")
    elif "," in digits:
        head, _, tail = digits.rpartition(",")
        digits = digits.replace(",", "") if len(tail) == 3 else f"{head.replace(',', '')}.{tail}"
    elif digits.count(".") > 1:
        digits = digits.replace(".", "")
    try:
        value = float(digits)
    except ValueError:
        return None
    return -value if negative else value


def find_amount(
    text: str, *, prefer_currency: bool = True
) -> tuple[float, Span, str | None] | None:
    """A number in ``text`` (currency amounts first), with its span and currency code.

    Dates are skipped so ``2024-03-05`` is not read as 2024. The last amount wins when several
    carry a currency (a total line often repeats a subtotal first).
    """
    date_spans = [m.span() for p, _ in DATE_PATTERNS for m in p.finditer(text)]
    found: list[tuple[float, Span, str | None, bool]] = []
    for m in AMOUNT_RE.finditer(text):
        if not re.search(r"\d", m.group("num")):
            continue
        if any(s <= m.start("num") < e for s, e in date_spans):
            continue
        value = _to_float(m.group("num"))
        if value is None:
            continue
        marker = m.group("pre") or m.group("post")
        currency = None
        if marker and marker != "%":
            mark = marker.upper()
            currency = CURRENCY_SYMBOLS.get(marker) or LOCAL_CURRENCY.get(mark, mark)
        found.append(
            (value, m.span(), currency, bool(marker and marker != "%") or "." in m.group("num"))
        )
    if not found:
        return None
    if prefer_currency:
        marked = [f for f in found if f[3]]
        if marked:
            value, span, currency, _ = marked[-1]
            return value, span, currency
    value, span, currency, _ = found[-1]
    return value, span, currency


def parse_number(text: str, kind: str = "number") -> float | None:
    """A number from text such as ``$1,234.50``, ``(12.00)``, ``15%``, ``3 pcs``."""
    found = find_amount(text, prefer_currency=kind == "number")
    return found[0] if found else None


def find_percent(text: str) -> tuple[float, Span] | None:
    m = re.search(rf"({_NUMBER})\s?%", text)
    if not m:
        return None
    value = _to_float(m.group(1))
    return (value, m.span()) if value is not None else None


def find_currency(text: str) -> tuple[str, Span] | None:
    """An ISO 4217 code written out or implied by a symbol."""
    m = re.search(rf"\b({'|'.join(CURRENCY_CODES)})\b", text)
    if m:
        return m.group(1), m.span()
    for symbol, code in CURRENCY_SYMBOLS.items():
        index = text.find(symbol)
        if index >= 0:
            return code, (index, index + 1)
    return None


def find_email(text: str) -> tuple[str, Span] | None:
    m = EMAIL_RE.search(text)
    return (m.group(0), m.span()) if m else None


def find_phone(text: str) -> tuple[str, Span] | None:
    for m in PHONE_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 7 <= len(digits) <= 15 and not find_date(m.group(0)):
            return m.group(0).strip(), m.span()
    return None


def find_url(text: str) -> tuple[str, Span] | None:
    m = URL_RE.search(text)
    return (m.group(0).rstrip(".,;"), m.span()) if m else None


def parse_bool(text: str) -> bool | None:
    word = text.strip().lower().rstrip(".")
    if word in TRUE_WORDS or word.startswith(("yes", "[x]", "☑")):
        return True
    if word in FALSE_WORDS or word.startswith(("no ", "[ ]", "☐")):
        return False
    return None


def normalise_text(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def match_enum(value: Any, options: list[Any]) -> Any:
    """The enum member ``value`` names: exact, case-insensitive, or the most similar word match."""
    if value in options:
        return value
    text = normalise_text(str(value))
    if not text:
        return None
    for option in options:
        if normalise_text(str(option)) == text:
            return option
    words = set(text.split())
    best, best_score = None, 0.0
    for option in options:
        option_words = set(normalise_text(str(option)).split())
        if not option_words:
            continue
        score = len(words & option_words) / len(option_words)
        if option_words and normalise_text(str(option)) in text:
            score = max(score, 0.9)
        if score > best_score:
            best, best_score = option, score
    return best if best_score >= 0.5 else None


_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "i": "1", "|": "1"})
_TOKEN = re.compile(r"\d{3,}(?=[A-Za-z]{3})|[A-Za-z0-9|]+")
"""Words; a number glued to the word after it is a word of its own (``47400Peta1ing``)."""
_LETTER_IN_WORD = re.compile(r"(?<=[A-Za-z])0{1,2}(?=[A-Za-z])|(?<=[A-Za-z]{2})1(?=[A-Za-z]{2})")
"""Zeros between letters, a one inside a run of letters: misread O, I or l (codes such as
``BLOCK1A`` or ``TOWER10A`` are left alone)."""


def _as_letters(m: re.Match[str]) -> str:
    text = m.string
    upper = text[m.start() - 1].isupper() and text[m.end()].isupper()
    return m.group(0).translate(str.maketrans("01", "OI" if upper else "ol"))


def repair_ocr(text: str) -> str:
    """Undo the commonest OCR confusions inside one word, where the word itself shows which
    alphabet it is in: letters among digits (``433O0`` → ``43300``, ``281I`` → ``2811``) and
    digits among letters (``C0.`` → ``CO.``, ``Ja1an`` → ``Jalan``, ``5ultan`` → ``Sultan``).
    Words that mix both on purpose (``S117``, ``2A``, ``3RD``) are left alone."""
    return _TOKEN.sub(lambda m: _repair_word(m.group(0)), text)


def _repair_word(word: str) -> str:
    digits = sum(ch.isdigit() for ch in word)
    letters = len(word) - digits
    if not digits or not letters:
        return word
    if letters <= digits and all(ch.isdigit() or ch in "OoIli|" for ch in word):
        if word[0].isdigit() or (word[0] in "Oo" and word[1:2].isdigit()):
            return word.translate(_DIGIT_LOOKALIKES)
        return word
    if digits == 1:
        i = next(k for k, ch in enumerate(word) if ch.isdigit())
        before, after = word[:i], word[i + 1 :]
        ch = word[i]
        if ch == "0" and (before[-1:].isupper() or after[:1].isupper()):
            return before + "O" + after
        if (
            ch == "1"
            and before[-1:].islower()
            and (after[:1].islower() or not after)
            and before.lower() != "no"  # No1: number one
        ):
            return before + "l" + after  # Ja1an, Leve1
        if ch == "5" and i == 0 and len(after) >= 3 and after.islower():
            return "S" + after
    if letters >= max(4, 2 * digits) and not word[0].isdigit():
        return _LETTER_IN_WORD.sub(_as_letters, word)  # F00DICI0US, SECT1ON, Sc0op
    return word
