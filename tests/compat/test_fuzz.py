"""API fuzzing: schemathesis generates requests from our own OpenAPI document (``/openapi.json``)
and runs them in-process against the app (ASGI). No request may get a 5xx, and every response
must match what the document says about it (status code, content type, body schema).

Bounded: ``FUZZ_EXAMPLES`` examples per operation (override with ``LAMINA_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from lamina.server import ServerSettings, create_app

FUZZ_EXAMPLES = int(os.environ.get("LAMINA_FUZZ_EXAMPLES", "25"))

_DATA = Path(tempfile.mkdtemp(prefix="lamina-fuzz-"))
# No lifespan under schemathesis' ASGI client: requests are served, no job is run, so the
# fuzzer exercises the HTTP layer and the services without waiting on the engine.
app = create_app(
    ServerSettings(
        data_dir=_DATA,
        workers=0,
        max_upload_bytes=256 * 1024,
        # The fuzzer's host, trusted for presigned URLs; no rate limit, so every generated
        # request reaches the services (a 429 would be documented, but would test less).
        trusted_hosts=("testserver", "localhost"),
        rate_limit_per_second=0,
        create_rate_limit_per_second=0,
    )
)
# Files, Parse v2, Extract v2, Classify v2, directories, batch processing (v1 beta), batches
# (v2), saved and webhook configurations, the classic parse and extract APIs, health.
schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(
    path_regex=r"^/(health$|api/v2/(parse|extract|batches|classify|webhook-configs)|api/v1/beta/"
    r"(files|directories|batch-processing|configurations|webhook-configs)|api/(v1/)?parsing/"
    r"|api/v1/(files|extraction))"
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_own_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
