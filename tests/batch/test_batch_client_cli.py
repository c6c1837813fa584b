"""``client.directories`` / ``client.batches`` and ``lamina batch``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lamina import Client
from lamina.cli import main
from lamina.types import BatchJobStatusResponse
from tests.batch.conftest import corpus


def test_client_directories_and_batches(client: Any) -> None:
    with Client(base_url="http://testserver", http_client=client, max_retries=0) as lamina:
        directory = lamina.directories.create("client-dir")
        for name, data in corpus(12, corrupt=1, tag="client"):
            lamina.directories.upload_file(directory.id, data, filename=name)
        assert len(list(lamina.directories.iter_files(directory.id, page_size=5))) == 12
        job = lamina.batches.create(directory.id, tier="fast", max_concurrency=3)
        seen: list[BatchJobStatusResponse] = []
        final = lamina.batches.wait(job.id, progress=seen.append, poll_interval=0.05)
        assert final.job.status == "completed" and final.progress_percentage == 100.0
        assert seen and seen[-1] is final
        percentages = [s.progress_percentage for s in seen]
        assert percentages == sorted(percentages)
        items = list(lamina.batches.iter_items(job.id, page_size=5))
        assert len(items) == 12 and sum(i.status == "failed" for i in items) == 1
        failed = list(lamina.batches.iter_items(job.id, status="failed"))
        assert [i.item_name for i in failed] == ["broken-0000.pdf"]
        ok = next(i for i in items if i.status == "completed")
        assert ok.job_id is not None
        assert lamina.parsing.get(ok.job_id).job.status == "COMPLETED"
        history = lamina.batches.processing_results(ok.item_id)
        assert history.processing_results and history.processing_results[0].job_type == "parse"
        listed = lamina.batches.list(directory_id=directory.id)
        assert [j.id for j in listed.items] == [job.id]
        again = lamina.batches.create(directory.id, tier="fast")
        assert lamina.batches.wait(again.id, poll_interval=0.05).job.skipped_items == 11
        lamina.directories.update(directory.id, name="renamed")
        assert lamina.directories.get(directory.id).name == "renamed"
        with pytest.raises(ValueError):
            lamina.batches.create(tier="fast")


def test_cli_batch_parse_and_classify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LAMINA_WORKERS", "0")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "invoice.txt").write_text("INVOICE 7\nAmount due $40, tax $4, total $44. Payment.")
    (folder / "resume.txt").write_text("John Smith\nExperience: engineer\nEducation: BSc\nSkills")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n junk junk")
    code = main(["batch", str(folder), "--tier", "fast", "--max-concurrency", "2"])
    out = capsys.readouterr()
    assert code == 1
    assert "3 files: 2 completed, 1 failed, 0 skipped, 0 cancelled" in out.err
    assert "broken.pdf: " in out.err

    (folder / "broken.pdf").unlink()
    rules = tmp_path / "rules.json"
    rules.write_text(
        json.dumps(
            [
                {"type": "invoice", "description": "A bill with amounts due, tax and total"},
                {"type": "resume", "description": "A CV: experience, education, skills"},
            ]
        )
    )
    assert main(["batch", str(folder), "--classify", str(rules), "--no-progress"]) == 0
    out = capsys.readouterr()
    lines = dict(line.split("\t", 1) for line in out.out.strip().splitlines())
    assert lines["invoice.txt"].startswith("invoice\t")
    assert lines["resume.txt"].startswith("resume\t")
    assert main(["batch", str(tmp_path / "missing")]) == 2


def test_cli_batch_writes_results_and_explains_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "home"))
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "notes.txt").write_text("Quarterly notes\n\nRevenue grew in every region.")
    (folder / "plan.md").write_text("# Plan\n\nShip the parser.")
    out_dir = tmp_path / "out"
    assert main(["batch", str(folder), "-o", str(out_dir), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert sorted(p.name for p in out_dir.iterdir()) == ["notes.md", "plan.md"]
    assert "Revenue grew in every region." in (out_dir / "notes.md").read_text()
    assert f"notes.txt -> {out_dir / 'notes.md'}" in err
    assert f"2 results written to {out_dir}" in err

    # A second run skips both as unchanged, says why and still writes their results.
    json_dir = tmp_path / "json"
    code = main(["batch", str(folder), "-o", str(json_dir), "--format", "json", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 0 and "0 completed, 0 failed, 2 skipped" in err
    assert "notes.txt: skipped: unchanged since job pjb-" in err
    body = json.loads((json_dir / "notes.json").read_text())
    assert body["job"]["status"] == "COMPLETED" and body["markdown"]["pages"]

    assert main(["batch", str(folder), "--no-progress"]) == 0
    assert "add -o DIR" in capsys.readouterr().err
