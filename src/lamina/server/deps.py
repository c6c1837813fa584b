"""Request dependencies: the services, the caller's project, the base URL for presigned URLs."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from lamina.services.container import Services
from lamina.services.settings import DEFAULT_PROJECT_ID


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def services_dep(request: Request) -> Services:
    """:func:`get_services` as an async dependency: no worker-thread hop per request."""
    services: Services = request.app.state.services
    return services


async def get_project(request: Request) -> str:
    """The project of the caller's bearer key; the default project when auth is off.

    The :class:`~lamina.server.gate.RequestGate` middleware authenticates every request before
    its body is read and leaves the project in ``request.state``; an app without the gate gets
    the same answer from :func:`authenticate` here.
    """
    project = getattr(request.state, "lamina_project", None)
    if isinstance(project, str):
        return project
    services: Services = request.app.state.services
    project, _ = await authenticate(services, request.headers)
    return project


async def authenticate(services: Services, headers: Mapping[str, str]) -> tuple[str, str | None]:
    """(project, key identity) of a request's bearer key; raises 401 ``HTTPException``.

    Auth is on when any key exists (start-up keys, or keys stored by ``lamina keys create``)
    and the settings do not turn it off (the embedded server). A key is checked by its
    SHA-256 hash in constant time (:class:`lamina.services.api.keys.KeyStore`).
    ``organization_id`` / ``project_id`` query parameters are accepted and ignored: a key
    belongs to exactly one project. The key identity (a hash prefix, for rate limits) is None
    when auth is off.

    Async on purpose: a known key is answered from memory on the event loop (no thread hop);
    only a cache miss queries the database, in a worker thread.
    """
    keys = services.keys
    if not services.settings.auth or keys is None:
        return DEFAULT_PROJECT_ID, None
    if not keys.any_keys_cached():
        await run_in_threadpool(keys.any_keys)
    if not keys.any_keys():  # answered from the cache now
        return DEFAULT_PROJECT_ID, None
    header = headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(
            401,
            "Missing API key: send Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    known, project = keys.cached(token)
    if not known:
        project = await run_in_threadpool(keys.project_for, token)
    if project is None:
        raise HTTPException(401, "Invalid API key", headers={"WWW-Authenticate": "Bearer"})
    return project, hashlib.sha256(token.encode()).hexdigest()[:32]


async def get_base_url(request: Request) -> str:
    """Where presigned URLs point (:func:`presign_base`), as a dependency."""
    return presign_base(request)


def presign_base(request: Request) -> str:
    """``public_base_url`` when configured; else the URL this request came in on, if its
    ``Host`` is one of ``trusted_hosts``. Otherwise 400: a ``Host`` header is the caller's
    to choose, and a signed link must not point at a host an attacker picked."""
    services: Services = request.app.state.services
    settings = services.settings
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    host = (request.url.hostname or "").lower().rstrip(".")
    if host_trusted(host, settings.trusted_hosts):
        return str(request.base_url).rstrip("/")
    raise HTTPException(
        400,
        f"Cannot build download URLs for the Host {host!r}: it is not a trusted host. Set "
        "LAMINA_PUBLIC_BASE_URL to this server's public URL, or add the host to "
        "LAMINA_TRUSTED_HOSTS.",
    )


def host_trusted(host: str, trusted: tuple[str, ...]) -> bool:
    """``host`` matches an entry: exact, ``*.suffix`` (subdomains) or ``*`` (any)."""
    for entry in trusted:
        if entry == "*" or entry.strip("[]") == host:
            return True
        if entry.startswith("*.") and host.endswith(entry[1:]):
            return True
    return False
