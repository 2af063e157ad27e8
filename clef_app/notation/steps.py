"""Long work as generators of progress: each yields the fraction done (0..1) and returns its
result, so a worker thread can report progress and stop between steps (by not asking for the
next one), and a plain caller can just run it to the end.

A stage that runs long between two yields (a score's beat tracking, quantisation and hands
for 200,000 notes) calls `checkpoint()` in its loops: inside `stop_when(cancelled)` it raises
`Cancelled` once `cancelled()` is true, so a cancel acts within a fraction of a second there
too. Outside, `checkpoint()` does nothing.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Generator, Iterator
from typing import TypeVar

T = TypeVar("T")
Steps = Generator[float, None, T]

_watched = threading.local()  # .cancelled: the stop test of the work on this thread


class Cancelled(Exception):  # noqa: N818 - a request, not a failure
    """The work's consumer asked it to stop (raised by `checkpoint`)."""


@contextlib.contextmanager
def stop_when(cancelled: Callable[[], bool] | None) -> Iterator[None]:
    """Make `checkpoint()` on this thread raise `Cancelled` once `cancelled()` is true."""
    previous = getattr(_watched, "cancelled", None)
    _watched.cancelled = cancelled
    try:
        yield
    finally:
        _watched.cancelled = previous


def checkpoint() -> None:
    """Raise `Cancelled` if the work running on this thread has been asked to stop."""
    cancelled = getattr(_watched, "cancelled", None)
    if cancelled is not None and cancelled():
        raise Cancelled


def run_to_end(steps: Steps[T], report: Callable[[float], None] | None = None) -> T:
    """Run a generator of progress to its end (telling `report` each fraction) and return
    its result."""
    while True:
        try:
            fraction = next(steps)
        except StopIteration as done:
            return done.value
        if report is not None:
            report(fraction)


def scaled(steps: Steps[T], lo: float, hi: float) -> Steps[T]:
    """`steps` with its fractions mapped onto lo..hi (a stage of a longer job)."""
    while True:
        try:
            fraction = next(steps)
        except StopIteration as done:
            return done.value
        yield lo + (hi - lo) * fraction
