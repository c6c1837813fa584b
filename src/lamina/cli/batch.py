"""``lamina batch DIR``: parse (or classify) every file of a folder as one batch job.

The files are uploaded into a new directory on the server, a batch job is created over it and
followed with a live progress bar on stderr. With ``-o DIR`` each file's result (markdown, text
or JSON, ``--format``) is written into DIR as soon as its item completes, and its path printed.
At the end a summary is printed, with one line per failed file (``NAME: message``) and per
skipped file, saying why (``unchanged since job pjb-...``: its earlier result is written too).
With ``--classify rules.json`` (a list of ``{"type", "description"}``) the batch classifies
instead, and each file's type and confidence is printed. Exit status: 0 if no item failed, 1 if
any failed or the batch did not complete, 2 for bad usage.

Only argparse loads at import; the client and tqdm load when the command runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lamina.client import Client

TIERS = ("fast", "cost_effective", "agentic", "agentic_plus")
FORMATS = ("markdown", "text", "json")
EXTENSIONS = {"markdown": ".md", "text": ".txt", "json": ".json"}
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
SKIP_REASONS = {
    "already_processed": "unchanged since job {job}: its result is reused",
    "size_limit_exceeded": "larger than the batch file size limit (LAMINA_BATCH_MAX_FILE_BYTES)",
}


def register(subparsers: Any) -> None:
    """Add the ``batch`` subcommand to the ``lamina`` parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "batch",
        help="parse or classify every file of a folder as one batch job",
        description="Parse (or classify) every file of a folder as one batch job, with a live "
        "progress bar and a summary of failures and skips. With -o DIR each file's result is "
        "written into DIR as soon as it completes.",
    )
    parser.add_argument("directory", type=Path, metavar="DIR", help="folder of documents")
    parser.add_argument(
        "--tier",
        choices=TIERS,
        default="cost_effective",
        help="parse tier (default: cost_effective: tables and OCR; fast: text layer only)",
    )
    parser.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        metavar="OUT",
        help="write one <name>.md/.txt/.json per file into OUT as each completes",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="markdown",
        help="what -o writes (default: markdown; json: markdown, items and metadata)",
    )
    parser.add_argument(
        "--classify",
        type=Path,
        metavar="RULES.json",
        help='classify instead of parse: a JSON list of {"type", "description"} rules',
    )
    parser.add_argument(
        "--mode", choices=("FAST", "MULTIMODAL"), default="FAST", help="classify mode"
    )
    parser.add_argument(
        "--max-concurrency",
        type=int,
        metavar="N",
        help="parse jobs in flight at once (embedded: also the worker processes, up to the CPUs)",
    )
    parser.add_argument("-r", "--recursive", action="store_true", help="include subfolders")
    parser.add_argument(
        "--base-url", help="server URL (default: $LAMINA_BASE_URL, else the embedded engine)"
    )
    parser.add_argument("--api-key", help="API key (default: $LAMINA_API_KEY)")
    parser.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="stop waiting after this long"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(run=_run)


