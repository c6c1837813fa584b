"""Golden file: the parse of ``examples/sample.pdf`` is pinned in ``golden/sample.json``.

After an intended change of output, regenerate with::

    LAMINA_UPDATE_GOLDEN=1 pytest tests/engine/test_golden.py

and review the diff of the JSON like any other change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from lamina.engine import parse_document

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample.pdf"
GOLDEN = Path(__file__).parent / "golden" / "sample.json"


def _stable(data: dict[str, Any]) -> dict[str, Any]:
    """The result without what changes from run to run (timings)."""
    data["stats"].pop("parse_seconds", None)
    return data


def test_sample_matches_golden() -> None:
    result = parse_document(SAMPLE.read_bytes(), filename=SAMPLE.name)
    actual = _stable(result.model_dump(mode="json"))
    if os.environ.get("LAMINA_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(actual, indent=1, ensure_ascii=False) + "\n")
    expected = json.loads(GOLDEN.read_text())
    assert actual == expected, "parse output changed; see the module docstring to update"


def test_sample_is_small_and_current() -> None:
    """The committed sample stays small and is what scripts/make_sample.py generates."""
    import subprocess
    import sys
    import tempfile

    assert SAMPLE.stat().st_size < 50_000
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sample.pdf"
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "make_sample.py"), str(out)],
            check=True,
            capture_output=True,
        )
        assert out.read_bytes() == SAMPLE.read_bytes()
