"""A parse job's stored configuration resolved once (``ParseJobOptions``), on plain mappings."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from lamina.services.runtime.execution import JobFailure, ParseJobOptions
from lamina.services.store.cache import CachePolicy


@pytest.mark.parametrize(
    ("stored", "separator", "ratio", "cache"),
    [
        ({"tier": "fast"}, "\n\n", (None, ""), CachePolicy(read=True, write=True)),
        (
            {"tier": "fast", "page_separator": "\n---\n", "page_error_tolerance": 0.5},
            "\n---\n",
            (0.5, "page_error_tolerance"),
            CachePolicy(read=True, write=True),
        ),
        (
            {
                "tier": "cost_effective",
                "processing_control": {
                    "job_failure_conditions": {"allowed_page_failure_ratio": 0.2}
                },
                "disable_cache": True,
            },
            "\n\n",
            (0.2, "allowed_page_failure_ratio"),
            CachePolicy(read=False, write=False),
        ),
        (
            {"tier": "fast", "invalidate_cache": True},
            "\n\n",
            (None, ""),
            CachePolicy(read=False, write=True),
        ),
    ],
)
def test_resolved_once(
    stored: dict[str, Any], separator: str, ratio: tuple, cache: CachePolicy
) -> None:
    options = ParseJobOptions.resolve(stored)
    assert options.config.tier == stored["tier"]
    assert options.pages.separator == separator
    assert options.failure_ratio == ratio
    assert options.cache == cache
    assert options.stored is stored  # the cache key is made of the stored mapping


@pytest.mark.parametrize(
    "stored",
    [{"tier": "fast", "page_error_tolerance": 2}, {"tier": "fast", "page_separator": 3}],
)
def test_a_bad_page_option_fails_the_job(stored: dict[str, Any]) -> None:
    with pytest.raises(JobFailure, match="Invalid option"):
        ParseJobOptions.resolve(stored)


def test_a_configuration_the_model_refuses_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        ParseJobOptions.resolve({"tier": 3})
