"""What agent tools tell a model: the file or id to read, and errors phrased so that a model can
act on them. The LangChain extract tool raises these as ``ToolException``, the LlamaIndex tool
spec as ``ValueError``."""

from __future__ import annotations

import os
import re
from pathlib import Path

from lamina import (
    ExtractionValidationError,
    JobCancelledError,
    JobFailedError,
    JobTimeoutError,
    LaminaError,
    NotFoundError,
)
from lamina.ingest._schemas import ExtractionSchema, schema_title

_PAGES = re.compile(r"\d+(-\d+)?(,\d+(-\d+)?)*")

ID_PREFIXES = ("dfl-", "pjb-")
"""Lamina file ids and parse job ids, which a tool accepts in place of a path."""


def tool_source(file_path: str) -> str:
    """The path or id an agent tool should read, or a ValueError whose message the model can
    act on (a folder, a missing file)."""
    text = file_path.strip()
    if text.startswith(ID_PREFIXES) and not os.path.exists(text):
        return text
    path = Path(text).expanduser()
    if path.is_dir():
        raise ValueError(f"{file_path!r} is a folder. Give the path of one document file in it.")
    if not path.is_file():
        raise ValueError(
            f"File not found: {file_path!r}. Give the path of an existing local file (check the "
            "name and folder), or a Lamina file id ('dfl-...') or parse job id ('pjb-...')."
        )
    return str(path)


def page_selection(pages: str | None) -> str | None:
    """A tool's ``pages`` argument checked and normalized (``"1, 3-5"`` → ``"1,3-5"``), None
    for all pages; a ValueError the model can act on for anything else (``"two"``, ``"0"``,
    ``"5-2"``), before any job is started (the API would answer a bare 422)."""
    if pages is None or not pages.strip():
        return None
    text = "".join(pages.split())
    problem = None
    if not _PAGES.fullmatch(text):
        problem = "it is not a list of page numbers and ranges"
    else:
        for part in text.split(","):
            first, _, last = part.partition("-")
            if int(first) < 1 or (last and int(last) < 1):
                problem = "pages count from 1"
            elif last and int(last) < int(first):
                problem = f"the range {part} runs backwards"
    if problem:
        raise ValueError(
            f"Invalid pages {pages!r}: {problem}. Give 1-based page numbers and ranges such as "
            "'1', '2-4' or '1,3,5-7', or leave pages empty to read the whole document."
        )
    return text


def tool_error_message(exc: LaminaError, file_path: str, schema: ExtractionSchema) -> str | None:
    """What to tell a model about ``exc`` so it can act (another id, file, or pages); None for
    errors it cannot fix (configuration, server, bugs), which should propagate as they are."""
    if isinstance(exc, NotFoundError) and file_path.strip().startswith(ID_PREFIXES):
        return (
            f"No Lamina file or parse job has the id {file_path!r}. Use an id returned by an "
            "earlier upload or parse, or give the path of a local file."
        )
    if isinstance(exc, JobFailedError):
        return (
            f"Could not extract from {file_path!r}: {exc.error_message} Check that the file is "
            "a readable document of a supported type and that the pages exist; try other pages "
            "or another file."
        )
    if isinstance(exc, JobTimeoutError):
        return (
            f"Extracting from {file_path!r} did not finish within {exc.timeout:g} s. Try again "
            "with fewer pages (e.g. pages='1-5')."
        )
    if isinstance(exc, JobCancelledError):
        return f"The extraction from {file_path!r} was cancelled. Try again."
    if isinstance(exc, ExtractionValidationError):
        title = schema_title(schema) or "the schema"
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}"
            for err in exc.errors[:10]
        )
        return (
            f"{file_path!r} does not hold the data {title} needs ({problems}). It may not be "
            "that kind of document, or the fields may be on other pages: check the file or "
            "the pages."
        )
    return None
