"""Long work as generators of progress: each yields the fraction done (0..1) and returns its
result, so a worker thread can report progress and stop between steps (by not asking for the
next one), and a plain caller can just run it to the end."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TypeVar

T = TypeVar("T")
Steps = Generator[float, None, T]


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
