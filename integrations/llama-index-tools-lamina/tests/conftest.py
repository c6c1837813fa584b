"""Test set-up: the fixtures shared by all integration packages, loaded as a pytest plugin.

They live in ``integrations/_testing/lamina_testing.py``; ``support`` is that module.
"""

import sys
from pathlib import Path

import pytest

pytest.register_assert_rewrite("lamina_testing")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "_testing"))

import lamina_testing as support  # noqa: E402

pytest_plugins = ["lamina_testing"]

__all__ = ["support"]
