"""The storage of a deployment, chosen by its settings: a directory or an object store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lamina.services.store.storage import Storage


def open_storage(
    data_dir: Path,
    url: str | None = None,
    *,
    durable: bool = True,
    options: dict[str, Any] | None = None,
) -> Storage:
    """The storage of a deployment: the data dir itself, or with an ``s3://bucket/prefix``
    URL an object store (the ``s3`` extra) with the data dir as its local staging area.
    ``options`` are the object store's settings (endpoint URL, region, keys)."""
    if url is None or not url.strip():
        return Storage(data_dir, durable=durable)
    if url.startswith("s3://"):
        from lamina.services.store.object_storage import S3Storage

        return S3Storage.from_url(url, data_dir, durable=durable, **(options or {}))
    raise ValueError(f"unsupported storage URL {url!r} (use a directory or s3://bucket/prefix)")
