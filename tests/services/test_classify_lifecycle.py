"""Classify jobs and saved configurations through the services themselves: no HTTP, no sleeps."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lamina.services.container import Services
from lamina.services.errors import InvalidRequestError, ValidationFailed
from lamina.services.settings import DEFAULT_PROJECT_ID

P = DEFAULT_PROJECT_ID
INVOICE = b"Invoice number: INV-7\nLine items: 3 widgets\nTotal amount due: 12.50 USD\n"
RULES = [
    {"type": "invoice", "description": "invoice number, line items and total amount due"},
    {"type": "resume", "description": "work experience, education and skills of a candidate"},
]


def _upload(services: Services, data: bytes, name: str) -> str:
    return str(services.files.create(P, name=name, data=data, purpose="classify")["id"])


def test_classify_with_a_saved_configuration(
    services: Services, done: Callable[[str], None]
) -> None:
    saved = services.configurations.create(
        P, "kinds", {"product_type": "classify_v2", "rules": RULES}
    )
    file_id = _upload(services, INVOICE, "invoice.txt")
    job = services.classify.create(P, {"file_input": file_id, "configuration_id": saved.id})
    assert (job.status, job.document_input_type) == ("PENDING", "file_id")

    services.runner.start()
    done(job.id)

    answer = services.classify.get(P, job.id, ["usage"])
    assert answer.status == "COMPLETED" and answer.result is not None
    assert answer.result.type == "invoice" and answer.result.confidence > 0.5
    assert answer.usage is not None and answer.usage.credits == 0.0  # nothing is billed


def test_classify_rules_are_checked_before_anything_is_stored(services: Services) -> None:
    file_id = _upload(services, INVOICE, "invoice.txt")
    with pytest.raises(ValidationFailed):
        services.classify.create(P, {"file_input": file_id, "configuration": {"rules": []}})
    with pytest.raises(ValidationFailed):
        services.configurations.create(
            P, "bad", {"product_type": "classify_v2", "rules": RULES, "mode": "SLOW"}
        )
    listed = services.classify.list(
        P,
        status=None,
        job_ids=None,
        configuration_id=None,
        created_after=None,
        created_before=None,
        page_size=None,
        page_token=None,
    )
    assert listed.items == [] and listed.total_size == 0


def test_only_unfinished_classify_jobs_can_be_cancelled(
    services: Services, done: Callable[[str], None]
) -> None:
    file_id = _upload(services, INVOICE, "invoice.txt")
    body = {"file_input": file_id, "configuration": {"rules": RULES}}
    pending = services.classify.create(P, body)
    assert services.classify.cancel(P, pending.id).status == "CANCELLED"
    assert services.classify.cancel(P, pending.id).status == "CANCELLED"  # idempotent
    finished = services.classify.create(P, body)
    services.runner.start()
    done(finished.id)
    with pytest.raises(InvalidRequestError, match="already COMPLETED"):
        services.classify.cancel(P, finished.id)
    assert services.classify.get(P, pending.id, []).status == "CANCELLED"
