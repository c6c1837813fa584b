"""Pages done of the document being parsed, reported to whoever runs the engine.

The job runner sets a reporter for the duration of one job (a context variable, like
:mod:`lamina.engine.limits`); the page loops of the backends wrap their page list in
:func:`tracked`, which reports ``(pages_done, pages_total)`` as pages finish. Without a
reporter it costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

Reporter = Callable[[int, int], None]
T = TypeVar("T")

_REPORTER: ContextVar[Reporter | None] = ContextVar("lamina_engine_progress", default=None)


@contextmanager
def reporting(reporter: Reporter | None) -> Iterator[None]:
    """Send the page progress of parses run inside the block to ``reporter``."""
    token = _REPORTER.set(reporter)
    try:
        yield
    finally:
        _REPORTER.reset(token)


def tracked(pages: Sequence[T]) -> Iterator[T]:
    """Yield ``pages`` one by one, reporting each as done when the next is asked for."""
    report = _REPORTER.get()
    if report is None:
        yield from pages
        return
    total = len(pages)
    report(0, total)
    for done, page in enumerate(pages, start=1):
        yield page
        report(done, total)
