"""Request dependencies: the services, the caller's project, the base URL for presigned URLs."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from lamina.services.container import Services
from lamina.services.settings import DEFAULT_PROJECT_ID


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_project(request: Request) -> str:
    """The project of the caller's bearer key; the default project when auth is disabled.

    ``organization_id`` / ``project_id`` query parameters are accepted and ignored: a key
    belongs to exactly one project.
    """
    keys = get_services(request).settings.api_keys
    if not keys:
        return DEFAULT_PROJECT_ID
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(
            401,
            "Missing API key: send Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    project = None
    for key, key_project in keys.items():  # compare against every key: no timing shortcut
        if hmac.compare_digest(key.encode(), token.encode()):
            project = key_project
    if project is None:
        raise HTTPException(401, "Invalid API key", headers={"WWW-Authenticate": "Bearer"})
    return project


def get_base_url(request: Request) -> str:
    """Where presigned URLs point: ``public_base_url`` or the URL this request came in on."""
    configured = get_services(request).settings.public_base_url
    return (configured or str(request.base_url)).rstrip("/")
