"""One-time work that nothing can interrupt, done on a thread a closing app may abandon.

A first import of SciPy or FluidSynth, or reading a soundfont's samples, takes seconds on a
busy machine in one call: a worker doing it itself could not stop when the app closes, and
Qt aborts on a thread left running. Here each such piece runs once per process on a daemon
thread; a worker waits for it in short steps that look for its cancel, leaves at once when
cancelled, and the work goes on alone (it writes nothing, so the process may end under it:
`running()` tells the app to end without running C libraries' exit handlers beneath it).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

from clef_app.notation.steps import Cancelled, checkpoint

WAIT_STEP_S = 0.05  # s between two looks for a cancel while the work runs


class _Once(threading.Thread):
    """One piece of work on a daemon thread; its result or error kept for every waiter."""

    def __init__(self, key: str, work: Callable[[], Any]) -> None:
        super().__init__(name=f"preload {key}", daemon=True)
        self.work = work
        self.done = threading.Event()
        self.value: Any = None
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            self.value = self.work()
        except Exception as exc:  # the waiter raises it
            self.error = exc
        finally:
            self.done.set()


_ONCE: dict[str, _Once] = {}
_LOCK = threading.Lock()  # held only to look up or start a piece, never while it runs


def wait_for(key: str, work: Callable[[], Any],
             cancelled: Callable[[], bool] | None = None) -> Any:
    """`work()`'s result, run once per process for `key` (started by the first caller).

    Waits in WAIT_STEP_S steps that call `steps.checkpoint()` and `cancelled()`. A failed
    piece is tried again by the next caller.

    Raises:
        Cancelled: `cancelled()` became true, or the `steps.stop_when` around it asked.
        Exception: what `work` raised.
    """
    with _LOCK:
        once = _ONCE.get(key)
        if once is None or (once.done.is_set() and once.error is not None):
            once = _ONCE[key] = _Once(key, work)
            once.start()
    while not once.done.wait(WAIT_STEP_S):
        checkpoint()
        if cancelled is not None and cancelled():
            raise Cancelled
    if once.error is not None:
        raise once.error
    return once.value


def imported(module: str, cancelled: Callable[[], bool] | None = None) -> Any:
    """`import module`, as `wait_for` runs work (see there)."""
    return wait_for(f"import {module}", lambda: importlib.import_module(module), cancelled)


def running() -> bool:
    """Whether some piece is still running (perhaps left by a cancelled waiter)."""
    with _LOCK:
        return any(not once.done.is_set() for once in _ONCE.values())
