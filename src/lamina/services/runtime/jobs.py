"""Running one claimed job of any kind: the engine limits applied, then the runner of its kind.

Parse jobs run in :mod:`lamina.services.runtime.execution`, extract jobs in
:func:`lamina.services.api.extract.run_extract_job`, classify jobs in
:func:`lamina.services.api.classify_jobs.run_classify_job`. This module is the only one that
knows all three, so the runners import the shared execution helpers without an import cycle.
"""

from __future__ import annotations

from lamina.services.runtime.execution import ExecutionLimits, Outcome, ResultCache, run_parse_job
from lamina.services.store.db import Row
from lamina.services.store.storage import Storage


def execute(
    row: Row, storage: Storage, limits: ExecutionLimits, cache: ResultCache | None = None
) -> Outcome:
    """Run one job to an :class:`Outcome`; results are published before COMPLETED is returned.

    The engine limits of ``limits`` apply to every document parsed for the job (parse, extract
    and classify jobs alike). ``cache`` serves parse jobs only.
    """
    from lamina.engine.limits import EngineLimits, applied

    engine_limits = EngineLimits()
    if limits.max_pages is not None:
        engine_limits = EngineLimits(limits.max_pages, engine_limits.max_image_pixels)
    if limits.max_image_pixels is not None:
        engine_limits = EngineLimits(engine_limits.max_pages, limits.max_image_pixels)
    with applied(engine_limits):
        kind = row.get("kind")
        if kind == "extract":  # imported on first need: a parse-only worker never loads it
            from lamina.services.api.extract import run_extract_job

            return run_extract_job(row, storage, limits)
        if kind == "classify":
            from lamina.services.api.classify_jobs import run_classify_job

            return run_classify_job(row, storage, limits)
        return run_parse_job(row, storage, limits, cache)
