"""Log records name their job and project; JSON lines for a log collector."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest

from lamina.services.logs import (
    ContextFilter,
    JsonFormatter,
    TextFormatter,
    log_context,
    log_format,
)


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO, logging.Handler]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("lamina.test-logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream, handler
    logger.removeHandler(handler)


def test_json_lines_carry_the_job_and_project_of_their_context(capture) -> None:  # type: ignore[no-untyped-def]
    logger, stream, handler = capture
    handler.setFormatter(JsonFormatter())
    logger.info("outside")
    with log_context(job_id="pjb-1", project_id="proj-a"):
        logger.info("job %s: started", "pjb-1")
        with log_context(job_id="pjb-2"):  # nested: the inner job, the outer project
            logger.warning("inner")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed", extra={"attempt": 2})
    logger.info("explicit", extra={"job_id": "pjb-9", "project_id": "proj-z"})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == [
        "outside",
        "job pjb-1: started",
        "inner",
        "failed",
        "explicit",
    ]
    assert "job_id" not in lines[0] and "project_id" not in lines[0]
    assert (lines[1]["job_id"], lines[1]["project_id"], lines[1]["level"]) == (
        "pjb-1",
        "proj-a",
        "INFO",
    )
    assert (lines[2]["job_id"], lines[2]["project_id"]) == ("pjb-2", "proj-a")
    assert lines[3]["attempt"] == 2 and "ValueError: boom" in lines[3]["exception"]
    assert (lines[4]["job_id"], lines[4]["project_id"]) == ("pjb-9", "proj-z")
    assert lines[1]["logger"] == "lamina.test-logs" and lines[1]["ts"].endswith("+00:00")


def test_the_context_stays_in_its_thread(capture) -> None:  # type: ignore[no-untyped-def]
    logger, stream, handler = capture
    handler.setFormatter(JsonFormatter())
    inside = threading.Event()
    done = threading.Event()

    def other_thread() -> None:
        inside.wait()
        logger.info("elsewhere")
        done.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with log_context(job_id="pjb-1", project_id="proj-a"):
        inside.set()
        done.wait()
    thread.join()
    assert "job_id" not in json.loads(stream.getvalue().splitlines()[0])


def test_text_lines_end_with_the_project_and_job(capture) -> None:  # type: ignore[no-untyped-def]
    logger, stream, handler = capture
    handler.setFormatter(TextFormatter("%(name)s: %(message)s"))
    logger.info("plain")
    with log_context(job_id="pjb-1", project_id="proj-a"):
        logger.info("job pjb-1: COMPLETED")
    assert stream.getvalue().splitlines() == [
        "lamina.test-logs: plain",
        "lamina.test-logs: job pjb-1: COMPLETED [project proj-a, job pjb-1]",
    ]


def test_the_format_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAMINA_LOG_FORMAT", raising=False)
    assert log_format() == "text"
    monkeypatch.setenv("LAMINA_LOG_FORMAT", "JSON")
    assert log_format() == "json"
    assert log_format("text") == "text"  # the command line wins
    with pytest.raises(ValueError, match="use text or json"):
        log_format("yaml")
