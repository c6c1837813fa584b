"""Test set-up: the fixtures shared by all integration packages, loaded as a pytest plugin.

They live in ``integrations/_testing/lamina_testing.py``; ``support`` is that module.

``unit_tests/`` run with every network socket blocked (unix sockets allowed: the embedded engine
runs in this process); ``integration_tests/`` may also reach loopback (``lamina serve``).
"""

import sys
from pathlib import Path

import pytest

pytest.register_assert_rewrite("lamina_testing")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "_testing"))

import lamina_testing as support  # noqa: E402

pytest_plugins = ["lamina_testing"]

__all__ = ["support"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Block sockets for everything under ``unit_tests/``."""
    for item in items:
        if "unit_tests" in item.path.parts:
            item.add_marker(pytest.mark.disable_socket)