def _files(folder: Path, recursive: bool) -> list[Path]:
    pattern = folder.rglob("*") if recursive else folder.glob("*")
    return sorted(
        p
        for p in pattern
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _load_rules(path: Path) -> list[dict[str, str]] | str:
    try:
        rules = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"{path}: {exc}"
    if isinstance(rules, dict) and "rules" in rules:
        rules = rules["rules"]
    if not isinstance(rules, list) or not all(
        isinstance(r, dict) and r.get("type") and r.get("description") for r in rules
    ):
        return f'{path}: expected a list of {{"type": ..., "description": ...}} rules'
    return rules


def _run(args: argparse.Namespace) -> int:
    """Upload the folder, run the batch with a progress bar, print the summary."""
    folder: Path = args.directory
    if not folder.is_dir():
        print(f"lamina batch: error: {folder}: not a directory", file=sys.stderr)
        return EXIT_USAGE
    if args.max_concurrency is not None and args.max_concurrency < 1:
        print("lamina batch: error: --max-concurrency must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if args.output_dir is not None and args.classify:
        print("lamina batch: error: -o writes parse results; not with --classify", file=sys.stderr)
        return EXIT_USAGE
    rules = _load_rules(args.classify) if args.classify else None
    if isinstance(rules, str):
        print(f"lamina batch: error: {rules}", file=sys.stderr)
        return EXIT_USAGE
    paths = _files(folder, args.recursive)
    if not paths:
        print(f"lamina batch: error: {folder}: no files", file=sys.stderr)
        return EXIT_USAGE
    embedded = not (args.base_url or os.environ.get("LAMINA_BASE_URL"))
    if embedded and args.max_concurrency and "LAMINA_WORKERS" not in os.environ:
        os.environ["LAMINA_WORKERS"] = str(min(args.max_concurrency, os.cpu_count() or 1))

    from lamina.client import Client

    with Client(base_url=args.base_url, api_key=args.api_key) as client:
        return _run_batch(client, args, folder, paths, rules)


def _run_batch(
    client: Client,
    args: argparse.Namespace,
    folder: Path,
    paths: list[Path],
    rules: list[dict[str, str]] | None,
) -> int:
    from tqdm import tqdm

    from lamina.types import BatchJobStatusResponse

    show = not args.no_progress and sys.stderr.isatty()
    directory = client.directories.create(folder.resolve().name or "batch", type="ephemeral")
    with tqdm(
        total=len(paths), desc="upload", unit="file", file=sys.stderr, disable=not show
    ) as bar:
        for path in paths:
            name = path.relative_to(folder).as_posix()
            client.directories.upload_file(directory.id, path, filename=path.name, unique_id=name)
            bar.update(1)
    job = client.batches.create(
        directory.id,
        tier=args.tier,
        classify_rules=rules,
        mode=args.mode if rules else None,
        max_concurrency=args.max_concurrency,
    )
    writer = ResultWriter(client, args.output_dir, args.format, tqdm.write)
    with tqdm(
        total=job.total_items, desc=job.job_type, unit="file", file=sys.stderr, disable=not show
    ) as bar:

        def progress(status: BatchJobStatusResponse) -> None:
            done = round(status.progress_percentage * status.job.total_items / 100)
            bar.set_postfix(
                failed=status.job.failed_items or 0,
                skipped=status.job.skipped_items or 0,
                refresh=False,
            )
            bar.update(max(done - bar.n, 0))
            writer.catch_up(job.id, done)

        final = client.batches.wait(job.id, progress=progress, timeout=args.timeout)
    return _report(client, final, writer, classify=rules is not None)


class ResultWriter:
    """Writes each finished item's parse result into the output folder, once, as soon as the
    batch reports it done (and the earlier result of an item skipped as already processed)."""

    def __init__(
        self, client: Client, folder: Path | None, fmt: str, say: Callable[..., Any]
    ) -> None:
        self.client, self.folder, self.format, self._say = client, folder, fmt, say
        self.written: dict[str, Path] = {}
        self._taken: set[str] = set()
        self._seen_done = 0

    def catch_up(self, batch_id: str, done: int) -> None:
        """Write the results of items finished since the last call (cheap when none are)."""
        if self.folder is None or done <= self._seen_done:
            return
        self._seen_done = done
        for status in ("completed", "skipped"):
            for item in self.client.batches.iter_items(batch_id, status=status):
                self.write(item)

    def write(self, item: Any) -> Path | None:
        if self.folder is None or not item.job_id or item.item_id in self.written:
            return None
        from lamina.cli.parse import DEFAULT_JSON_EXPAND, output_names

        if self.format == "json":
            result = self.client.parsing.get(item.job_id, expand=DEFAULT_JSON_EXPAND)
            text = result.model_dump_json(indent=2, exclude_none=True) + "\n"
        else:
            result = self.client.parsing.get(item.job_id, expand=(f"{self.format}_full",))
            full = result.markdown_full if self.format == "markdown" else result.text_full
            text = (full or "") if (full or "").endswith("\n") else (full or "") + "\n"
        name = output_names([Path(item.item_name)], EXTENSIONS[self.format])[0]
        stem, ext = name[: -len(EXTENSIONS[self.format])], EXTENSIONS[self.format]
        candidate, n = name, 2
        while candidate in self._taken:
            candidate, n = f"{stem}-{n}{ext}", n + 1
        self._taken.add(candidate)
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / candidate
        target.write_text(text, encoding="utf-8")
        self.written[item.item_id] = target
        self._say(f"{item.item_name} -> {target}", file=sys.stderr)
        return target


def skip_reason(item: Any) -> str:
    """Why an item was skipped, in words (``unchanged since job pjb-...``)."""
    reason = item.skip_reason or "skipped"
    template = SKIP_REASONS.get(reason)
    if template is None:
        return reason
    return template.format(job=item.job_id or "(unknown)")


def _report(client: Client, final: Any, writer: ResultWriter, *, classify: bool) -> int:
    job = final.job
    counts: dict[str, int] = {}
    failures: list[tuple[str, str]] = []
    skips: list[tuple[str, str]] = []
    classified: list[tuple[str, Any]] = []
    for item in client.batches.iter_items(job.id):
        counts[item.status] = counts.get(item.status, 0) + 1
        if item.status == "failed":
            failures.append((item.item_name, item.error_message or "failed"))
        elif item.status == "skipped":
            skips.append((item.item_name, skip_reason(item)))
        if classify and item.status in ("completed", "skipped"):
            classified.append((item.item_name, item.item_id))
        elif item.status in ("completed", "skipped"):
            writer.write(item)
    if classify:
        for name, item_id in classified:
            results = client.batches.processing_results(item_id, job_type="classify")
            history = results.processing_results or []
            data = (history[-1].output_metadata if history else None) or {}
            print(f"{name}\t{data.get('type')}\t{data.get('confidence')}")
    summary = ", ".join(
        f"{counts.get(s, 0)} {s}" for s in ("completed", "failed", "skipped", "cancelled")
    )
    print(f"batch {job.id} {job.status}: {job.total_items} files: {summary}", file=sys.stderr)
    for name, why in skips:
        print(f"{name}: skipped: {why}", file=sys.stderr)
    for name, message in failures:
        print(f"{name}: {message}", file=sys.stderr)
    if writer.folder is not None:
        print(f"{len(writer.written)} results written to {writer.folder}", file=sys.stderr)
    elif not classify and (counts.get("completed") or counts.get("skipped")):
        print(
            "results: add -o DIR to write each file's markdown, or read one with "
            "lamina.Client().parsing.get(job_id, expand=['markdown_full'])",
            file=sys.stderr,
        )
    return EXIT_OK if job.status == "completed" and not failures else EXIT_FAILED
