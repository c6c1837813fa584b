"""``lamina parse FILE...``: parse documents to markdown, text or JSON.

One file and no ``-o``: the result goes to stdout. With ``-o DIR``: one ``<stem>.md`` / ``.txt``
/ ``.json`` per input, written as each finishes. Several files run concurrently (4 at a time by
default) behind a progress bar on stderr (pages of a single long file, files for several).
Exit status: 0 if every file parsed, 1 if any failed or came out incomplete (failed pages, or
no text at all from pages that show images; each printed to stderr as ``FILE: message``), 2
for bad usage such as a missing file.

Only argparse loads at import; the client loads when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lamina.client import AsyncClient
    from lamina.types import ParseResponse

TIERS = ("fast", "cost_effective", "agentic", "agentic_plus")
FORMATS = ("markdown", "text", "json")
EXTENSIONS = {"markdown": ".md", "text": ".txt", "json": ".json"}
DEFAULT_JSON_EXPAND = ("markdown", "items", "metadata")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

DESCRIPTION = (
    "Parse documents to markdown, text or JSON. One file and no -o: the result goes to stdout. "
    "With -o DIR: one <stem>.md/.txt/.json per input. Several files run concurrently behind a "
    "progress bar on stderr (pages of one long file). Exit status: 0 if every file parsed, 1 "
    "if any failed or came out incomplete (failed pages, or no text from pages that show "
    "images; each printed to stderr as 'FILE: message'), 2 for bad usage such as a missing "
    "file. "
    "Without --base-url or $LAMINA_BASE_URL the documents are parsed in this process."
)


def register(subparsers: Any) -> None:
    """Add the ``parse`` subcommand to the ``lamina`` parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "parse",
        help="parse documents to markdown, text or JSON",
        description=DESCRIPTION,
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="documents to parse")
    parser.add_argument(
        "--tier",
        choices=TIERS,
        default="cost_effective",
        help="parse tier (default: cost_effective: tables, and OCR of scanned pages and "
        "images; fast: the text layer only)",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="markdown", help="output format (default: markdown)"
    )
    parser.add_argument(
        "--expand",
        nargs="+",
        action="extend",
        metavar="VALUE",
        help=f"results to include with --format json (default: {' '.join(DEFAULT_JSON_EXPAND)})",
    )
    parser.add_argument(
        "-o", "--output-dir", type=Path, metavar="DIR", help="write one file per input into DIR"
    )
    parser.add_argument(
        "--base-url", help="server URL (default: $LAMINA_BASE_URL, else the embedded engine)"
    )
    parser.add_argument("--api-key", help="API key (default: $LAMINA_API_KEY)")
    parser.add_argument("--target-pages", metavar="PAGES", help='1-based pages, e.g. "1,3,5-7"')
    parser.add_argument("--max-pages", type=int, metavar="N", help="parse at most N pages")
    parser.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="give up on a file after this long (default: 600)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, metavar="N", help="files in flight (default: 4)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    """Check the arguments, parse every file, write or print results, report failures."""
    problem = _usage_problem(args)
    if problem:
        print(f"lamina parse: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if args.output_dir is not None:
        args.output_dir.mkdir(parents=True, exist_ok=True)
    import asyncio

    outcomes = asyncio.run(_parse_all(args))
    return _report(args, outcomes)


def _usage_problem(args: argparse.Namespace) -> str | None:
    for path in args.files:
        if not path.exists():
            return f"{path}: no such file"
        if not path.is_file():
            return f"{path}: not a file"
    if args.expand and args.format != "json":
        return "--expand applies only to --format json"
    if args.concurrency < 1:
        return "--concurrency must be at least 1"
    if args.max_pages is not None and args.max_pages < 1:
        return "--max-pages must be at least 1"
    return None


# --- running ------------------------------------------------------------------------------------


class _NoBar:
    """What the progress code talks to when no bar is shown (tqdm is not even imported)."""

    total: int | None = None
    n = 0

    def refresh(self) -> None:
        pass

    def update(self, _n: int = 1) -> None:
        pass

    def set_postfix_str(self, _text: str) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *_exc: object) -> None:
        pass


