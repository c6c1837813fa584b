"""Page options of ``markdown_full`` and failed pages within or beyond the job's tolerance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lamina.engine.result import PageResult, ParseResult
from lamina.services.api.page_output import PageOutputOptions, allowed_failure_ratio
from lamina.services.runtime.execution import write_results
from lamina.types import ParseConfiguration
from tests.server.conftest import upload, wait_for_job

ERROR = "Page 2 could not be parsed: broken"


def _result(failed: tuple[int, ...] = (2,), pages: int = 3) -> ParseResult:
    out = []
    for n in range(1, pages + 1):
        if n in failed:
            out.append(PageResult(page_number=n, error=f"Page {n} could not be parsed: broken"))
            out[-1].text = f"raw {n}"
        else:
            out.append(PageResult(page_number=n, markdown=f"# P{n}", text=f"P{n}"))
    return ParseResult(file_type="pdf", page_count=pages, pages=out, engine_version="test")


def _config(**options: Any) -> ParseConfiguration:
    return ParseConfiguration.model_validate({"tier": "fast", **options})


def _markdown_full(**options: Any) -> str:
    return PageOutputOptions.from_config(_config(**options)).join_markdown(_result().pages)


def test_default_joins_good_pages_with_blank_lines() -> None:
    assert _markdown_full() == "# P1\n\n# P3"


def test_separator_prefix_suffix_with_page_numbers() -> None:
    got = _markdown_full(
        page_separator="\n---{pageNumber}---\n",
        page_prefix="<p{pageNumber}>",
        page_suffix="</p{pageNumber}>",
    )
    assert got == "<p1># P1</p1>\n---3---\n<p3># P3</p3>"


def test_v2_location_under_output_options_markdown_wins() -> None:
    got = _markdown_full(
        page_separator="top",
        output_options={"markdown": {"page_separator": "|{pageNumber}|"}},
    )
    assert got == "# P1|3|# P3"


@pytest.mark.parametrize(
    ("mode", "slot"),
    [
        ("raw_text", "raw 2"),
        ("blank_page", ""),
        ("error_message", f"ERR[{ERROR}]"),
    ],
)
def test_replace_failed_page_mode(mode: str, slot: str) -> None:
    got = _markdown_full(
        page_separator="\n|\n",
        replace_failed_page_mode=mode,
        replace_failed_page_with_error_message_prefix="ERR[",
        replace_failed_page_with_error_message_suffix="]",
    )
    assert got == f"# P1\n|\n{slot}\n|\n# P3"


def test_write_results_applies_the_options(tmp_path: Path) -> None:
    config = _config(page_separator="\n<<{pageNumber}>>\n", replace_failed_page_mode="blank_page")
    summary = write_results(tmp_path, _result(), 0.1, config=config)
    assert (tmp_path / "markdown_full.md").read_text() == "# P1\n<<2>>\n\n<<3>>\n# P3"
    assert summary["failed_pages"] == [2]
    assert '"success":false' in (tmp_path / "markdown.json").read_text()  # a failed-page entry


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, (None, "")),
        ({"page_error_tolerance": 0.5}, (0.5, "page_error_tolerance")),
        (
            {
                "page_error_tolerance": 0.5,
                "processing_control": {"job_failure_conditions": {"allowed_page_failure_ratio": 0}},
            },
            (0.0, "allowed_page_failure_ratio"),
        ),
    ],
)
def test_allowed_failure_ratio(options: dict[str, Any], expected: tuple[Any, str]) -> None:
    assert allowed_failure_ratio(_config(**options)) == expected


@pytest.mark.parametrize(
    ("options", "loc"),
    [
        ({"page_error_tolerance": 2}, "page_error_tolerance"),
        ({"page_error_tolerance": "x"}, "page_error_tolerance"),
        ({"replace_failed_page_mode": "drop"}, "replace_failed_page_mode"),
        ({"page_separator": 3}, "page_separator"),
    ],
)
def test_bad_page_options_are_422(
    client: TestClient, docs: dict[str, bytes], options: dict[str, Any], loc: str
) -> None:
    file_id = upload(client, docs["simple"])["id"]
    body = {"file_id": file_id, "tier": "fast", **options}
    response = client.post("/api/v2/parse", json=body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", loc]


@pytest.fixture
def two_of_three_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine (run in this process by the inline worker) fails pages 2 and 3 of 3."""
    import lamina.engine

    monkeypatch.setattr(lamina.engine, "parse_document", lambda data, **kw: _result(failed=(2, 3)))


@pytest.mark.usefixtures("two_of_three_fail")
@pytest.mark.parametrize(
    ("options", "status"),
    [
        ({}, "COMPLETED"),  # no limit set
        ({"page_error_tolerance": 0.7}, "COMPLETED"),
        ({"page_error_tolerance": 0.5}, "FAILED"),
        (
            {"processing_control": {"job_failure_conditions": {"allowed_page_failure_ratio": 0.5}}},
            "FAILED",
        ),
    ],
)
def test_failed_pages_within_and_beyond_tolerance(
    client: TestClient, docs: dict[str, bytes], options: dict[str, Any], status: str
) -> None:
    file_id = upload(client, docs["simple"])["id"]
    body = {"file_id": file_id, "tier": "fast", "replace_failed_page_mode": "error_message"}
    job = client.post("/api/v2/parse", json={**body, **options}).json()
    done = wait_for_job(client, job["id"])
    assert done["status"] == status
    if status == "FAILED":
        message = done["error_message"]
        assert message.startswith("2 of 3 pages failed (ratio 0.67 > ")
        assert "failed pages: 2, 3" in message and "Page 2 could not be parsed" in message
        return
    got = client.get(
        f"/api/v2/parse/{job['id']}", params={"expand": "markdown,markdown_full"}
    ).json()
    assert [p["success"] for p in got["markdown"]["pages"]] == [True, False, False]
    assert got["markdown"]["pages"][1]["error"] == ERROR
    assert got["markdown_full"] == f"# P1\n\n{ERROR}\n\nPage 3 could not be parsed: broken"
