"""The server, not the services, says where a bad value travels in HTTP (issue #14): a
service names a field of the request it was given, or a parameter, and the server places it
under ``body`` or ``query``; the presigned links the services sign are the server's routes."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Match

from lamina.server.errors import located
from lamina.server.links import DOWNLOADS
from lamina.services.errors import ValidationFailed, validation_errors
from lamina.types import ParseConfiguration


@pytest.mark.parametrize(
    ("error", "loc"),
    [
        (
            ValidationFailed.single(["configuration", "tier"], "bad"),
            ["body", "configuration", "tier"],
        ),
        (ValidationFailed.single([], "one of a or b", type="missing"), ["body"]),
        (
            ValidationFailed.single(["page_size"], "1..1000", origin="parameter"),
            ["query", "page_size"],
        ),
        (ValidationFailed.single([], "skip and limit", origin="parameter"), ["query"]),
        (ValidationFailed.single(["tier"], "Unsupported tier", origin="option"), ["tier"]),
    ],
)
def test_service_locations_are_placed_by_the_server(error: ValidationFailed, loc: list) -> None:
    (entry,) = located(error)
    assert entry["loc"] == loc
    assert entry["msg"] == error.detail[0]["msg"]


def test_pydantic_errors_keep_their_path_inside_the_request() -> None:
    with pytest.raises(Exception) as caught:
        ParseConfiguration.model_validate({"tier": 3})
    detail = validation_errors(caught.value, ["configuration"])  # type: ignore[arg-type]
    assert detail and all(d["loc"][:2] == ["configuration", "tier"] for d in detail)
    assert [d["loc"][0] for d in located(ValidationFailed(detail))] == ["body"] * len(detail)


@pytest.mark.parametrize(
    ("link", "params"),
    [
        (DOWNLOADS.file("file-1"), {"file_id": "file-1"}),
        (
            DOWNLOADS.result("job-1", "images/page_1.png"),
            {"job_id": "job-1", "name": "images/page_1.png"},
        ),
    ],
)
def test_signed_links_are_served_by_the_download_routes(link: str, params: dict) -> None:
    from lamina.server.routes_downloads import router

    matched = []
    for route in router.routes:
        assert isinstance(route, APIRoute)
        match, scope = route.matches({"type": "http", "path": link, "method": "GET"})
        if match is Match.FULL:
            matched.append(scope["path_params"])
    assert matched == [params]