@dataclass
class Outcome:
    """What became of one file: its rendered output or the error, and what to tell the user
    about it (``notes``, printed to stderr). ``incomplete`` means pages are missing."""

    rendered: str | None = None
    error: BaseException | None = None
    notes: list[str] = field(default_factory=list)
    incomplete: bool = False


async def _parse_all(args: argparse.Namespace) -> list[Outcome]:
    """Parse every file, at most ``--concurrency`` at once. Files are written to ``-o`` as
    they finish. A tqdm bar on stderr counts pages of a single file, or files (with the
    pages of the latest one) for several."""
    import asyncio

    from lamina.client import AsyncClient

    names = output_names(args.files, EXTENSIONS[args.format])
    limit = asyncio.Semaphore(args.concurrency)
    single = len(args.files) == 1
    bar: Any = _NoBar()
    if not args.no_progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(
            total=None if single else len(args.files),
            file=sys.stderr,
            unit="page" if single else "file",
            desc=args.files[0].name if single else None,
            delay=0.5,  # a quick parse shows no bar at all
            leave=False,
        )
    with bar:
        async with AsyncClient(base_url=args.base_url, api_key=args.api_key) as client:

            async def one(path: Path, name: str) -> Outcome:
                def progress(done: int, total: int) -> None:
                    if single:
                        bar.total = total
                        bar.n = done
                        bar.refresh()
                    else:
                        bar.set_postfix_str(f"{path.name}: page {done}/{total}")

                async with limit:
                    try:
                        outcome = await _parse_one(client, path, args, progress)
                        if args.output_dir is not None and outcome.rendered is not None:
                            target = args.output_dir / name
                            target.write_text(outcome.rendered, encoding="utf-8")
                        return outcome
                    except Exception as exc:
                        return Outcome(error=exc)
                    finally:
                        if not single:
                            bar.update(1)

            return list(
                await asyncio.gather(*(one(p, n) for p, n in zip(args.files, names, strict=True)))
            )


async def _parse_one(
    client: AsyncClient, path: Path, args: argparse.Namespace, progress: Any
) -> Outcome:
    options: dict[str, Any] = {}
    page_ranges = {"target_pages": args.target_pages, "max_pages": args.max_pages}
    if any(value is not None for value in page_ranges.values()):
        options["page_ranges"] = {k: v for k, v in page_ranges.items() if v is not None}
    if args.format == "json":
        expand = tuple(args.expand or DEFAULT_JSON_EXPAND)
    else:
        expand = (f"{args.format}_full",)
    result = await client.parse(
        path,
        tier=args.tier,
        expand=(*expand, "job_metadata"),
        timeout=args.timeout,
        progress=progress,
        **options,
    )
    outcome = await _check_pages(client, result, args.tier)
    if args.format == "json":
        if "job_metadata" not in expand:
            result = result.model_copy(update={"job_metadata": None})
        outcome.rendered = result.model_dump_json(indent=2, exclude_none=True) + "\n"
        return outcome
    full = result.markdown_full if args.format == "markdown" else result.text_full
    if full is None:  # a server that does not offer the *_full results: join the pages
        result = await client.parsing.get(result.job.id, expand=(args.format,))
        full = join_pages(result, args.format)
    outcome.rendered = full if full.endswith("\n") else full + "\n"
    return outcome


