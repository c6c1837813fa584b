"""The HTTP server: a FastAPI app factory over :mod:`lamina.services`.

``create_app(settings)`` builds the app; its lifespan starts and stops the job workers.
FastAPI loads only when ``create_app`` is first asked for, so the embedded server's fast
path (:mod:`lamina.server.embedded`) never pays for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lamina.services.settings import ServerSettings

if TYPE_CHECKING:
    from lamina.server.app import create_app

__all__ = ["ServerSettings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from lamina.server.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
