"""``lamina parse FILE...``: parse documents to markdown, text or JSON.

One file and no ``-o``: the result goes to stdout. With ``-o DIR``: one ``<stem>.md`` / ``.txt``
/ ``.json`` per input, written as each finishes. Several files run concurrently (4 at a time by
default) behind a progress bar on stderr. Exit status: 0 if every file parsed, 1 if any failed
(each failure printed to stderr as ``FILE: message``), 2 for bad usage such as a missing file.

Only argparse loads at import; the client loads when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
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
    "progress bar on stderr. Exit status: 0 if every file parsed, 1 if any failed (each "
    "failure printed to stderr as 'FILE: message'), 2 for bad usage such as a missing file. "
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
    parser.add_argument("--tier", choices=TIERS, default="fast", help="parse tier (default: fast)")
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


async def _parse_all(args: argparse.Namespace) -> list[str | BaseException]:
    """Parse every file, at most ``--concurrency`` at once; per file, the rendered output or
    the error. Files are written to ``-o`` as they finish."""
    import asyncio

    from tqdm import tqdm

    from lamina.client import AsyncClient

    names = output_names(args.files, EXTENSIONS[args.format])
    limit = asyncio.Semaphore(args.concurrency)
    show = not args.no_progress and sys.stderr.isatty() and len(args.files) > 1
    with tqdm(total=len(args.files), file=sys.stderr, unit="file", disable=not show) as bar:
        async with AsyncClient(base_url=args.base_url, api_key=args.api_key) as client:

            async def one(path: Path, name: str) -> str | BaseException:
                async with limit:
                    try:
                        rendered = await _parse_one(client, path, args)
                        if args.output_dir is not None:
                            (args.output_dir / name).write_text(rendered, encoding="utf-8")
                        return rendered
                    except Exception as exc:
                        return exc
                    finally:
                        bar.update(1)

            return list(
                await asyncio.gather(*(one(p, n) for p, n in zip(args.files, names, strict=True)))
            )


async def _parse_one(client: AsyncClient, path: Path, args: argparse.Namespace) -> str:
    options: dict[str, Any] = {}
    page_ranges = {"target_pages": args.target_pages, "max_pages": args.max_pages}
    if any(value is not None for value in page_ranges.values()):
        options["page_ranges"] = {k: v for k, v in page_ranges.items() if v is not None}
    if args.format == "json":
        expand = tuple(args.expand or DEFAULT_JSON_EXPAND)
    else:
        expand = (f"{args.format}_full",)
    result = await client.parse(
        path, tier=args.tier, expand=expand, timeout=args.timeout, **options
    )
    if args.format == "json":
        return result.model_dump_json(indent=2, exclude_none=True) + "\n"
    full = result.markdown_full if args.format == "markdown" else result.text_full
    if full is None:  # a server that does not offer the *_full results: join the pages
        result = await client.parsing.get(result.job.id, expand=(args.format,))
        full = join_pages(result, args.format)
    return full if full.endswith("\n") else full + "\n"


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


def _report(args: argparse.Namespace, outcomes: list[str | BaseException]) -> int:
    """Print results (without ``-o``) and failures; the exit status."""
    failures = [
        (path, outcome)
        for path, outcome in zip(args.files, outcomes, strict=True)
        if isinstance(outcome, BaseException)
    ]
    if args.output_dir is None:
        _print_results(args, outcomes)
    for path, exc in failures:
        print(f"{path}: {_describe(exc)}", file=sys.stderr)
    if failures and len(args.files) > 1:
        print(f"{len(failures)} of {len(args.files)} files failed", file=sys.stderr)
    return EXIT_FAILED if failures else EXIT_OK


def _print_results(args: argparse.Namespace, outcomes: list[str | BaseException]) -> None:
    """One result: as is. Several: ``==> FILE <==`` headers, or JSON Lines for ``json``."""
    ok = [
        (path, text)
        for path, text in zip(args.files, outcomes, strict=True)
        if isinstance(text, str)
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