async def _check_pages(client: AsyncClient, result: ParseResponse, tier: str) -> Outcome:
    """Notes about failed pages and pages that show pixels but gave no text, from the job's
    metadata. Missing pages, or a document that yielded no text at all, make the file count
    as incomplete (exit status 1): an empty output is never a silent success."""
    from lamina.types import FailedPage

    outcome = Outcome()
    meta = result.job_metadata or {}
    found = meta.get("stats")
    stats: dict[str, Any] = found if isinstance(found, dict) else {}
    failed = [n for n in meta.get("failed_pages") or [] if isinstance(n, int)]
    if failed:
        outcome.incomplete = True
        detail = await client.parsing.get(result.job.id, expand=("markdown",))
        pages = detail.markdown.pages if detail.markdown is not None else []
        errors = {p.page_number: p.error for p in pages if isinstance(p, FailedPage)}
        for number in failed:
            outcome.notes.append(f"page {number} failed: {errors.get(number, 'no details')}")
    blank = [n for n in stats.get("pages_without_text") or [] if isinstance(n, int)]
    if blank:
        pages_text = _page_list(blank)
        if "ocr_pages" in stats:
            outcome.notes.append(f"OCR found no text on {pages_text}")
        else:
            verb = "shows an image" if len(blank) == 1 else "show images"
            outcome.notes.append(
                f"{pages_text} {verb} but no text layer, and tier {tier!r} does not read "
                "images: use --tier cost_effective to OCR them"
            )
        parsed = meta.get("pages_parsed")
        if isinstance(parsed, int) and len(blank) >= parsed and "ocr_pages" not in stats:
            outcome.incomplete = True
    return outcome


def _page_list(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:10]) + (" ..." if len(numbers) > 10 else "")
    return f"page {shown}" if len(numbers) == 1 else f"pages {shown}"


def join_pages(result: ParseResponse, fmt: str) -> str:
    """The per-page markdown or text of ``result`` as one string (failed pages left out)."""
    if fmt == "markdown" and result.markdown is not None:
        return "\n\n".join(getattr(page, "markdown", "") for page in result.markdown.pages)
    if fmt == "text" and result.text is not None:
        return "\n\n".join(page.text for page in result.text.pages)
    return ""


def output_names(paths: Sequence[Path], extension: str) -> list[str]:
    """Output file names: ``<stem><ext>``, or ``<name><ext>`` (then ``-2``, ``-3``...) where
    stems collide, so no input overwrites another's result."""
    stems = [path.stem for path in paths]
    names: list[str] = []
    taken: set[str] = set()
    for path, stem in zip(paths, stems, strict=True):
        base = stem if stems.count(stem) == 1 else path.name
        name, n = base + extension, 2
        while name in taken:
            name, n = f"{base}-{n}{extension}", n + 1
        taken.add(name)
        names.append(name)
    return names


# --- reporting ----------------------------------------------------------------------------------


def _report(args: argparse.Namespace, outcomes: list[Outcome]) -> int:
    """Print results (without ``-o``), notes and failures; the exit status."""
    if args.output_dir is None:
        _print_results(args, outcomes)
    failures = 0
    for path, outcome in zip(args.files, outcomes, strict=True):
        if outcome.error is not None:
            failures += 1
            print(f"{path}: {_describe(outcome.error)}", file=sys.stderr)
            continue
        for note in outcome.notes:
            print(f"{path}: {note}", file=sys.stderr)
        failures += outcome.incomplete
    if failures and len(args.files) > 1:
        print(f"{failures} of {len(args.files)} files failed or are incomplete", file=sys.stderr)
    return EXIT_FAILED if failures else EXIT_OK


def _print_results(args: argparse.Namespace, outcomes: list[Outcome]) -> None:
    """One result: as is. Several: ``==> FILE <==`` headers, or JSON Lines for ``json``."""
    ok = [
        (path, outcome.rendered)
        for path, outcome in zip(args.files, outcomes, strict=True)
        if outcome.rendered is not None
    ]
    if len(args.files) == 1:
        for _, text in ok:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    for path, text in ok:
        if args.format == "json":
            import json

            sys.stdout.write(json.dumps({"file": str(path), "result": json.loads(text)}) + "\n")
        else:
            sys.stdout.write(f"==> {path} <==\n{text}\n")


def _describe(exc: BaseException) -> str:
    from lamina._exceptions import LaminaError

    if isinstance(exc, LaminaError | OSError) and str(exc):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
