"""File type detection from the bytes themselves.

The extension is only a tie-breaker between text flavours (``.md`` vs ``.txt``): a ``.pdf`` that
holds text is text, and a PDF named ``.txt`` is a PDF.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Final

from lamina.engine.errors import UnsupportedFileTypeError

#: Types the engine parses today.
SUPPORTED_TYPES: Final = ("pdf", "txt", "md")

_MARKDOWN_EXTENSIONS: Final = (".md", ".markdown", ".mdown", ".mkd")

# (magic prefix, type name) for binary formats recognised but not parsed yet.
_MAGIC: Final[tuple[tuple[bytes, str], ...]] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Office (doc/xls/ppt)"),
    (b"{\\rtf", "rtf"),
)

# Zip members that identify an Office Open XML / OpenDocument / EPUB package.
_ZIP_MARKERS: Final[tuple[tuple[str, str], ...]] = (
    ("word/document.xml", "docx"),
    ("ppt/presentation.xml", "pptx"),
    ("xl/workbook.xml", "xlsx"),
    ("META-INF/container.xml", "epub"),
    ("content.xml", "OpenDocument"),
)

_MD_LINE: Final = re.compile(
    r"^(#{1,6}\s+\S|```|~~~|\|?\s*:?-{3,}:?\s*\|)|\]\([^)\s]+\)", re.MULTILINE
)
_HTML_START: Final = re.compile(rb"^\s*(<!doctype\s+html|<html[\s>])", re.IGNORECASE)


def detect_file_type(data: bytes, filename: str | None = None) -> str:
    """The type of ``data``: ``"pdf"``, ``"md"`` or ``"txt"``.

    Raises :class:`UnsupportedFileTypeError` for recognised formats the engine does not parse
    yet (Office files, images, HTML) and for binary data of no known type.
    """
    if not data:
        raise UnsupportedFileTypeError("The file is empty: there is nothing to parse.")
    if b"%PDF-" in data[:1024]:
        return "pdf"
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise _not_yet(kind)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        raise _not_yet("webp")
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        raise _not_yet(_zip_kind(data))
    text = decode_text(data)
    if text is None:
        raise UnsupportedFileTypeError(
            "Unrecognised file type: the content is neither a PDF nor text "
            "(supported: PDF, plain text, markdown)."
        )
    if _HTML_START.match(data[:1024].lstrip(b"\xef\xbb\xbf")):
        raise _not_yet("html")
    ext = _extension(filename)
    if ext in _MARKDOWN_EXTENSIONS or (ext != ".txt" and looks_like_markdown(text)):
        return "md"
    return "txt"


def decode_text(data: bytes) -> str | None:
    """``data`` as text, or None when it is binary.

    Byte-order marks are honoured (UTF-8, UTF-16, UTF-32); otherwise UTF-8, then cp1252 and
    latin-1 as fallbacks. Data with NUL bytes or many control characters is binary.
    """
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                return None
    if b"\x00" in data[:65536]:
        return None
    for codec in ("utf-8", "cp1252", "latin-1"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        return text if _mostly_printable(text) else None
    return None  # pragma: no cover - latin-1 decodes any bytes


def looks_like_markdown(text: str) -> bool:
    """True when the text uses markdown syntax: ATX headings, fences, pipe tables or links."""
    return _MD_LINE.search(text[:65536]) is not None


def _mostly_printable(text: str) -> bool:
    sample = text[:65536]
    if not sample:
        return True
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    return bad / len(sample) < 0.02


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return "zip"
    for member, kind in _ZIP_MARKERS:
        if member in names:
            return kind
    return "zip"


def _not_yet(kind: str) -> UnsupportedFileTypeError:
    return UnsupportedFileTypeError(
        f"{kind} files are not supported yet (supported: PDF, plain text, markdown)."
    )


def _extension(filename: str | None) -> str:
    if not filename or "." not in filename:
        return ""
    return "." + filename.rsplit(".", 1)[1].lower()
