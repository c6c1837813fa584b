"""Spelling repair of OCR'd names and addresses against a small lexicon.

An OCR engine misreads a letter or two in a word (``Jaian`` for ``Jalan``, ``Tamar`` for
``Taman``, ``Perirndustrian``, ``LeveI``, ``San Bhd``). The words of postal addresses and
business names are few and repetitive: street and building words, legal forms, trade words,
the states, regions and larger towns of the countries whose receipts we see most. A word that is
not in the lexicon but one edit away from exactly one lexicon word (two for long words) is read
as that word, in the case it was printed in. Short words, numbers and codes are left alone, and
only OCR'd text is repaired (a text layer or a transcript is taken as written).
"""

from __future__ import annotations

import re
from functools import lru_cache, partial

_STREETS = """
jalan lorong persiaran lebuhraya lebuh taman kampung bandar street road avenue boulevard lane
drive highway place square plaza centre center mall complex building bangunan wisma menara tower
block floor level suite unit industrial park seksyen section batu mile district ground shopping
uptown perindustrian kawasan kompleks pusat perdagangan perniagaan medan desa jaya indah utama
utara selatan timur barat tengah baru bahru lama permai perdana mutiara damai setia sentosa
mewah emas intan bukit sungai pulau tanjung tanjong teluk kota simpang lapangan dataran first
second third fourth fifth ground basement mezzanine lower upper city town village garden gardens
heights highlands hills valley court estate residence residences commercial business trade
centre station junction market square terrace parade crescent close way north south east west
central new old international airport terminal
"""
"""Street, building and place-type words; Malay and English."""
_PLACES = """
malaysia singapore indonesia thailand philippines brunei selangor johor pahang perak kedah
kelantan terengganu melaka malacca penang pinang negeri sembilan sabah sarawak perlis putrajaya
labuan darul ehsan takzim makmur ridzuan aman naim iman khusus wilayah persekutuan kuala lumpur
petaling shah alam klang subang puchong cheras ampang kajang semenyih rawang serdang kepong
setapak gombak sentul bangsar seremban nilai ipoh skudai kinabalu kuching miri sandakan tawau
alor setar kuantan kangar butterworth georgetown cyberjaya sunway damansara kelana kembangan
balakong sepang banting shah muar batu pahat kluang segamat kulai tebrau masai pasir gudang
senai melawati wangsa maju keramat titiwangsa pandan mahkota serendah selayang batang berjuntai
kuang sungai buloh genting besar kecil kelang sentral
"""
"""Countries, states, regions and larger towns (Malaysia above all)."""
_TRADE = """
sdn bhd berhad enterprise enterprises trading traders holdings industries services station
stationery restaurant restoran hardware bakery kitchen kitchenette international marketing
supermarket hypermarket minimarket market pharmacy farmasi machinery electrical electronics
engineering construction furniture books bookstore bookshop printing florist foods food beverage
cafe coffee kopitiam supply supplies distributor distribution management retail house cake
trading company corporation limited kedai makanan runcit perniagaan grocery mart shop boutique
hotel chicken seafood noodle bistro express gift gifts plastic packaging paper office automobile
motor motors auto parts tyre tyres petrol petroleum
"""
"""Legal forms and trade words of business names."""
PLACES = frozenset(_PLACES.split())
LEXICON = frozenset((_STREETS + _PLACES + _TRADE).split())
_BY_LENGTH: dict[int, list[str]] = {}
for _known in sorted(LEXICON):
    _BY_LENGTH.setdefault(len(_known), []).append(_known)
"""Known words of addresses and business names, lower case."""

_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
"""Words, also inside camel-case glue (``JaianTampoi`` → ``Jaian``, ``Tampoi``)."""
_LEGAL = [
    (re.compile(r"\bL[O0o][Il1iTt](?=\s*\d)"), "LOT"),
    (re.compile(r"\b[Ss5][A-Za-z0-9][Nn](?=\s*\.?\s*[Bb8][Hh][DdOo0]\b)"), "SDN"),
    (re.compile(r"(?<=[Ss][Dd][Nn])\s*\.?\s*(?!BHD|Bhd|bhd)[Bb8][Hh][DdOo0]\b"), "BHD"),
]
"""The Malaysian private limited form (the commonest legal form on these receipts) and ``LOT``
before a number (the commonest first word of an address) misread."""


def repair_words(text: str) -> tuple[str, list[str]]:
    """``text`` with misread lexicon words spelt right, and the words that were changed."""
    changed: list[str] = []
    text = re.sub(r"(?<=[a-z]{2})I(?![A-Za-z])", "l", text)  # LeveI → Level
    for pattern, fixed in _LEGAL:
        text = pattern.sub(partial(_legal, fixed=fixed, changed=changed), text)
    out: list[str] = []
    at = 0
    for m in _WORD.finditer(text):
        word = m.group(0)
        right = _closest(word.lower())
        if right is None or right == word.lower():
            continue
        out += [text[at : m.start()], _in_case_of(word, right)]
        at = m.end()
        changed.append(word)
    out.append(text[at:])
    return "".join(out), changed


def _legal(m: re.Match[str], fixed: str, changed: list[str]) -> str:
    word = m.group(0)
    if word.strip(" .").upper() == fixed:
        return word
    changed.append(word.strip())
    lead = word[: len(word) - len(word.lstrip(" ."))] if fixed == "BHD" else ""
    return lead + _in_case_of(word.strip(" ."), fixed.lower())


def _in_case_of(word: str, right: str) -> str:
    if word.isupper():
        return right.upper()
    if word[:1].isupper():
        return right.capitalize()
    return right


_LOOKALIKES = (
    "il1!|",
    "rn",
    "nm",
    "hm",
    "o0cdaq",
    "ec",
    "s5",
    "b8h",
    "uvo",
    "tf",
    "pf",
    "g9q",
    "z2",
)
"""Letters an OCR engine confuses (one group each)."""


def _lookalike(a: str, b: str) -> bool:
    return any(a in group and b in group for group in _LOOKALIKES)


@lru_cache(maxsize=4096)
def _closest(word: str) -> str | None:
    """The one lexicon word ``word`` is a misreading of, if any: in a word of 4 to 7 letters,
    one letter replaced by a look-alike (``Jaian``, ``Tamar``, ``Hart``); in 8 to 10 letters,
    one letter replaced, added or dropped; two in longer words."""
    if word in LEXICON or len(word) < 4:
        return word if word in LEXICON else None
    budget = 1 if len(word) <= 10 else 2
    best: list[str] = []
    best_distance = budget + 1
    lengths = [len(word)] if len(word) < 8 else range(len(word) - budget, len(word) + budget + 1)
    for known in (k for n in lengths for k in _BY_LENGTH.get(n, ())):
        if len(word) < 8:
            if len(known) == len(word):
                diff = [(a, b) for a, b in zip(word, known, strict=True) if a != b]
                if len(diff) == 1 and _lookalike(*diff[0]):
                    best.append(known)
            continue
        d = _distance(word, known, best_distance)
        if d < best_distance:
            best, best_distance = [known], d
        elif d == best_distance <= budget:
            best.append(known)
    return best[0] if len(best) == 1 else None


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``limit + 1`` once it is known to exceed
    ``limit``."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]
