"""``lamina parse`` pieces that need no server: arguments, usage errors, output names."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from lamina.cli import parse as parse_cmd


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lamina")
    parse_cmd.register(parser.add_subparsers(dest="command", required=True))
    return parser


def test_arguments_parse() -> None:
    args = _parser().parse_args(
        ["parse", "a.pdf", "b.pdf", "--format", "json", "--expand", "items", "text", "-o", "out"]
    )
    assert args.files == [Path("a.pdf"), Path("b.pdf")]
    assert args.expand == ["items", "text"] and args.output_dir == Path("out")
    assert args.tier == "cost_effective" and args.run is parse_cmd._run


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["missing.pdf"], "missing.pdf: no such file"),
        ([".", "--format", "text"], ".: not a file"),
        (["{good}", "--expand", "items"], "--expand applies only to --format json"),
        (["{good}", "--max-pages", "0"], "--max-pages must be at least 1"),
    ],
)
def test_usage_errors_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.pdf").write_bytes(b"%PDF")
    argv = ["parse", *(arg.replace("{good}", "good.pdf") for arg in extra)]
    args = _parser().parse_args(argv)
    assert args.run(args) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["a.pdf", "b.docx"], ["a.md", "b.md"]),
        (["x/report.pdf", "y/report.docx"], ["report.pdf.md", "report.docx.md"]),
        (["x/report.pdf", "y/report.pdf"], ["report.pdf.md", "report.pdf-2.md"]),
        (["notes"], ["notes.md"]),
    ],
)
def test_output_names_never_collide(paths: list[str], expected: list[str]) -> None:
    assert parse_cmd.output_names([Path(p) for p in paths], ".md") == expected


def test_importing_the_command_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, lamina.cli.parse\n"
        "heavy = [m for m in ('tqdm', 'fastapi', 'lamina.server') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
