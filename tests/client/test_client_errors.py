"""A response becomes the right exception; the exception tree holds together.

These build ``httpx.Response`` objects by hand: status codes such as 401, 429 or 503 come from
LlamaCloud or proxies in front of it, which cannot run here.
"""

from __future__ import annotations

import httpx
import pytest

import lamina
from lamina._exceptions import make_status_error
from lamina.types import ErrorDetail

REQUEST = httpx.Request("GET", "https://api.cloud.llamaindex.ai/api/v2/parse/pjb-1")


def _response(status: int, **kwargs: object) -> httpx.Response:
    return httpx.Response(status, request=REQUEST, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, lamina.BadRequestError),
        (401, lamina.AuthenticationError),
        (403, lamina.PermissionDeniedError),
        (404, lamina.NotFoundError),
        (409, lamina.ConflictError),
        (422, lamina.UnprocessableEntityError),
        (429, lamina.RateLimitError),
        (500, lamina.InternalServerError),
        (502, lamina.InternalServerError),
        (503, lamina.InternalServerError),
        (418, lamina.APIStatusError),
        (405, lamina.APIStatusError),
    ],
)
def test_status_code_maps_to_class(status: int, cls: type[lamina.APIStatusError]) -> None:
    error = make_status_error(_response(status, json={"detail": "nope"}))
    assert type(error) is cls
    assert error.status_code == status
    assert error.body == {"detail": "nope"}
    assert error.request is REQUEST
    assert f"Error code: {status}" in str(error) and "nope" in str(error)


def test_validation_error_carries_detail_list() -> None:
    body = {
        "detail": [
            {
                "type": "value_error",
                "loc": ["body", "tier"],
                "msg": "Unsupported tier: turbo",
                "input": "turbo",
            }
        ]
    }
    error = make_status_error(_response(422, json=body))
    assert isinstance(error, lamina.ValidationError)
    assert error.detail == [
        ErrorDetail(
            type="value_error", loc=["body", "tier"], msg="Unsupported tier: turbo", input="turbo"
        )
    ]
    assert "tier: Unsupported tier: turbo" in error.message


def test_odd_bodies_still_give_a_readable_error() -> None:
    text = make_status_error(_response(502, text="<html>Bad Gateway</html>"))
    assert text.body == "<html>Bad Gateway</html>" and "Bad Gateway" in str(text)
    empty = make_status_error(_response(503))
    assert empty.body is None and str(empty).startswith("Error code: 503")
    odd = make_status_error(_response(400, json={"detail": [{"weird": 1}, "plain"]}))
    assert [d.msg for d in odd.detail] == ["{'weird': 1}", "plain"]


def test_request_id_is_kept() -> None:
    error = make_status_error(_response(500, headers={"x-request-id": "req-42"}))
    assert error.request_id == "req-42"


def test_tree() -> None:
    for cls in (
        lamina.APIStatusError,
        lamina.APIConnectionError,
        lamina.APIResponseValidationError,
    ):
        assert issubclass(cls, lamina.APIError)
    assert issubclass(lamina.APITimeoutError, lamina.APIConnectionError)
    for job_cls in (lamina.JobFailedError, lamina.JobCancelledError, lamina.JobTimeoutError):
        assert issubclass(job_cls, lamina.JobError)
    assert issubclass(lamina.APIError, lamina.LaminaError)
    assert issubclass(lamina.JobError, lamina.LaminaError)
    assert lamina.ValidationError is lamina.UnprocessableEntityError


def test_job_errors_name_the_job() -> None:
    job = lamina.types.ParseJob(
        id="pjb-1", project_id="p", status="FAILED", error_message="bad PDF"
    )
    failed = lamina.JobFailedError(job)
    assert failed.job_id == "pjb-1" and failed.error_message == "bad PDF" and failed.job is job
    assert "bad PDF" in str(failed)
    timeout = lamina.JobTimeoutError("pjb-2", 1.5)
    assert timeout.timeout == 1.5 and "1.5s" in str(timeout)


def _errors_to_pickle() -> list[lamina.LaminaError]:
    job = lamina.types.ParseJob.model_validate(
        {"id": "pjb-1", "project_id": "p", "status": "FAILED", "error_message": "bad page"}
    )
    return [
        make_status_error(_response(422, json={"detail": [{"loc": ["body"], "msg": "m"}]})),
        lamina.APIConnectionError(request=REQUEST),
        lamina.APITimeoutError(REQUEST),
        lamina.JobFailedError(job),
        lamina.JobCancelledError(job),
        lamina.JobTimeoutError("pjb-1", 60.0, job, pages=(3, 9)),
        lamina.ExtractionValidationError("invalid", errors=[{"loc": ["a"]}], data={}, result=None),
    ]


@pytest.mark.parametrize("error", _errors_to_pickle(), ids=lambda e: type(e).__name__)
def test_every_error_survives_pickling(error: lamina.LaminaError) -> None:
    """A worker process's exception reaches its parent pickled (``multiprocessing.Pool``): an
    error that cannot be rebuilt there kills the pool's result thread and the map never ends."""
    import pickle

    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.args == error.args
    for name in ("job_id", "timeout", "pages_done", "status_code", "detail", "data", "errors"):
        assert getattr(copy, name, None) == getattr(error, name, None), name
