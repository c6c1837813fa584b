"""Turn the many ways a caller can hand over a file into ``(name, bytes, content type)``."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import IO, TypeAlias

FileInput: TypeAlias = (
    str | os.PathLike[str] | bytes | tuple[str, bytes] | tuple[str, bytes, str] | IO[bytes]
)
"""A path, raw bytes, ``(name, bytes)``, ``(name, bytes, content_type)`` or a binary file."""

DEFAULT_NAME = "upload"


def read_file_input(file: FileInput, filename: str | None = None) -> tuple[str, bytes, str]:
    """Read ``file`` fully and name it; ``filename`` overrides the name found.

    A ``str`` is a path, never content. The whole file is read so a retried request can send
    it again.
    """
    content_type: str | None = None
    if isinstance(file, str | os.PathLike):
        path = Path(file)
        name, data = path.name, path.read_bytes()
    elif isinstance(file, bytes | bytearray | memoryview):
        name, data = DEFAULT_NAME, bytes(file)
    elif isinstance(file, tuple):
        name, data = file[0], bytes(file[1])
        if len(file) > 2:
            content_type = file[2]
    elif hasattr(file, "read"):
        data = file.read()
        if not isinstance(data, bytes):
            raise TypeError("file objects must be opened in binary mode")
        name = Path(str(getattr(file, "name", "") or DEFAULT_NAME)).name
    else:
        raise TypeError(f"cannot upload an object of type {type(file).__name__}")
    name = filename or name
    return name, data, content_type or guess_content_type(name)


def guess_content_type(name: str) -> str:
    """The MIME type for a file name, ``application/octet-stream`` when unknown."""
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
