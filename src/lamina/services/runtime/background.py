"""A daemon thread that loops until stopped and can be woken early (dispatchers, deliveries)."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Signal:
    """A wake-up call handed to services at construction, whose receivers come later.

    A loop that starts on first need (the job webhook watcher, opened with the app) attaches
    its ``wake`` when it exists; until then a call reaches nobody, and the loop finds the work
    on its first pass anyway.
    """

    def __init__(self) -> None:
        self._receivers: list[Callable[[], None]] = []

    def attach(self, receiver: Callable[[], None]) -> None:
        self._receivers.append(receiver)

    def __call__(self) -> None:
        for receiver in list(self._receivers):
            receiver()


class BackgroundThread:
    """Start, wake and stop a loop thread; subclasses write :meth:`_run`.

    ``_run`` should loop until ``self._stop`` is set, sleeping with ``self._wake.wait(...)`` so
    that :meth:`wake` cuts a sleep short and :meth:`stop` ends the loop promptly.
    """

    thread_name = "lamina-background"

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the loop (again, after :meth:`stop`: a replica that regains leadership)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _run(self) -> None:
        raise NotImplementedError
