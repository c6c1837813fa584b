"""Uploaded files and job results on disk, under the data dir.

Layout::

    <data_dir>/files/<file_id>              uploaded content
    <data_dir>/results/<job_id>/            one file per expand (see RESULT_FILES), images/
    <data_dir>/tmp/                         staging for atomic writes

Every write goes to a temporary path first and is renamed into place, so a reader never sees
half a file and a worker killed mid-write leaves nothing behind but a temp file. A job's result
directory is built under ``tmp/`` and renamed as a whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
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


class Storage:
    """Paths and atomic reads/writes for uploads and results."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir)
        self.files_dir = self.root / "files"
        self.results_dir = self.root / "results"
        self.tmp_dir = self.root / "tmp"
        for folder in (self.files_dir, self.results_dir, self.tmp_dir):
            folder.mkdir(parents=True, exist_ok=True)

    # uploads ----------------------------------------------------------------------------------

    def file_path(self, file_id: str) -> Path:
        if not is_safe_name(file_id):
            raise ValueError(f"bad file id {file_id!r}")
        return self.files_dir / file_id

    def write_file(self, file_id: str, data: bytes) -> None:
        write_atomic(self.file_path(file_id), data)

    def write_file_from(
        self, file_id: str, source: BinaryIO, *, max_bytes: int, chunk_size: int = 1 << 20
    ) -> tuple[int, str]:
        """Copy ``source`` to the file's path in chunks (never all in memory), atomically;
        returns (size, sha256 hex). Raises :class:`TooLargeError` past ``max_bytes`` (nothing
        is left behind)."""
        path = self.file_path(file_id)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(chunk_size):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLargeError(max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return size, digest.hexdigest()

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
            _fsync_dir(self.results_dir)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    def delete_results(self, job_id: str) -> None:
        shutil.rmtree(self.result_dir(job_id), ignore_errors=True)
