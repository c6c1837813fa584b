"""Uploads and results in S3-compatible object storage (the ``s3`` extra: boto3).

Selected with ``--storage s3://bucket/prefix`` (``LAMINA_STORAGE_URL``); the endpoint, region and
keys come from ``LAMINA_S3_*`` settings or boto3's own chain (``AWS_*`` variables, profiles,
instance roles). Keys under the prefix::

    files/<file_id>                 uploaded content
    results/<job_id>/<name>         one object per result file (images/<file> too)
    progress/<job_id>.json          pages done of a running job
    signing.key                     the secret of presigned URLs, shared by every replica

The local data dir is only a staging area (uploads and result folders are built there, then
sent) and a cache of result files served for download. Every object appears whole or not at
all (a PUT, or a multipart upload completed at the end), so a replica killed mid-upload leaves
no file anyone can see; a job's result files are all written before the job is marked
COMPLETED in the database, the only place job state is read from.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from lamina.services.store.storage import (
    IMAGES_DIR,
    Storage,
    copy_limited,
    dump_json,
    is_safe_name,
    write_atomic,
)

SECRET_KEY = "signing.key"
_SINGLE_PUT_BYTES = 8 << 20
"""Result files up to this size are sent in one PUT (larger ones as multipart uploads)."""
_MISSING = ("NoSuchKey", "404", "NotFound", "NoSuchBucket")


def _missing(exc: Exception) -> bool:
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
    return code in _MISSING


class S3Storage(Storage):
    """:class:`~lamina.services.store.storage.Storage` over one bucket and key prefix."""

    def __init__(
        self,
        data_dir: Path,
        bucket: str,
        prefix: str = "",
        *,
        durable: bool = True,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        cache_bytes: int = 1 << 30,
    ) -> None:
        self.root = Path(data_dir)
        self.cache_bytes = cache_bytes
        self._cache_lock = threading.Lock()
        self._cache_estimate = cache_bytes + 1  # unknown (another run's copies): count first
        self.durable = durable
        self.tmp_dir = self.root / "tmp"
        self.cache_dir = self.root / "s3-cache"
        self.files_dir = self.results_dir = self.progress_dir = self.cache_dir  # never written
        for folder in (self.tmp_dir, self.cache_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client_options = {
            "endpoint_url": endpoint_url,
            "region_name": region,
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
        }
        self._client: Any = None
        self._client_pid = 0
        # Make the client now, in the thread that opens the storage: boto3 and botocore import
        # much on first use, and a worker process forked while another thread of its parent is
        # half-way through those imports would wait for ever on their import locks.
        _ = self.s3

    @classmethod
    def from_url(cls, url: str, data_dir: Path, **options: Any) -> S3Storage:
        """``s3://bucket/prefix`` (the prefix may be empty)."""
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError(f"storage URL {url!r} names no bucket (use s3://bucket/prefix)")
        return cls(data_dir, bucket, prefix, **options)

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    @property
    def s3(self) -> Any:
        """The boto3 client of this process (a forked worker makes its own)."""
        if self._client is None or self._client_pid != os.getpid():
            try:
                import boto3
                from botocore.config import Config
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise RuntimeError(
                    "s3:// storage needs the s3 extra: pip install 'lamina[s3]'"
                ) from exc
            options = {k: v for k, v in self._client_options.items() if v}
            config = Config(
                retries={"max_attempts": 5, "mode": "standard"},
                max_pool_connections=32,
                s3={"addressing_style": "path"} if options.get("endpoint_url") else None,
            )
            self._client = boto3.session.Session().client("s3", config=config, **options)
            self._client_pid = os.getpid()
        return self._client

    def check(self) -> None:
        """Fail at start-up when the bucket cannot be reached."""
        self.s3.head_bucket(Bucket=self.bucket)

    def _key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def _get(self, key: str) -> bytes:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
            data: bytes = body.read()
            return data
        except Exception as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from None
            raise

    def _delete_prefix(self, prefix: str) -> None:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})

    def _list(self, prefix: str) -> list[str]:
        paginator = self.s3.get_paginator("list_objects_v2")
        return [
            item["Key"]
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]

    # uploads ----------------------------------------------------------------------------------

    def _file_key(self, file_id: str) -> str:
        if not is_safe_name(file_id):
            raise ValueError(f"bad file id {file_id!r}")
        return self._key("files", file_id)

    def write_file(self, file_id: str, data: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=self._file_key(file_id), Body=data)

    def write_file_from(
        self, file_id: str, source: BinaryIO, *, max_bytes: int, chunk_size: int = 1 << 20
    ) -> tuple[int, str]:
        """Stage ``source`` on local disk (size limit, hash), then send it as one object."""
        key = self._file_key(file_id)
        fd, tmp = tempfile.mkstemp(dir=self.tmp_dir, prefix=f"{file_id}.", suffix=".upload")
        try:
            with os.fdopen(fd, "wb") as out:
                copied = copy_limited(source, out, max_bytes=max_bytes, chunk_size=chunk_size)
            self._put_path(key, Path(tmp))
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return copied

    def read_file(self, file_id: str) -> bytes:
        return self._get(self._file_key(file_id))

    def delete_file(self, file_id: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self._file_key(file_id))

    # results ----------------------------------------------------------------------------------

    def _results_prefix(self, job_id: str) -> str:
        if not is_safe_name(job_id):
            raise ValueError(f"bad job id {job_id!r}")
        return self._key("results", job_id) + "/"

    def result_dir(self, job_id: str) -> Path:
        """The local cache folder of a job's downloaded result files."""
        if not is_safe_name(job_id):
            raise ValueError(f"bad job id {job_id!r}")
        return self.cache_dir / job_id

    def result_path(self, job_id: str, name: str) -> Path | None:
        """A local copy of one result file (fetched once: published results never change);
        a path that does not exist when the object does not."""
        path = super().result_path(job_id, name)
        if path is None:
            return path
        if path.is_file():
            with contextlib.suppress(OSError):
                os.utime(self.result_dir(job_id))  # recently used: trimmed last
            return path
        try:
            data = self._get(self._results_prefix(job_id) + name)
        except FileNotFoundError:
            return path
        write_atomic(path, data)
        with self._cache_lock:
            self._cache_estimate += len(data)
            full = self._cache_estimate > self.cache_bytes
        if full:
            self.trim_cache(keep=job_id)
        return path

    def trim_cache(self, keep: str | None = None) -> int:
        """Remove the local copies of the least recently used jobs' result files until the
        cache holds at most ``cache_bytes`` (``keep``'s, just fetched, stays). Returns the
        number of job folders removed. Safe beside a download in progress: a removed file is
        fetched again on its next use (the folders are counted only when the sizes added
        since the last count pass the limit)."""
        with self._cache_lock:
            folders: list[tuple[float, int, Path]] = []
            total = 0
            for folder in self.cache_dir.iterdir():
                try:
                    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
                    used = folder.stat().st_mtime
                except OSError:  # removed meanwhile
                    continue
                total += size
                if folder.name != keep:
                    folders.append((used, size, folder))
            removed = 0
            for _used, size, folder in sorted(folders):
                if total <= self.cache_bytes:
                    break
                shutil.rmtree(folder, ignore_errors=True)
                total -= size
                removed += 1
            self._cache_estimate = total
            return removed

    def _result_bytes(self, job_id: str, name: str) -> bytes | None:
        try:
            return self._get(self._results_prefix(job_id) + name)
        except FileNotFoundError:
            return None

    def read_result_json(self, job_id: str, name: str) -> Any | None:
        data = self._result_bytes(job_id, name)
        return None if data is None else json.loads(data)

    def read_result_text(self, job_id: str, name: str) -> str | None:
        data = self._result_bytes(job_id, name)
        return None if data is None else data.decode("utf-8")

    def result_size(self, job_id: str, name: str) -> int | None:
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=self._results_prefix(job_id) + name)
        except Exception as exc:
            if _missing(exc):
                return None
            raise
        return int(head["ContentLength"])

    @contextmanager
    def staged_results(self, job_id: str) -> Iterator[Path]:
        """A local folder to write a job's results into, sent on success: every file is put
        (several at once; replacing an earlier attempt's), then keys no longer in the result
        are removed."""
        prefix = self._results_prefix(job_id)
        staging = Path(tempfile.mkdtemp(dir=self.tmp_dir, prefix=f"{job_id}."))
        try:
            yield staging
            files = {
                prefix + path.relative_to(staging).as_posix(): path
                for path in sorted(staging.rglob("*"))
                if path.is_file()
            }
            with ThreadPoolExecutor(max_workers=min(8, max(1, len(files)))) as pool:
                list(pool.map(lambda item: self._put_path(*item), files.items()))
            written = set(files)
            stale = [k for k in self._list(prefix) if k not in written]
            for key in stale:
                self.s3.delete_object(Bucket=self.bucket, Key=key)
            shutil.rmtree(self.result_dir(job_id), ignore_errors=True)  # an older local copy
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _put_path(self, key: str, path: Path) -> None:
        """One file as one object: a single PUT when small, a multipart upload when large."""
        if path.stat().st_size <= _SINGLE_PUT_BYTES:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=path.read_bytes())
        else:
            self.s3.upload_file(str(path), self.bucket, key)

    def delete_results(self, job_id: str) -> None:
        self._delete_prefix(self._results_prefix(job_id))
        shutil.rmtree(self.result_dir(job_id), ignore_errors=True)

    def copy_results(
        self, source_id: str, target: Path, *, skip: frozenset[str] = frozenset()
    ) -> None:
        prefix = self._results_prefix(source_id)
        keys = self._list(prefix)
        if not keys:
            raise FileNotFoundError(prefix)
        for key in keys:
            relative = key[len(prefix) :]
            parts = relative.split("/")
            if relative in skip or not all(is_safe_name(p) for p in parts):
                continue
            if len(parts) > 1 and parts[0] != IMAGES_DIR:
                continue
            destination = target.joinpath(*parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            self.s3.download_file(self.bucket, key, str(destination))

    def result_uri(self, job_id: str, name: str | None = None) -> str:
        return f"s3://{self.bucket}/{self._results_prefix(job_id)}{name or ''}"

    # progress of running jobs -----------------------------------------------------------------

    def _progress_key(self, job_id: str) -> str:
        if not is_safe_name(job_id):
            raise ValueError(f"bad job id {job_id!r}")
        return self._key("progress", f"{job_id}.json")

    def write_progress(self, job_id: str, pages_done: int, pages_total: int) -> None:
        body = dump_json({"pages_done": pages_done, "pages_total": pages_total})
        with contextlib.suppress(Exception):  # progress is a hint, not a result
            self.s3.put_object(Bucket=self.bucket, Key=self._progress_key(job_id), Body=body)

    def read_progress(self, job_id: str) -> dict[str, int] | None:
        try:
            value = json.loads(self._get(self._progress_key(job_id)))
        except (OSError, ValueError):
            return None
        if not isinstance(value, dict):
            return None
        return {k: int(v) for k, v in value.items() if k in ("pages_done", "pages_total")}

    def clear_progress(self, job_id: str) -> None:
        with contextlib.suppress(Exception):
            self.s3.delete_object(Bucket=self.bucket, Key=self._progress_key(job_id))

    # presigned URLs ---------------------------------------------------------------------------

    def signing_secret(self) -> bytes:
        """The bucket's signing secret, created by the first process to ask (a conditional
        PUT: when two replicas start together, both end up with the one that was stored)."""
        import secrets

        key = self._key(SECRET_KEY)
        with contextlib.suppress(FileNotFoundError):
            existing = self._get(key).strip()
            if existing:
                return existing
        token = secrets.token_hex(32).encode()
        try:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=token, IfNoneMatch="*")
        except Exception as exc:
            code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
            if code not in ("PreconditionFailed", "ConditionalRequestConflict", "412", "409"):
                raise
        return self._get(key).strip()
