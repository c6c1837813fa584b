"""Text hygiene shared by every record and chunk: control characters, glyph junk."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from lamina.types import TableItem

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BULLET_GLYPH = re.compile(
    r"^([ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+)?[^\s\x00-\x1f]?[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+[ \t]*",
    re.MULTILINE,
)
_IMAGE_MD = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK_MD = re.compile(r"\[([^\]]*)\]\([^)]*\)")

_INLINE_LINK = re.compile(
    r"(?<!!)\[((?:[^\[\]\n]|\[[^\]\n]*\])*)\]"  # anchor text, one level of brackets inside
    r"\(((?:[^()\s]|\([^()\s]*\))*)(?:\s+\"[^\"\n]*\")?\)"  # target, a title after it
)
_NOTE_ANCHOR = re.compile(r"\[(?:\d{1,4}[a-z]?|[a-z]|note \d{1,4}|citation needed)\]", re.I)
"""Anchor text of a footnote or citation marker, in its brackets (``[33]``, ``[a]``): no words
of the text (a bare ``2020`` or ``I`` is, and stays)."""


def unwrap_links(text: str) -> tuple[str, list[tuple[str, str]]]:
    """``text`` with its markdown links reduced to their anchor text, and the (anchor, target)
    pairs taken out. Footnote and citation markers (``[[33]](#cite_note-33)``) go entirely:
    a link target, or a note number, is no word a reader or an embedding model needs, and
    both cost tokens of the chunk size. Images stay as they are."""
    found: list[tuple[str, str]] = []

    def replace(match: re.Match[str]) -> str:
        anchor, target = match.group(1), match.group(2)
        found.append((anchor, target))
        return "" if _NOTE_ANCHOR.fullmatch(anchor.strip()) else anchor

    if "](" not in text:
        return text, found
    return _INLINE_LINK.sub(replace, text), found


FURNITURE_TYPES = frozenset({"header", "footer"})
"""Item types left out of item granularity, as they are left out of the page markdown."""


def clean_text(text: str) -> str:
    """``text`` without control characters or private-use glyphs; a bullet glyph that a symbol
    font left before control characters at the start of a line (``"r\\x01 Item"``) goes too.

    Idempotent, and the same on an item's markdown and on its page's markdown, so a cleaned
    item is found in the cleaned page."""
    if not text:
        return text
    if _CONTROL.search(text):
        text = _BULLET_GLYPH.sub(lambda m: m.group(1) or "", text)
        text = _CONTROL.sub("", text)
    if any(unicodedata.category(ch) == "Co" for ch in text):
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Co")
    return text


def has_content(text: str) -> bool:
    """Whether ``text`` shows a letter or a digit (image targets and link URLs don't count)."""
    visible = _LINK_MD.sub(r"\1", _IMAGE_MD.sub(r"\1", text))
    return any(ch.isalnum() for ch in visible)


def is_junk(item: Any) -> bool:
    """An item that must not become a record or chunk: page furniture, or nothing with a
    letter or digit in what it shows (control characters, symbol-font glyphs, an image with
    no caption)."""
    if item.type in FURNITURE_TYPES:
        return True
    if isinstance(item, TableItem):
        return not any(has_content(str(c)) for row in item.rows for c in row if c is not None)
    md = str(getattr(item, "md", "") or "")
    if not md and isinstance(getattr(item, "value", None), str):
        md = item.value
    return not has_content(clean_text(md))
