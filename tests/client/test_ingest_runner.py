"""The framework-neutral job runner of the integrations (``lamina.ingest``): page progress of
long jobs and a warning when pages that show images came out empty."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina import Client
from lamina.ingest import JobOptions, Outcome, Source, run_sync
from lamina.ingest._runner import TextlessPagesWarning
from tests.fixtures import images as fx
from tests.fixtures.hostile import make_many_pages_pdf


class Recorder:
    """A progress object as the integrations pass one: files done, and pages of running jobs."""

    def __init__(self) -> None:
        self.files: list[str] = []
        self.pages: list[tuple[str, int, int]] = []

    def __call__(self, outcome: Outcome) -> None:
        self.files.append(outcome.source.label)

    def pages_done(self, source: Source, done: int, total: int) -> None:
        self.pages.append((source.label, done, total))


def test_long_jobs_report_their_pages(tmp_path: Path) -> None:
    recorder = Recorder()
    progress = type("P", (), {"__call__": recorder.__call__, "pages": recorder.pages_done})()
    # 5,000 pages with tables take seconds even on a fast machine; progress is written every
    # half second.
    source = Source(kind="bytes", name="long.pdf", data=make_many_pages_pdf(5000))
    with Client(data_dir=tmp_path / "home") as client:
        outcomes = list(run_sync([source], client, JobOptions(), num_workers=1, progress=progress))
    assert outcomes[0].error is None and recorder.files == ["long.pdf"]
    assert recorder.pages, "a job of a few seconds reports pages done"
    assert {total for _, _, total in recorder.pages} == {5000}
    done = [n for _, n, _ in recorder.pages]
    assert done == sorted(done)


def test_default_tier_is_cost_effective() -> None:
    assert JobOptions().tier == "cost_effective"


def test_pages_left_empty_by_the_fast_tier_are_warned_about(tmp_path: Path) -> None:
    scan = Source(kind="path", name="scan.pdf", path=str(fx.make_scanned_pdf(tmp_path)))
    warned = pytest.warns(TextlessPagesWarning, match=r"scan\.pdf: page\(s\) 1 show images")
    with Client(data_dir=tmp_path / "home") as client, warned:
        outcomes = list(run_sync([scan], client, JobOptions(tier="fast"), num_workers=1))
    assert outcomes[0].error is None
