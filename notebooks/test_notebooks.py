"""Execute every notebook in this folder and fail on any cell error.

Each notebook runs in a fresh ``python3`` kernel (the current interpreter) with its working
directory and ``LAMINA_HOME`` in a temporary folder and ``HF_HUB_OFFLINE=1``, so nothing is
fetched and nothing is left behind. Notebooks assert their own results in their last cells; the
checks here cover what every notebook must do (run clean, be stored without outputs) and what
each one must show: the RAG notebook its hits drawn on page images and its retrieval checks
passed; the extraction notebook its citations drawn on page images, its checks passed (totals as
generated, every box on its page) and, with no chat model configured, its agent loop skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

HERE = Path(__file__).parent
NOTEBOOKS = sorted(HERE.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds for one cell; a whole notebook takes well under a minute here
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colours in the kernel's tracebacks
AGENT_MODEL_VARIABLES = ("OPENAI_API_KEY", "LAMINA_AGENT_MODEL_URL", "LAMINA_AGENT_MODEL")


def _stream_text(nb: nbformat.NotebookNode) -> str:
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "stream"
    )


def _image_count(nb: nbformat.NotebookNode) -> int:
    return sum(
        "image/png" in out.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )


@pytest.fixture
def notebook_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The kernel inherits this process's environment: offline, with a throw-away Lamina home."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "lamina-home"))
    monkeypatch.setenv("LAMINA_LOG_LEVEL", "WARNING")
    for name in AGENT_MODEL_VARIABLES:  # the agent loop stays offline: it must skip
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: clear the outputs of cells {dirty} before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, notebook_env: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook_env)}},
    )
    try:
        client.execute()
    except CellExecutionError as error:  # the message holds the cell's source and traceback
        pytest.fail(f"{path.name}: a cell failed\n{ANSI.sub('', str(error))}", pytrace=False)

    if path.stem == "rag_pipeline":
        text = _stream_text(nb)
        assert "all retrieval checks passed" in text
        assert "MISMATCH" not in text
        # Two stores, each showing its hits on at least one rendered page.
        assert _image_count(nb) >= 2
    if path.stem == "extraction_agent":
        text = _stream_text(nb)
        assert "all extraction checks passed" in text
        assert "same data as the LangChain tool: True" in text
        assert "agent loop skipped: no chat model configured" in text
        # Two invoices shown with their cited values outlined.
        assert _image_count(nb) >= 2


def test_notebooks_found() -> None:
    assert NOTEBOOKS, f"no notebooks in {HERE}"
