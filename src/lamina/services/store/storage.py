"""Uploaded files and job results on disk, under the data dir.

Layout::

    <data_dir>/files/<file_id>              uploaded content
    <data_dir>/results/<job_id>/            one file per expand (see RESULT_FILES), images/
    <data_dir>/tmp/                         staging for atomic writes
    <data_dir>/progress/<job_id>.json       pages done of a running job (removed when it ends)

Every write goes to a temporary path first and is renamed into place, so a reader never sees
half a file and a worker killed mid-write leaves nothing behind but a temp file. A job's result
directory is built under ``tmp/`` and renamed as a whole.

A shared directory (a volume every replica and worker mounts) is one way to scale out; the other
is S3-compatible object storage (:mod:`lamina.services.store.object_storage`, the same interface
with the data dir as a local staging area), chosen by
:func:`lamina.services.store.backends.open_storage`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, BinaryIO

# expand name (without ``_content_metadata``) → (result file name, key in result_content_metadata)
RESULT_FILES: dict[str, tuple[str, str]] = {
    "text": ("text.json", "text"),
    "markdown": ("markdown.json", "markdown"),
    "items": ("items.json", "items"),
    "metadata": ("metadata.json", "metadata"),
    "text_full": ("text_full.txt", "text_full"),
    "markdown_full": ("markdown_full.md", "markdown_full"),
    "raw_words": ("raw_words.json", "raw_words"),
    "xlsx": ("result.xlsx", "xlsx"),
    "output_pdf": ("output.pdf", "outputPDF"),
    "forms": ("forms.json", "forms"),
}
JOB_METADATA_FILE = "job_metadata.json"
IMAGES_INDEX_FILE = "images.json"
IMAGES_DIR = "images"

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


def is_safe_name(name: str) -> bool:
    """A plain file name: no separators, no leading dot, no ``..``."""
    return bool(_SAFE_NAME.match(name)) and ".." not in name


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_DURABLE: ContextVar[bool] = ContextVar("lamina_durable_writes", default=True)


def set_durable_writes(durable: bool) -> None:
    """Whether :func:`write_atomic` syncs to disk in this thread (default yes).

    The embedded engine turns it off for its job thread: its data dir is a cache of this
    machine, and a sync per result file costs more than a small job itself. The rename
    still keeps every file whole.
    """
    _DURABLE.set(durable)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if _DURABLE.get():
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def dump_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


class TooLargeError(ValueError):
    """A stream longer than the size limit given to :meth:`Storage.write_file_from`."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than the limit of {limit} bytes")
        self.limit = limit


