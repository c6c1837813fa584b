"""LaminaReader in a process that then forks workers (``multiprocessing`` with fork, as
``SimpleDirectoryReader(num_workers=...)`` did and forking servers do): the children parse
with their own embedded engine, and nobody prints a traceback at exit."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import multiprocessing
    import sys

    from llama_index.readers.lamina import LaminaReader

    DATA, *FILES = sys.argv[1:]


    def load(path):
        reader = LaminaReader(show_progress=False, data_dir=DATA, job_timeout=60)
        return [d.metadata["page_number"] for d in reader.load_data(path)]


    if __name__ == "__main__":
        print("parent", load(FILES[0]), flush=True)
        with multiprocessing.get_context("fork").Pool(2) as pool:
            print("children", pool.map(load, FILES), flush=True)
    """
)


@pytest.mark.xfail(
    raises=subprocess.TimeoutExpired,
    strict=False,
    reason="known intermittent hang (1 run in 4 on 2026-12-01): a child forked while the "
    "parent's job runner thread is busy can wait forever; open in issue #12",
)
def test_forked_children_parse_and_exit_cleanly(corpus, tmp_path: Path) -> None:
    script = tmp_path / "fork_then_parse.py"
    script.write_text(SCRIPT)
    files = [str(corpus["multipage"]), str(corpus["headings"]), str(corpus["markdown"])]
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "data"), *files],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert "parent [1, 2, 3]" in done.stdout
    assert "children [[1, 2, 3], [1], [1]]" in done.stdout
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr
