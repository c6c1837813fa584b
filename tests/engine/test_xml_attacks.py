"""XML attacks inside office and web files (XXE, billion laughs) — the adversarial review of
issue #10 found them harmless; these tests keep it so: no external entity is read, no entity
is expanded into memory, and each file either parses or fails with a message."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from lamina.engine import EngineError, parse_document
from lamina.types import ParseConfiguration
from tests.fixtures.office import make_docx, make_pptx, make_xlsx

SECRET_FILE = "/etc/hostname"

XXE_ENTITY = f'<!ENTITY xxe SYSTEM "file://{SECRET_FILE}">'
LAUGH_ENTITIES = '<!ENTITY a0 "lol">' + "".join(
    f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
)
XXE = f"<!DOCTYPE x [{XXE_ENTITY}]>"
LAUGHS = f"<!DOCTYPE x [{LAUGH_ENTITIES}]>"


def _inject(source: bytes, part: str, doctype: str, reference: str) -> bytes:
    """``source`` (OOXML) with ``doctype`` before the root of ``part`` and ``reference`` in
    its first text run."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == part:
                text = data.decode("utf-8")
                if text.startswith("<?xml"):
                    end = text.index("?>") + 2
                    text = text[:end] + doctype + text[end:]
                else:
                    text = doctype + text
                text = re.sub(
                    r"<(w:t|a:t|t)( [^>]*)?>", lambda m: m.group(0) + reference, text, count=1
                )
                data = text.encode("utf-8")
            zout.writestr(info, data)
    return out.getvalue()


def _parse(data: bytes, name: str) -> str:
    config = ParseConfiguration(tier="fast")
    try:
        result = parse_document(data, filename=name, config=config)
    except EngineError as exc:
        return f"FAILED: {exc}"
    return "\n".join(page.text or "" for page in result.pages)


def _secret() -> str:
    try:
        return Path(SECRET_FILE).read_text().strip()
    except OSError:
        pytest.skip(f"{SECRET_FILE} is not readable here")


CASES = [
    ("docx", make_docx, "word/document.xml"),
    ("pptx", make_pptx, "ppt/slides/slide1.xml"),
    ("xlsx", make_xlsx, "xl/worksheets/sheet1.xml"),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("kind", "make", "part"), CASES, ids=[c[0] for c in CASES])
def test_office_external_entities_are_not_read(
    tmp_path: Path, kind: str, make: object, part: str
) -> None:
    secret = _secret()
    source = make(tmp_path).read_bytes()  # type: ignore[operator]
    text = _parse(_inject(source, part, XXE, "&xxe;"), f"x.{kind}")
    assert secret not in text


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("kind", "make", "part"), CASES, ids=[c[0] for c in CASES])
def test_office_entity_expansion_is_not_performed(
    tmp_path: Path, kind: str, make: object, part: str
) -> None:
    source = make(tmp_path).read_bytes()  # type: ignore[operator]
    text = _parse(_inject(source, part, LAUGHS, "&a9;"), f"x.{kind}")
    assert text.count("lol") < 1000  # 10**9 if expanded


@pytest.mark.timeout(60)
def test_html_entities_are_not_expanded_or_fetched() -> None:
    secret = _secret()
    doctype = f"<!DOCTYPE html [{XXE_ENTITY}{LAUGH_ENTITIES}]>"
    page = f"{doctype}<html><body><p>&xxe; &a9;</p></body></html>"
    text = _parse(page.encode(), "page.html")
    assert secret not in text
    assert text.count("lol") < 1000
