"""The public surface of ``lamina``: pinned, sorted, and light to import."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import lamina
from lamina._version import __version__

PUBLIC = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConflictError",
    "ExtractResult",
    "ExtractedField",
    "ExtractionValidationError",
    "InternalServerError",
    "JobCancelledError",
    "JobError",
    "JobFailedError",
    "JobTimeoutError",
    "LaminaError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "ValidationError",
    "__version__",
    "types",
]


def test_all_is_pinned_and_sorted() -> None:
    assert lamina.__all__ == PUBLIC
    assert lamina.__all__ == sorted(lamina.__all__)
    for name in lamina.__all__:
        assert hasattr(lamina, name), name


def test_version_and_types_module() -> None:
    assert lamina.__version__ == __version__
    assert lamina.types.ParseResponse.__name__ == "ParseResponse"


def test_public_classes_say_they_are_lamina() -> None:
    for name in PUBLIC:
        obj = getattr(lamina, name)
        if isinstance(obj, type):
            assert obj.__module__.startswith("lamina."), name
            assert obj.__doc__, f"{name} has no docstring"


def test_import_lamina_stays_light() -> None:
    code = textwrap.dedent(
        """
        import sys
        import lamina
        lamina.Client, lamina.AsyncClient, lamina.types.ParseResponse
        heavy = ["fastapi", "starlette", "sqlalchemy", "pypdfium2", "uvicorn", "tqdm",
                 "lamina.engine", "lamina.server", "lamina.services", "lamina.cli"]
        loaded = [name for name in heavy if name in sys.modules]
        assert not loaded, loaded
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_client_with_base_url_does_not_load_the_server() -> None:
    code = textwrap.dedent(
        """
        import sys
        import lamina
        lamina.Client(base_url="http://127.0.0.1:9").close()
        assert "lamina.server" not in sys.modules
        assert "fastapi" not in sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_client_without_base_url_loads_the_embedded_server_lazily() -> None:
    code = textwrap.dedent(
        """
        import sys
        import lamina
        assert "lamina.server" not in sys.modules
        client = lamina.Client()
        assert client.embedded
        assert "lamina.server.embedded" in sys.modules
        client.close()
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)
