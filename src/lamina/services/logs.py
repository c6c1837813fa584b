"""Log set-up of ``lamina serve``, ``lamina worker`` and the worker processes: plain text, or
JSON lines (``--log-format json`` / ``LAMINA_LOG_FORMAT=json``) for a log collector.

Every record carries the job and project it is about: the worker sets them while it runs a
job (:func:`log_context`), the API's request gate sets the project of each request, and a
call may pass them itself (``extra={"job_id": ..., "project_id": ...}``). In JSON each line is
one object: ``ts``, ``level``, ``logger``, ``message``, ``process``, then ``job_id`` and
``project_id`` when known, the other ``extra`` fields, the fields of an access log line
(``method``, ``path``, ``status``, ``client``) and ``exception``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

FORMAT_ENV = "LAMINA_LOG_FORMAT"
FORMATS = ("text", "json")

_JOB: ContextVar[str | None] = ContextVar("lamina_log_job", default=None)
_PROJECT: ContextVar[str | None] = ContextVar("lamina_log_project", default=None)

# Attributes every LogRecord has: anything else on a record came from ``extra``.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "job_id",
    "project_id",
}


def log_format(value: str | None = None) -> str:
    """``value``, else ``LAMINA_LOG_FORMAT``, else ``text``; refuses anything else."""
    chosen = (value or os.environ.get(FORMAT_ENV) or "text").strip().lower()
    if chosen not in FORMATS:
        raise ValueError(f"{FORMAT_ENV}={chosen!r}: use text or json")
    return chosen


@contextmanager
def log_context(*, job_id: str | None = None, project_id: str | None = None) -> Iterator[None]:
    """Records logged inside the block (this thread or task) name this job and project."""
    job_token = _JOB.set(job_id) if job_id is not None else None
    project_token = _PROJECT.set(project_id) if project_id is not None else None
    try:
        yield
    finally:
        if job_token is not None:
            _JOB.reset(job_token)
        if project_token is not None:
            _PROJECT.reset(project_token)


def set_project(project_id: str) -> None:
    """The project of the rest of this request (called by the request gate, whose task ends
    with the request)."""
    _PROJECT.set(project_id)


class ContextFilter(logging.Filter):
    """Puts the current job and project on each record (an explicit ``extra`` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "job_id", None) is None:
            record.job_id = _JOB.get()
        if getattr(record, "project_id", None) is None:
            record.project_id = _PROJECT.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for name in ("job_id", "project_id"):
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        for name, value in record.__dict__.items():
            if name not in _STANDARD and name not in out and not name.startswith("_"):
                out[name] = value
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, _version, status = args
            out.update(client=client, method=method, path=path, status=status)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The text format, with ``[job ... project ...]`` after the logger when known."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        tags = [
            f"{name} {value}"
            for name in ("project", "job")
            if (value := getattr(record, f"{name}_id", None)) is not None
        ]
        return f"{line} [{', '.join(tags)}]" if tags else line


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str, fmt: str | None = None, *, text_format: str = TEXT_FORMAT) -> str:
    """Send the root logger's records to stderr as text or JSON lines; returns the format.

    Sets ``LAMINA_LOG_FORMAT`` for the processes this one starts."""
    chosen = log_format(fmt)
    os.environ[FORMAT_ENV] = chosen
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if chosen == "json" else TextFormatter(text_format))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(chosen == "json")  # Python warnings as records, not raw stderr
    return chosen
