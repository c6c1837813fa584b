"""File type detection: content decides, the extension only separates md from txt."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from lamina.engine import UnsupportedFileTypeError, detect_file_type, parse_document
from lamina.engine.detect import decode_text
from tests.fixtures.documents import make_junk_file, make_simple_pdf


def _zip(member: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr(member, "<x/>")
    return buf.getvalue()


def test_pdf_is_detected_whatever_its_name(tmp_path: Path) -> None:
    data = make_simple_pdf(tmp_path).read_bytes()
    assert detect_file_type(data, "report.pdf") == "pdf"
    assert detect_file_type(data, "report.txt") == "pdf"
    assert detect_file_type(data, None) == "pdf"


def test_pdf_header_after_leading_junk_is_still_pdf() -> None:
    assert detect_file_type(b"\x00" * 100 + b"%PDF-1.4\n...") == "pdf"


def test_text_named_pdf_is_text() -> None:
    assert detect_file_type(b"just some words\n", "fake.pdf") == "txt"


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"# Title\n\nBody\n", "notes.txt", "txt"),  # .txt wins over markdown looks
        (b"plain words\n", "notes.md", "md"),  # .md wins over plain looks
        (b"# Title\n\nBody\n", None, "md"),
        (b"Intro\n\n```\ncode\n```\n", "x.bin", "md"),
        (b"see [the docs](https://x.y) for more", None, "md"),
        (b"Dear reader,\nhello.\n", None, "txt"),
    ],
)
def test_markdown_or_text(data: bytes, name: str | None, expected: str) -> None:
    assert detect_file_type(data, name) == expected


@pytest.mark.parametrize(
    ("member", "kind"),
    [("word/document.xml", "docx"), ("ppt/presentation.xml", "pptx"), ("xl/workbook.xml", "xlsx")],
)
def test_office_files_are_recognised_by_their_parts(member: str, kind: str) -> None:
    assert detect_file_type(_zip(member), "file.pdf") == kind


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"<!DOCTYPE html><html><body>x</body></html>", "upload.txt", "html"),
        (b"\xef\xbb\xbf<!-- c -->\n<html lang='en'><p>x</p></html>", None, "html"),
        (b"<div><p>fragment</p></div>", "page.htm", "html"),
        (b"<div><p>fragment</p></div>", "page.txt", "txt"),
        (b"a,b\n1,2\n", "data.csv", "csv"),
        (b"a\tb\n1\t2\n", "data.tsv", "tsv"),
        (b"a,b\n1,2\n", None, "txt"),
    ],
)
def test_html_and_delimited_text(data: bytes, name: str | None, expected: str) -> None:
    assert detect_file_type(data, name) == expected


def test_other_zip_packages_are_not_supported() -> None:
    with pytest.raises(UnsupportedFileTypeError, match=r"^epub files are not supported yet"):
        detect_file_type(_zip("META-INF/container.xml"))


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "jpeg"),
        (b"II*\x00" + b"\x00" * 20, "tiff"),
        (b"GIF89a" + b"\x00" * 20, "gif"),
    ],
)
def test_images_are_detected_from_magic_bytes(data: bytes, kind: str) -> None:
    assert detect_file_type(data, "upload.txt") == kind  # parsed by lamina.engine.images


def test_binary_junk_is_rejected(tmp_path: Path) -> None:
    data = make_junk_file(tmp_path).read_bytes()
    with pytest.raises(UnsupportedFileTypeError, match="neither a PDF nor text"):
        detect_file_type(data, "junk.pdf")
    with pytest.raises(UnsupportedFileTypeError):
        parse_document(data, filename="junk.txt")


def test_empty_file_is_rejected() -> None:
    with pytest.raises(UnsupportedFileTypeError, match="empty"):
        detect_file_type(b"")


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("héllo".encode(), "héllo"),
        ("\ufeffhéllo".encode(), "héllo"),  # UTF-8 with BOM
        ("héllo".encode("utf-16"), "héllo"),  # BOM included by the codec
        ("héllo".encode("cp1252"), "héllo"),
        (b"caf\xe9 \x81", "café \x81"),  # not cp1252 either: latin-1
    ],
)
def test_decode_text(data: bytes, text: str) -> None:
    assert decode_text(data) == text
