"""``lamina parse`` end to end: ``python -m lamina parse ...`` in a subprocess, on the embedded
server and against a ``lamina serve`` on loopback."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.documents import (
    SIMPLE_PARAGRAPH,
    SIMPLE_TITLE,
    make_corrupt_pdf,
    make_multipage_pdf,
    make_simple_pdf,
)

pytestmark = pytest.mark.slow

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def docs(tmp_path: Path) -> dict[str, Path]:
    """``simple.pdf`` (one page), ``multipage_2.pdf`` (two) and ``corrupt.pdf``."""
    return {
        "simple": make_simple_pdf(tmp_path),
        "two": make_multipage_pdf(tmp_path, pages=2),
        "broken": make_corrupt_pdf(tmp_path),
    }


def test_one_file_to_stdout(run_cli: Run, docs: dict[str, Path]) -> None:
    done = run_cli("parse", str(docs["simple"]))
    assert done.returncode == 0, done.stderr
    assert SIMPLE_TITLE in done.stdout and SIMPLE_PARAGRAPH in done.stdout


def test_text_and_json_formats(run_cli: Run, docs: dict[str, Path]) -> None:
    text = run_cli("parse", str(docs["two"]), "--format", "text", "--target-pages", "2")
    assert text.returncode == 0, text.stderr
    assert "This is page 2." in text.stdout and "page 1." not in text.stdout
    as_json = run_cli("parse", str(docs["two"]), "--format", "json", "--expand", "items", "text")
    assert as_json.returncode == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    assert body["job"]["status"] == "COMPLETED"
    assert len(body["items"]["pages"]) == 2 and len(body["text"]["pages"]) == 2
    assert "markdown" not in body


def test_several_files_into_a_directory(
    run_cli: Run, docs: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = run_cli("parse", str(docs["simple"]), str(docs["two"]), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["multipage_2.md", "simple.md"]
    assert SIMPLE_TITLE in (out / "simple.md").read_text()
    assert "This is page 2." in (out / "multipage_2.md").read_text()
    assert done.stdout == ""


def test_a_corrupt_file_fails_alone(run_cli: Run, docs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    files = [str(docs[name]) for name in ("simple", "broken", "two")]
    done = run_cli("parse", *files, "-o", str(out), "--format", "text")
    assert done.returncode == 1
    assert sorted(p.name for p in out.iterdir()) == ["multipage_2.txt", "simple.txt"]
    assert f"{docs['broken']}: " in done.stderr
    assert "1 of 3 files failed" in done.stderr
    assert " INFO " not in done.stderr  # worker logs stay out of the way


def test_missing_file_is_a_usage_error(run_cli: Run, docs: dict[str, Path]) -> None:
    done = run_cli("parse", str(docs["simple"]), "nope.pdf")
    assert done.returncode == 2
    assert "nope.pdf: no such file" in done.stderr


def test_against_a_server_matches_embedded(
    run_cli: Run, served: str, docs: dict[str, Path]
) -> None:
    remote = run_cli("parse", str(docs["two"]), "--base-url", served)
    local = run_cli("parse", str(docs["two"]))
    assert remote.returncode == 0 and local.returncode == 0, remote.stderr + local.stderr
    assert remote.stdout == local.stdout


# --- pages that show pixels but give no text: never a silent success ----------------------------

_WITHOUT_OCR = (
    "import sys; sys.modules['rapidocr_onnxruntime'] = None; "  # the 'ocr' extra is missing
    "from lamina.cli import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.fixture
def scans(tmp_path: Path) -> dict[str, Path]:
    from tests.fixtures import images as fx

    image = tmp_path / "receipt.png"
    image.write_bytes(fx.image_bytes(fx.text_image(), "PNG"))
    return {"pdf": fx.make_scanned_pdf(tmp_path, name="scan.pdf"), "image": image}


def test_missing_ocr_fails_loudly_for_scans_and_images_alike(
    run_cli: Run, scans: dict[str, Path], tmp_path: Path
) -> None:
    import os
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAMINA_", "LLAMA_"))}
    env["LAMINA_HOME"] = str(tmp_path / "home")
    for kind, path in scans.items():
        done = subprocess.run(
            [sys.executable, "-c", _WITHOUT_OCR, "parse", str(path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
        )
        assert done.returncode == 1, (kind, done.stdout, done.stderr)
        assert "OCR needs the 'ocr' extra" in done.stderr, (kind, done.stderr)
        assert "pip install -e '" in done.stderr and "[ocr]'" in done.stderr  # editable checkout


def test_fast_tier_says_scans_were_not_read(run_cli: Run, scans: dict[str, Path]) -> None:
    for path in scans.values():
        done = run_cli("parse", "--tier", "fast", str(path))
        assert done.returncode == 1, done.stderr
        assert "no text layer" in done.stderr and "--tier cost_effective" in done.stderr
