"""The exact ``pip install`` command that adds an extra to *this* installation of Lamina.

An editable checkout (``pip install -e .``) needs ``pip install -e '<checkout>[ocr]'``, a
local directory install ``pip install '<dir>[ocr]'`` and an install from an index
``pip install 'lamina[ocr]'``; pip records which one it was in ``direct_url.json``
(PEP 610). Error messages about a missing extra quote this command, so it works as pasted.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit


@cache
def install_command(extra: str) -> str:
    """``pip install ...`` adding ``extra`` (e.g. ``"ocr"``) to the installed Lamina."""
    source = _local_source()
    if source is None:
        return f"pip install 'lamina[{extra}]'"
    path, editable = source
    shown = _shown_path(path)
    flag = "-e " if editable else ""
    return f"pip install {flag}'{shown}[{extra}]'"


def _local_source() -> tuple[Path, bool] | None:
    """The directory Lamina was installed from, and whether editable; None for an index."""
    from importlib import metadata

    try:
        text = metadata.distribution("lamina").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not text:
        return None
    try:
        info = json.loads(text)
    except ValueError:
        return None
    url = str(info.get("url", ""))
    if not url.startswith("file://") or "dir_info" not in info:
        return None
    path = Path(unquote(urlsplit(url).path))
    return path, bool(info["dir_info"].get("editable"))


def _shown_path(path: Path) -> str:
    """``.`` when run from the checkout itself, a relative path below it, else absolute."""
    try:
        here = Path.cwd().resolve()
    except OSError:
        return str(path)
    if path.resolve() == here:
        return "."
    relative = os.path.relpath(path, here)
    return str(path) if relative.startswith("..") else f"./{relative}"