def copy_limited(
    source: BinaryIO, out: BinaryIO, *, max_bytes: int, chunk_size: int = 1 << 20
) -> tuple[int, str]:
    """Copy ``source`` to ``out`` in chunks; returns (size, sha256 hex). Raises
    :class:`TooLargeError` as soon as more than ``max_bytes`` have come (the caller removes
    what was written)."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(chunk_size):
        size += len(chunk)
        if size > max_bytes:
            raise TooLargeError(max_bytes)
        digest.update(chunk)
        out.write(chunk)
    return size, digest.hexdigest()


class Storage:
    """Paths and atomic reads/writes for uploads and results."""

    def __init__(self, data_dir: Path, *, durable: bool = True) -> None:
        self.root = Path(data_dir)
        self.durable = durable
        self.files_dir = self.root / "files"
        self.results_dir = self.root / "results"
        self.tmp_dir = self.root / "tmp"
        self.progress_dir = self.root / "progress"
        for folder in (self.files_dir, self.results_dir, self.tmp_dir, self.progress_dir):
            folder.mkdir(parents=True, exist_ok=True)

    # uploads ----------------------------------------------------------------------------------

    def file_path(self, file_id: str) -> Path:
        if not is_safe_name(file_id):
            raise ValueError(f"bad file id {file_id!r}")
        return self.files_dir / file_id

    def write_file(self, file_id: str, data: bytes) -> None:
        token = _DURABLE.set(self.durable and _DURABLE.get())
        try:
            write_atomic(self.file_path(file_id), data)
        finally:
            _DURABLE.reset(token)

    def write_file_from(
        self, file_id: str, source: BinaryIO, *, max_bytes: int, chunk_size: int = 1 << 20
    ) -> tuple[int, str]:
        """Copy ``source`` to the file's path in chunks (never all in memory), atomically;
        returns (size, sha256 hex). Raises :class:`TooLargeError` past ``max_bytes`` (nothing
        is left behind)."""
        path = self.file_path(file_id)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                copied = copy_limited(source, out, max_bytes=max_bytes, chunk_size=chunk_size)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return copied

    def read_file(self, file_id: str) -> bytes:
        return self.file_path(file_id).read_bytes()

    def delete_file(self, file_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.file_path(file_id).unlink()

    # results ----------------------------------------------------------------------------------

    def result_dir(self, job_id: str) -> Path:
        if not is_safe_name(job_id):
            raise ValueError(f"bad job id {job_id!r}")
        return self.results_dir / job_id

    def result_path(self, job_id: str, name: str) -> Path | None:
        """Path of a result file (``name`` may be ``images/<file>``); None if the name is unsafe."""
        parts = name.split("/")
        if len(parts) == 2 and parts[0] == IMAGES_DIR and is_safe_name(parts[1]):
            return self.result_dir(job_id) / IMAGES_DIR / parts[1]
        if len(parts) == 1 and is_safe_name(parts[0]):
            return self.result_dir(job_id) / parts[0]
        return None

    def read_result_json(self, job_id: str, name: str) -> Any | None:
        path = self.result_dir(job_id) / name
        try:
            return json.loads(path.read_bytes())
        except FileNotFoundError:
            return None

    def read_result_text(self, job_id: str, name: str) -> str | None:
        path = self.result_dir(job_id) / name
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def result_size(self, job_id: str, name: str) -> int | None:
        """Size in bytes of a result file, or None when it does not exist."""
        try:
            return (self.result_dir(job_id) / name).stat().st_size
        except FileNotFoundError:
            return None

    @contextmanager
    def staged_results(self, job_id: str) -> Iterator[Path]:
        """A fresh directory to write a job's results into, published atomically on success."""
        staging = Path(tempfile.mkdtemp(dir=self.tmp_dir, prefix=f"{job_id}."))
        try:
            yield staging
            target = self.result_dir(job_id)
            if target.exists():
                shutil.rmtree(target, ignore_errors=True)
            os.replace(staging, target)
            if self.durable and _DURABLE.get():
                _fsync_dir(self.results_dir)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    def delete_results(self, job_id: str) -> None:
        shutil.rmtree(self.result_dir(job_id), ignore_errors=True)

    def copy_results(
        self, source_id: str, target: Path, *, skip: frozenset[str] = frozenset()
    ) -> None:
        """Put every result file of ``source_id`` (but ``skip``) under ``target`` (a staging
        dir), hard-linked where possible; FileNotFoundError when it has no results."""
        from lamina.services.store.cache import link_tree

        source = self.result_dir(source_id)
        if not source.is_dir():
            raise FileNotFoundError(source)
        link_tree(source, target, skip=skip)

    def result_uri(self, job_id: str, name: str | None = None) -> str:
        """Where a job's results (or one result file) live, as a URI (``file://...``)."""
        folder = self.result_dir(job_id)
        return (folder / name).as_uri() if name else folder.as_uri()

    def signing_secret(self) -> bytes:
        """The secret presigned URLs are signed with, shared by every process of this storage."""
        from lamina.services.store.signing import load_or_create_secret

        return load_or_create_secret(self.root)

    def check(self) -> None:
        """Raise when the storage cannot be used (readiness; a directory always can)."""

    @property
    def location(self) -> str:
        """Where this storage is, for start-up messages."""
        return str(self.root)

    # progress of running jobs -----------------------------------------------------------------

    def _progress_path(self, job_id: str) -> Path:
        if not is_safe_name(job_id):
            raise ValueError(f"bad job id {job_id!r}")
        return self.progress_dir / f"{job_id}.json"

    def write_progress(self, job_id: str, pages_done: int, pages_total: int) -> None:
        """Record how many pages of a running job are done (rename into place, no fsync:
        progress is a hint, not a result)."""
        path = self._progress_path(job_id)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            tmp.write_bytes(dump_json({"pages_done": pages_done, "pages_total": pages_total}))
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def read_progress(self, job_id: str) -> dict[str, int] | None:
        """``{"pages_done": n, "pages_total": m}`` of a running job, or None."""
        try:
            value = json.loads(self._progress_path(job_id).read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(value, dict):
            return None
        return {k: int(v) for k, v in value.items() if k in ("pages_done", "pages_total")}

    def clear_progress(self, job_id: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._progress_path(job_id).unlink()


def progress_text(progress: dict[str, int]) -> str:
    """``"12 of 40 pages done"``, for messages about a job that stopped part way."""
    done, total = progress.get("pages_done", 0), progress.get("pages_total", 0)
    return f"{done} of {total} pages done" if total else f"{done} pages done"
