"""Parse result cache: a completed job's result files serve a later job with the same key.

The key is ``sha256(file sha256, file extension, canonical options, ENGINE_VERSION)``
(:func:`result_cache_key`).
Options that cannot change the output (webhooks, metadata, names, timeouts, the cache flags
themselves, ``version``, which every value maps to the one engine) are left out. Keys are looked
up only among COMPLETED parse jobs of the same project (``parse_jobs.cache_key``, indexed), so
nothing is shared across projects.

The worker checks the cache after loading the input (so ``source_url`` jobs are cached by the
bytes fetched): the job still goes PENDING → RUNNING → COMPLETED, but on a hit no engine runs;
the earlier job's files are hard-linked (copied across devices) into the new job's folder and
``job_metadata`` says ``cache_hit: true`` and ``cached_from: <job id>``.

Flags: ``disable_cache`` (v2) neither reads nor writes; v1-style extras ``invalidate_cache``
(re-parse, then the new result is the one found, being the newest) and ``do_not_cache`` (read,
but do not store).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamina._version import ENGINE_VERSION

# Top-level configuration keys that never change the parse output.
_IGNORED_KEYS = frozenset(
    {
        "disable_cache",
        "invalidate_cache",
        "do_not_cache",
        "version",
        "name",
        "client_name",
        "user_metadata",
        "webhook_url",
        "webhook_configurations",
        "webhook_configuration_ids",
        "job_timeout_in_seconds",
        "job_timeout_extra_time_per_page_in_seconds",
    }
)


@dataclass(frozen=True)
class CachePolicy:
    """Whether a job may take its result from the cache (``read``) and add to it (``write``)."""

    read: bool = True
    write: bool = True

    @property
    def enabled(self) -> bool:
        return self.read or self.write


def cache_policy(configuration: Mapping[str, Any]) -> CachePolicy:
    """The policy of a job's stored configuration (``disable_cache`` and the v1 flags)."""
    if configuration.get("disable_cache") is True:
        return CachePolicy(read=False, write=False)
    return CachePolicy(
        read=configuration.get("invalidate_cache") is not True,
        write=configuration.get("do_not_cache") is not True,
    )


def _canonical(value: Any) -> Any:
    """``value`` with ``None`` entries dropped from mappings, recursively (absent = default)."""
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def cache_options(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a configuration that can change the output, in canonical form."""
    options = {k: v for k, v in configuration.items() if k not in _IGNORED_KEYS}
    control = options.get("processing_control")
    if isinstance(control, Mapping):  # timeouts decide whether a job ends, not what it says
        control = {k: v for k, v in control.items() if k != "timeouts"}
        options["processing_control"] = control or None
    canonical: dict[str, Any] = _canonical(options)
    return canonical


def file_extension(name: str | None) -> str:
    """The lower-case extension of a file name (the engine reads it to tell markdown from text)."""
    base = (name or "").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[1].lower() if "." in base else ""


def result_cache_key(
    file_sha256: str, configuration: Mapping[str, Any], *, extension: str = ""
) -> str:
    """The cache key of parsing content ``file_sha256`` with ``configuration`` (64 hex chars).

    ``extension`` is the input name's extension (:func:`file_extension`): the engine uses it to
    tell markdown from plain text, so it is part of the input; the rest of the name is not.
    """
    payload = json.dumps(
        {
            "file": file_sha256,
            "extension": extension,
            "options": cache_options(configuration),
            "engine": ENGINE_VERSION,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def link_tree(source: Path, target: Path, *, skip: frozenset[str] = frozenset()) -> None:
    """Hard-link every file under ``source`` into ``target`` (copy where links fail).

    Result files are only ever replaced by rename, never written in place, so sharing inodes
    between jobs is safe; deleting one job's folder leaves the other's names intact.
    """
    for path in source.rglob("*"):
        relative = path.relative_to(source)
        if path.is_dir() or relative.as_posix() in skip:
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, destination)
        except OSError:
            shutil.copy2(path, destination)
