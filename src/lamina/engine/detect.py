"""File type detection from the bytes themselves.

The extension is only a tie-breaker between text flavours (``.md`` vs ``.txt``, CSV/TSV, HTML
fragments): a ``.pdf`` that holds text is text, a PDF named ``.txt`` is a PDF and a DOCX named
``.pdf`` is a DOCX.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Final

from lamina.engine.errors import UnsupportedFileTypeError

#: Types the engine parses today.
SUPPORTED_TYPES: Final = (
    "pdf",
    "txt",
    "md",
    "docx",
    "pptx",
    "xlsx",
    "html",
    "csv",
    "tsv",
    *("png", "jpeg", "tiff", "gif", "bmp", "webp"),  # images (lamina.engine.images)
)
#: Zip package kinds with a backend (the others are recognised and refused).
_PARSED_ZIP_KINDS: Final = frozenset({"docx", "pptx", "xlsx"})
_HTML_EXTENSIONS: Final = (".html", ".htm", ".xhtml")
_DELIMITED_EXTENSIONS: Final = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv"}

_MARKDOWN_EXTENSIONS: Final = (".md", ".markdown", ".mdown", ".mkd")

# (magic prefix, type name) for binary formats recognised but not parsed yet.
_MAGIC: Final[tuple[tuple[bytes, str], ...]] = (
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
_HTML_START: Final = re.compile(
    r"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*(<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])",
    re.IGNORECASE | re.DOTALL,
)
_HTML_TAG: Final = re.compile(r"<(p|div|h[1-6]|table|ul|ol|body|span|a)[\s>]", re.IGNORECASE)


def detect_file_type(data: bytes, filename: str | None = None) -> str:
    """The type of ``data``: one of :data:`SUPPORTED_TYPES`.

    Office files are told apart by their zip members (``word/document.xml``, ...), HTML by its
    leading markup (or an ``.html`` name and HTML tags); CSV/TSV needs both a ``.csv``/``.tsv``
    name and text content, since any text would pass for one-column CSV.

    Raises :class:`UnsupportedFileTypeError` for recognised formats the engine does not parse
    yet (images, legacy Office, OpenDocument, EPUB) and for binary data of no known type.
    """
    if not data:
        raise UnsupportedFileTypeError("The file is empty: there is nothing to parse.")
    if b"%PDF-" in data[:1024]:
        return "pdf"
    image_kind = _image_kind(data)  # images: parsed by lamina.engine.images
    if image_kind is not None:
        return image_kind
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise _not_yet(kind)
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        kind = _zip_kind(data)
        if kind in _PARSED_ZIP_KINDS:
            return kind
        raise _not_yet(kind)
    text = decode_text(data)
    if text is None:
        raise UnsupportedFileTypeError(
            "Unrecognised file type: the content is neither a PDF nor text "
            f"(supported: {SUPPORTED_NAMES})."
        )
    ext = _extension(filename)
    if _HTML_START.match(text[:4096].lstrip("\ufeff")) or (
        ext in _HTML_EXTENSIONS and _HTML_TAG.search(text[:65536])
    ):
        return "html"
    if ext in _DELIMITED_EXTENSIONS:
        return _DELIMITED_EXTENSIONS[ext]
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


# --- images (lamina.engine.images) ----------------------------------------------------------

_IMAGE_MAGIC: Final[tuple[tuple[bytes, str], ...]] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)
# BMP: "BM", then a DIB header of one of these sizes at offset 14 (so text starting with
# "BM" is not taken for an image).
_BMP_HEADER_SIZES: Final = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


def _image_kind(data: bytes) -> str | None:
    """``png``, ``jpeg``, ``tiff``, ``gif``, ``bmp`` or ``webp`` from the magic bytes."""
    for magic, kind in _IMAGE_MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:2] == b"BM" and int.from_bytes(data[14:18], "little") in _BMP_HEADER_SIZES:
        return "bmp"
    return None


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        # A damaged package still names its parts in the local headers: call it by its kind,
        # so that its backend reports it as a broken DOCX/PPTX/XLSX rather than "a zip".
        for member, kind in _ZIP_MARKERS:
            if member.encode() in data:
                return kind
        return "zip"
    for member, kind in _ZIP_MARKERS:
        if member in names:
            return kind
    return "zip"


SUPPORTED_NAMES = (
    "PDF, DOCX, PPTX, XLSX, HTML, CSV, TSV, plain text, markdown, "
    "images (PNG, JPEG, TIFF, GIF, BMP, WebP)"
)
"""What the engine reads, as error messages list it."""


def _not_yet(kind: str) -> UnsupportedFileTypeError:
    return UnsupportedFileTypeError(
        f"{kind} files are not supported yet (supported: {SUPPORTED_NAMES})."
    )


def _extension(filename: str | None) -> str:
    if not filename or "." not in filename:
        return ""
    return "." + filename.rsplit(".", 1)[1].lower()
