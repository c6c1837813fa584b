"""Polling a job until it finishes: one loop, in a blocking and an asyncio form.

Polls start about 0.1 s apart and slow down to ``poll_interval``; the job's own state decides
when to stop (``done`` returns True, or raises for a failed or cancelled job), and a deadline
turns into :class:`~lamina.JobTimeoutError`. With a :class:`ChangeWaiter` (the embedded
server's), the sleep between polls ends as soon as a job changes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from lamina._exceptions import JobTimeoutError
from lamina.client._retry import poll_interval as next_poll_interval

if TYPE_CHECKING:
    from lamina._exceptions import AnyJob

J = TypeVar("J", bound="AnyJob")


class ChangeWaiter(Protocol):
    """Something that can tell when jobs change: ``mark()``, then sleep until it moves."""

    def mark(self) -> int: ...
    def wait(self, mark: int, timeout: float) -> None: ...
    async def await_change(self, mark: int, timeout: float) -> None: ...


class Deadline:
    """Time left to wait for a job; ``None`` timeout means no limit."""

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout
        self._end = None if timeout is None else time.monotonic() + timeout

    def remaining(self) -> float | None:
        return None if self._end is None else self._end - time.monotonic()

    def sleep_for(self, polls: int, max_interval: float) -> float | None:
        """How long to sleep before the next poll, or None when the deadline has passed."""
        interval = next_poll_interval(polls, max_interval)
        left = self.remaining()
        if left is None:
            return interval
        return None if left <= 0 else min(interval, left)


def wait_for(
    fetch: Callable[[], J],
    done: Callable[[J], bool],
    job_id: str,
    timeout: float | None,
    poll_interval: float,
    changes: ChangeWaiter | None = None,
) -> J:
    """Call ``fetch`` until ``done`` says the job finished; return its last state."""
    deadline = Deadline(timeout)
    polls = 0
    while True:
        mark = changes.mark() if changes is not None else 0
        job = fetch()
        if done(job):
            return job
        delay = deadline.sleep_for(polls, poll_interval)
        if delay is None:
            raise JobTimeoutError(job_id, timeout or 0.0, job)
        if changes is not None:
            changes.wait(mark, delay)
        else:
            time.sleep(delay)
        polls += 1


async def await_for(
    fetch: Callable[[], Awaitable[J]],
    done: Callable[[J], bool],
    job_id: str,
    timeout: float | None,
    poll_interval: float,
    changes: ChangeWaiter | None = None,
) -> J:
    """The asyncio form of :func:`wait_for`."""
    deadline = Deadline(timeout)
    polls = 0
    while True:
        mark = changes.mark() if changes is not None else 0
        job = await fetch()
        if done(job):
            return job
        delay = deadline.sleep_for(polls, poll_interval)
        if delay is None:
            raise JobTimeoutError(job_id, timeout or 0.0, job)
        if changes is not None:
            await changes.await_change(mark, delay)
        else:
            await asyncio.sleep(delay)
        polls += 1
