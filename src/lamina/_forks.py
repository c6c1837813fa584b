"""Keeping ``os.fork()`` out of work that a child process could not finish.

A fork copies the whole memory of the process but only the thread that called it. Whatever
another thread was half-way through at that instant stays half-done in the child for ever: a
mutex SQLite holds inside a transaction, pdfium's allocator mid-call, a module import that has
taken its import lock (the child's first PDF once hung on the codec lookup a parent's job
thread was doing). ``multiprocessing`` with fork, forking servers and
``SimpleDirectoryReader(num_workers=...)`` all fork from processes whose job thread is busy.

Such work goes through :func:`passage`. A fork waits until no thread is inside one (up to
:data:`WAIT` seconds, then goes ahead with a warning), and no thread enters a new one until the
fork is done. A thread already inside may enter again (a page read that saves progress), so a
fork never waits for a thread that is itself waiting for the fork.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

__all__ = ["WAIT", "passage"]

WAIT = 10.0
"""Seconds a fork waits for the work in progress to end; after that it goes ahead, as it
would without the gate (a page of OCR may take longer than this)."""

logger = logging.getLogger("lamina")


class _Gate:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._inside = 0
        self._forking = False
        self._depth = threading.local()

    @contextmanager
    def passage(self) -> Iterator[None]:
        depth: int = getattr(self._depth, "value", 0)
        with self._cond:
            if not depth:  # a thread already inside never waits: the fork is waiting for it
                self._cond.wait_for(lambda: not self._forking)
            self._inside += 1
        self._depth.value = depth + 1
        try:
            yield
        finally:
            self._depth.value = depth
            with self._cond:
                self._inside -= 1
                if not self._inside:
                    self._cond.notify_all()

    def before_fork(self) -> None:
        self._cond.acquire()  # held until the fork is done: nobody enters in between
        self._forking = True
        if not self._cond.wait_for(lambda: self._inside == 0, WAIT):
            logger.warning("forking while another thread is still inside a document or database")

    def after_fork_in_parent(self) -> None:
        self._forking = False
        self._cond.notify_all()
        self._cond.release()


_GATE = _Gate()
os.register_at_fork(
    before=_GATE.before_fork,
    after_in_parent=_GATE.after_fork_in_parent,
    after_in_child=_GATE.reset,  # the other threads were not copied: nobody is inside
)


def passage() -> AbstractContextManager[None]:
    """Context manager around work a fork must not cut in half (see the module docstring)."""
    return _GATE.passage()
