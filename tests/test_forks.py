"""``lamina._forks.passage``: a fork waits for the work inside a passage, never for a thread
that re-enters one while the fork is pending, and the child starts with a free gate."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import pytest

from lamina import _forks

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _fork_and_report(child_value: Callable[[], object]) -> tuple[str, float]:
    """Fork; the child writes ``child_value()`` to a pipe and exits. Returns what it wrote and
    how long ``os.fork()`` took in the parent."""
    read, write = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.write(write, str(child_value()).encode())
        finally:
            os._exit(0)
    took = time.monotonic() - started
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    return text, took


def _fork_while_a_thread_works(nested: bool) -> tuple[str, float]:
    """A thread enters a passage (and, with ``nested``, enters again once the fork is
    pending), then marks its work done; the main thread forks while it is inside. Returns
    whether the child saw the work done, and how long the fork took."""
    state = {"done": False}
    inside = threading.Event()

    def work() -> None:
        with _forks.passage():
            inside.set()
            time.sleep(0.4)  # the fork is pending by now
            if nested:
                with _forks.passage():
                    time.sleep(0.1)
            state["done"] = True

    thread = threading.Thread(target=work)
    thread.start()
    inside.wait()
    text, took = _fork_and_report(lambda: state["done"])
    thread.join()
    return text, took


def test_fork_waits_for_the_work_inside_a_passage() -> None:
    text, took = _fork_while_a_thread_works(nested=False)
    assert text == "True"  # the child was forked after the work ended, not in its middle
    assert took < _forks.WAIT  # it waited for the work, not for the time limit


def test_a_thread_inside_may_enter_again_while_a_fork_waits() -> None:
    """A page read that saves progress re-enters: the fork must not wait for it to time out."""
    text, took = _fork_while_a_thread_works(nested=True)
    assert text == "True"
    assert took < _forks.WAIT / 2


def test_new_work_waits_while_a_fork_is_pending_and_the_child_gate_is_free() -> None:
    order: list[str] = []
    inside = threading.Event()

    def first() -> None:
        with _forks.passage():
            inside.set()
            time.sleep(0.4)
            order.append("first")

    def second() -> None:
        deadline = time.monotonic() + 5
        while not _forks._GATE._forking and time.monotonic() < deadline:  # the fork is pending
            time.sleep(0.001)
        with _forks.passage():
            order.append("second")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    inside.wait()

    def child_enters() -> str:  # the child's gate is free: entering does not block
        with _forks.passage():
            return ",".join(order)

    text, _ = _fork_and_report(child_enters)
    for thread in threads:
        thread.join()
    assert text == "first"  # the fork came before "second" entered
    assert order == ["first", "second"]
