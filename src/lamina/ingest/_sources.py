"""Inputs → :class:`Source` objects: paths, directories, globs, bytes, streams, URLs, ids."""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal, TypeAlias
from urllib.parse import urlparse

SourceKind: TypeAlias = Literal["path", "bytes", "url", "job", "file"]

_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Source:
    """One thing to parse, and what is known about it before parsing."""

    kind: SourceKind
    name: str | None = None
    path: str | None = None
    ref: str | None = None
    data: bytes | None = field(default=None, repr=False)
    fs: Any = field(default=None, repr=False, compare=False)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """How to name this source in messages and progress bars."""
        return self.path or self.ref or self.name or "<bytes>"

    def read(self) -> bytes:
        """The content of a path or bytes source (paths through ``fs`` when one was given)."""
        if self.data is not None:
            return self.data
        if self.kind != "path" or self.path is None:
            raise ValueError(f"a {self.kind} source has no local content")
        if self.fs is not None:
            with self.fs.open(self.path, "rb") as handle:
                return bytes(handle.read())
        return Path(self.path).read_bytes()


def _is_reference(text: str, prefix: str) -> bool:
    return text.startswith(prefix) and os.sep not in text and not Path(text).exists()


def _list_directory(directory: str, fs: Any, recursive: bool) -> list[str]:
    if fs is not None:
        found = fs.find(directory) if recursive else fs.ls(directory, detail=False)
        files = [p for p in found if fs.isfile(p)]
    else:
        root = Path(directory)
        walker = root.rglob("*") if recursive else root.glob("*")
        files = [str(p) for p in walker if p.is_file()]
    visible = [p for p in files if not any(part.startswith(".") for part in Path(p).parts[1:])]
    return sorted(visible)


def _path_source(path: str, fs: Any, extra: Mapping[str, Any]) -> Source:
    name = PurePosixPath(path.replace(os.sep, "/")).name
    return Source(kind="path", name=name, path=path, fs=fs, extra=extra)


def resolve_sources(
    inputs: Any,
    *,
    extra_info: Mapping[str, Any] | None = None,
    fs: Any = None,
    recursive: bool = True,
    file_name: str | None = None,
) -> list[Source]:
    """Expand ``inputs`` into sources, in a stable order.

    Accepted: a path (``str`` or ``os.PathLike``), a directory (its files, sorted, hidden ones
    skipped; recursively unless ``recursive`` is off), a glob pattern, ``bytes``, a
    ``(name, bytes)`` tuple, a binary file object, an ``http(s)://`` URL, a parse job id
    (``pjb-...``), an uploaded file id (``dfl-...``), or a list of any of these. ``file_name``
    (or ``extra_info["file_name"]``) names bytes that carry no name.
    """
    extra = dict(extra_info or {})
    if isinstance(inputs, list | tuple) and not _is_named_bytes(inputs):
        sources: list[Source] = []
        for one in inputs:
            sources.extend(
                resolve_sources(
                    one, extra_info=extra, fs=fs, recursive=recursive, file_name=file_name
                )
            )
        return sources
    name = file_name or _str_or_none(extra.get("file_name"))
    if isinstance(inputs, bytes | bytearray | memoryview):
        return [Source(kind="bytes", name=name, data=bytes(inputs), extra=extra)]
    if _is_named_bytes(inputs):
        return [Source(kind="bytes", name=str(inputs[0]), data=bytes(inputs[1]), extra=extra)]
    if hasattr(inputs, "read") and not isinstance(inputs, str | os.PathLike):
        return [_stream_source(inputs, name, extra)]
    if not isinstance(inputs, str | os.PathLike):
        raise TypeError(f"cannot load an object of type {type(inputs).__name__}")
    text = os.fspath(inputs)
    if isinstance(inputs, str):
        if text.startswith(("http://", "https://")):
            url_name = PurePosixPath(urlparse(text).path).name or None
            return [Source(kind="url", name=name or url_name, ref=text, extra=extra)]
        if _is_reference(text, "pjb-"):
            return [Source(kind="job", ref=text, extra=extra)]
        if _is_reference(text, "dfl-"):
            return [Source(kind="file", ref=text, extra=extra)]
    return _filesystem_sources(text, fs, recursive, extra)


def _filesystem_sources(
    text: str, fs: Any, recursive: bool, extra: Mapping[str, Any]
) -> list[Source]:
    is_dir = fs.isdir(text) if fs is not None else Path(text).is_dir()
    if is_dir:
        return [_path_source(p, fs, extra) for p in _list_directory(text, fs, recursive)]
    exists = fs.exists(text) if fs is not None else Path(text).exists()
    if not exists and _GLOB_CHARS & set(text):
        matches = fs.glob(text) if fs is not None else glob.glob(text, recursive=True)
        files = [m for m in matches if (fs.isfile(m) if fs is not None else Path(m).is_file())]
        return [_path_source(p, fs, extra) for p in sorted(files)]
    return [_path_source(text, fs, extra)]


def _is_named_bytes(value: Any) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], bytes | bytearray | memoryview)
    )


def _stream_source(stream: IO[bytes], name: str | None, extra: Mapping[str, Any]) -> Source:
    data = stream.read()
    if not isinstance(data, bytes):
        raise TypeError("file objects must be opened in binary mode")
    stream_name = getattr(stream, "name", None)
    if name is None and isinstance(stream_name, str) and stream_name:
        name = Path(stream_name).name
    return Source(kind="bytes", name=name, data=data, extra=extra)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
