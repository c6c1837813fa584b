"""The HTTP server: a FastAPI app factory over :mod:`lamina.services`.

``create_app(settings)`` builds the app; its lifespan starts and stops the job workers.
"""

from lamina.server.app import create_app
from lamina.services.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
