"""Real ids for the SDK's generated tests (copied into the unpacked suite as
``tests/_lamina_seed.py``).

The SDK's ``tests/api_resources`` pass placeholder strings (``job_id="job_id"``,
``"dfl-aaaaaaaa-…"``); the rewrite in ``test_sdk_suite.py`` turns each into
``_lamina_seed.id("<placeholder>")``. This module answers with a real id of the right kind,
chosen by the test file (``job_id`` is a parse job in ``test_parsing.py``, an extract job in
``test_extract.py``...). Tests that delete or cancel get a fresh resource of their own, so
the order of tests does not matter; the others share one.

Everything is made through the public HTTP API at ``TEST_API_BASE_URL``. Before the suite
starts (``prepare``), the shared jobs are run to completion and a pool of completed extract
jobs is made for the delete tests (Extract refuses to delete a running job); then one
*blocker* parse job, fetching a ``source_url`` that trickles one byte a second
(``LAMINA_SEED_TRICKLE_URL``), keeps the server's single worker busy, so every job created
after it stays ``PENDING`` and can be cancelled.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import httpx

BASE = os.environ.get("TEST_API_BASE_URL", "http://127.0.0.1:4010")
TRICKLE = os.environ.get("LAMINA_SEED_TRICKLE_URL", "")
SCHEMA = {
    "type": "object",
    "properties": {"invoice_number": {"type": "string"}, "total": {"type": "number"}},
}
RULES = [{"type": "invoice", "description": "contains invoice number, line items and total"}]
TEXT = b"Invoice number: INV-7\nTotal: 12.50\nThank you for your business.\n"

_http = httpx.Client(base_url=BASE, headers={"Authorization": "Bearer seed"}, timeout=60)
_shared: dict[str, str] = {}
_per_test: dict[str, dict[str, str]] = {}
_pools: dict[str, list[str]] = {}
_blocker: list[str] = []


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(
            f"seeding {response.request.method} {response.request.url} failed: "
            f"{response.status_code} {response.text}"
        )
    return response.json() if response.content else None


def _wait(path: str, key: str = "status") -> Any:
    for _ in range(1200):
        body = _ok(_http.get(path))
        job = body.get("job", body)
        if job[key] not in ("PENDING", "RUNNING"):
            return job
        time.sleep(0.05)
    raise RuntimeError(f"{path} did not finish")


# --- makers ------------------------------------------------------------------------------------


def make_file() -> str:
    files = {"file": ("invoice.txt", TEXT, "text/plain")}
    return str(_ok(_http.post("/api/v1/beta/files", files=files, data={"purpose": "parse"}))["id"])


def make_parse_job(wait: bool = False) -> str:
    body = {"file_id": shared("file"), "tier": "fast", "version": "latest"}
    job_id = str(_ok(_http.post("/api/v2/parse", json=body))["id"])
    if wait:
        _wait(f"/api/v2/parse/{job_id}")
    return job_id


def make_extract_job(wait: bool = False) -> str:
    body = {"file_input": shared("file"), "configuration": {"data_schema": SCHEMA}}
    job_id = str(_ok(_http.post("/api/v2/extract", json=body))["id"])
    if wait:
        _wait(f"/api/v2/extract/{job_id}")
    return job_id


def make_classify_job(wait: bool = False) -> str:
    body = {"file_input": shared("file"), "configuration": {"rules": RULES}}
    job_id = str(_ok(_http.post("/api/v2/classify", json=body))["id"])
    if wait:
        _wait(f"/api/v2/classify/{job_id}")
    return job_id


def make_directory() -> str:
    body = {"name": f"seed-{time.monotonic_ns()}"}
    return str(_ok(_http.post("/api/v1/beta/directories", json=body))["id"])


def make_directory_file(directory_id: str) -> str:
    files = {"upload_file": ("invoice.txt", TEXT, "text/plain")}
    path = f"/api/v1/beta/directories/{directory_id}/files/upload"
    return str(_ok(_http.post(path, files=files))["id"])


def make_configuration() -> str:
    body = {"name": "seed", "parameters": {"product_type": "parse_v2", "tier": "fast"}}
    return str(_ok(_http.post("/api/v1/beta/configurations", json=body))["id"])


def make_parse_configuration() -> str:
    """A parse_v2 configuration the jobs use (apart from the one the Configurations tests
    rewrite into a classify_v2 one)."""
    return make_configuration()


def make_classify_configuration() -> str:
    params = {"product_type": "classify_v2", "rules": RULES}
    body = {"name": "seed-classify", "parameters": params}
    return str(_ok(_http.post("/api/v1/beta/configurations", json=body))["id"])


def make_extract_configuration() -> str:
    params = {"product_type": "extract_v2", "data_schema": SCHEMA}
    body = {"name": "seed-extract", "parameters": params}
    return str(_ok(_http.post("/api/v1/beta/configurations", json=body))["id"])


def make_webhook_config() -> str:
    body = {"webhook_url": "https://example.com/hooks/seed"}
    return str(_ok(_http.post("/api/v1/beta/webhook-configs", json=body))["id"])


def make_batch(directory_id: str | None = None) -> str:
    body = {
        "source_directory_id": directory_id or shared("directory"),
        "config": {"job": {"type": "parse_v2", "configuration_id": "cfg-PARSE_FAST"}},
    }
    return str(_ok(_http.post("/api/v2/batches", json=body))["id"])


MAKERS = {
    "file": make_file,
    "parse_job": make_parse_job,
    "extract_job": make_extract_job,
    "classify_job": make_classify_job,
    "directory": make_directory,
    "configuration": make_configuration,
    "parse_configuration": make_parse_configuration,
    "classify_configuration": make_classify_configuration,
    "extract_configuration": make_extract_configuration,
    "webhook_config": make_webhook_config,
    "batch": make_batch,
}


def shared(kind: str) -> str:
    if kind not in _shared:
        if kind == "directory_file":
            _shared[kind] = make_directory_file(shared("directory"))
        else:
            _shared[kind] = MAKERS[kind]()
    return _shared[kind]


# --- placeholders → kinds -----------------------------------------------------------------------

# (test file stem, placeholder) → kind; then placeholder alone.
_BY_FILE = {
    ("test_parsing", "job_id"): "parse_job",
    ("test_parsing", "configuration_id"): "parse_configuration",
    ("test_extract", "job_id"): "extract_job",
    ("test_extract", "configuration_id"): "extract_configuration",
    ("test_extract", "cfg"): "extract_configuration",
    ("test_extract", "parse_config_id"): "parse_configuration",
    ("test_classify", "job_id"): "classify_job",
    ("test_classify", "configuration_id"): "classify_configuration",
    ("test_classify", "cfg"): "classify_configuration",
    ("test_configurations", "config_id"): "configuration",
    ("test_webhook_configs", "config_id"): "webhook_config",
    ("test_batches", "batch_id"): "batch",
    ("test_batches", "configuration_id"): "parse_configuration",
}
_BY_NAME = {
    "file_id": "file",
    "dfl": "file",
    "pjb": "parse_job",
    "cfg": "parse_configuration",
    "whc": "webhook_config",
    "dir": "directory",
    "directory_id": "directory",
    "source_directory_id": "directory",
    "target_directory_id": "directory",
    "directory_file_id": "directory_file",
    "parse_config_id": "parse_configuration",
    "configuration_id": "parse_configuration",
}


def _current() -> tuple[str, str]:
    """(test file path under api_resources without .py, test node id) of the running test."""
    node = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
    stem = node.split("::", 1)[0].split("api_resources/", 1)[-1].removesuffix(".py")
    return stem, node


def _destructive(node: str) -> bool:
    name = node.rsplit("::", 1)[-1]
    return "delete" in name or "cancel" in name


def id(placeholder: str) -> str:
    stem, node = _current()
    kind = _BY_FILE.get((stem, placeholder)) or _BY_NAME.get(placeholder)
    if kind is None:
        raise KeyError(f"no seed for placeholder {placeholder!r} in {stem}")
    if not _destructive(node) or (stem, kind) not in _OWNED:
        return shared(kind)
    mine = _per_test.setdefault(node, {})
    if kind not in mine:
        mine[kind] = _fresh(kind, mine)
    return mine[kind]


# The resource a file's delete/cancel tests act on: only that kind is made fresh.
_OWNED = {
    ("test_parsing", "parse_job"),
    ("test_extract", "extract_job"),
    ("test_classify", "classify_job"),
    ("test_configurations", "configuration"),
    ("test_webhook_configs", "webhook_config"),
    ("test_batches", "batch"),
    ("test_files", "file"),
    ("beta/test_directories", "directory"),
    ("beta/directories/test_files", "directory"),
    ("beta/directories/test_files", "directory_file"),
}


def _fresh(kind: str, mine: dict[str, str]) -> str:
    _stem, node = _current()
    if kind == "extract_job" and "delete" in node.rsplit("::", 1)[-1] and _pools.get(kind):
        return _pools[kind].pop()
    if kind == "directory_file":
        if "directory" not in mine:
            mine["directory"] = make_directory()
        return make_directory_file(mine["directory"])
    if kind == "batch":  # content no batch has seen, so its item is not skipped as processed
        directory = make_directory()
        files = {"upload_file": ("fresh.txt", f"Fresh {time.time_ns()}".encode(), "text/plain")}
        _ok(_http.post(f"/api/v1/beta/directories/{directory}/files/upload", files=files))
        return make_batch(directory)
    return MAKERS[kind]()


def prepare(delete_pool: int = 24) -> None:
    """Shared resources, completed; the completed extract pool; then the blocker."""
    shared("file")
    for kind in ("parse_job", "extract_job", "classify_job"):
        _shared[kind] = MAKERS[kind](wait=True)  # type: ignore[operator]
    shared("directory_file")
    _shared["batch"] = make_batch()
    _wait(f"/api/v2/batches/{_shared['batch']}")
    _pools["extract_job"] = [make_extract_job() for _ in range(delete_pool)]
    for job_id in _pools["extract_job"]:
        _wait(f"/api/v2/extract/{job_id}")
    if TRICKLE:
        body = {"source_url": TRICKLE, "tier": "fast"}
        _blocker.append(str(_ok(_http.post("/api/v2/parse", json=body))["id"]))
        for _ in range(200):  # until the worker holds it
            if _ok(_http.get(f"/api/v2/parse/{_blocker[0]}"))["job"]["status"] == "RUNNING":
                break
            time.sleep(0.05)


def release() -> None:
    for job_id in _blocker:
        _http.post(f"/api/v2/parse/{job_id}/cancel")


def dump() -> str:
    return json.dumps({"shared": _shared, "blocker": _blocker})
