"""LaminaReader in a process that then forks workers (``multiprocessing`` with fork, as
``SimpleDirectoryReader(num_workers=...)`` did and forking servers do): the children parse
with their own embedded engine, and nobody prints a traceback at exit."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import support

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


def _run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=240
    )


def test_forked_children_parse_and_exit_cleanly(corpus, tmp_path: Path) -> None:
    script = tmp_path / "fork_then_parse.py"
    script.write_text(SCRIPT)
    files = [str(corpus["multipage"]), str(corpus["headings"]), str(corpus["markdown"])]
    done = _run(script, str(tmp_path / "data"), *files)
    assert done.returncode == 0, done.stderr
    assert "parent [1, 2, 3]" in done.stdout
    assert "children [[1, 2, 3], [1], [1]]" in done.stdout
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr


BUSY_SCRIPT = textwrap.dedent(
    """
    import multiprocessing
    import sys
    import threading
    import time

    from lamina.engine import pdf
    from llama_index.readers.lamina import LaminaReader

    DATA, BIG, SMALL = sys.argv[1:]


    def load(path):
        reader = LaminaReader(show_progress=False, data_dir=DATA, job_timeout=120)
        return [d.metadata["page_number"] for d in reader.load_data(path)]


    if __name__ == "__main__":
        result = {}
        big = threading.Thread(target=lambda: result.update(big=load(BIG)))
        big.start()
        deadline = time.monotonic() + 60
        while not pdf._PDFIUM_LOCK.locked():  # the parent's job is reading the big PDF
            if time.monotonic() > deadline:
                sys.exit("the parent never started reading the big PDF")
            time.sleep(0.001)
        with multiprocessing.get_context("fork").Pool(2) as pool:
            print("children", pool.map(load, [SMALL, SMALL]), flush=True)
        big.join()
        print("parent pages", len(result["big"]), flush=True)
    """
)


def test_children_forked_while_the_parent_reads_a_pdf_do_not_wait_for_it(
    tmp_path: Path,
) -> None:
    """The fork lands while the parent's job runner holds the PDF reader's lock: the lock
    the children inherit belongs to a thread they do not have (this hung before the fix)."""
    big = support.documents.make_multipage_pdf(tmp_path, pages=400)
    small = support.documents.make_multipage_pdf(tmp_path, pages=2)
    script = tmp_path / "fork_while_busy.py"
    script.write_text(BUSY_SCRIPT)
    done = _run(script, str(tmp_path / "data"), str(big), str(small))
    assert done.returncode == 0, done.stderr
    assert "children [[1, 2], [1, 2]]" in done.stdout
    assert "parent pages 400" in done.stdout
