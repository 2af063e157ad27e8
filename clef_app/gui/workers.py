"""Long work off the GUI thread: a generator behind a QObject, run in a QThread.

The job is a function `job(cancelled) -> Iterator`; every yielded item is sent to the GUI
as `partial(item)` and the generator's return value as `finished(value)`. Cancellation is
checked between items. Only plain Python/numpy values should cross the thread boundary.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

Job = Callable[[Callable[[], bool]], Iterator[Any]]


class Cancelled(Exception):
    """Raised inside a job that notices the cancel flag (optional: jobs may just return)."""


class GeneratorWorker(QObject):
    """Runs one job; lives in its own thread once `start()`ed."""

    progress = Signal(float)  # fraction done, 0..1
    partial = Signal(object)  # each yielded item
    finished = Signal(object)  # the generator's return value (None if cancelled)
    failed = Signal(str)  # one-line message
    _ended = Signal(object)  # self, after finished/failed: the reaper stops the thread

    def __init__(self, job: Job, progress_of: Callable[[Any], float | None] | None = None,
                 name: str = "worker") -> None:
        super().__init__()
        self._job = job
        self._progress_of = progress_of
        self._cancel = threading.Event()
        self.name = name
        self.thread: QThread | None = None

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    @Slot()
    def run(self) -> None:
        try:
            self._run()
        finally:
            self._ended.emit(self)

    def _run(self) -> None:
        try:
            gen = self._job(self._cancel.is_set)
            while True:
                if self._cancel.is_set():
                    gen.close()
                    self.finished.emit(None)
                    return
                try:
                    item = next(gen)
                except StopIteration as stop:
                    self.finished.emit(None if self._cancel.is_set() else stop.value)
                    return
                if self._progress_of is not None:
                    frac = self._progress_of(item)
                    if frac is not None:
                        self.progress.emit(float(frac))
                self.partial.emit(item)
        except Cancelled:
            self.finished.emit(None)
        except Exception as exc:  # a job failure is reported, never crashes the app
            traceback.print_exc()
            self.failed.emit(f"{type(exc).__name__}: {exc}".splitlines()[0][:300])

    def start(self) -> GeneratorWorker:
        """Run in a new QThread; connect the signals before calling this."""
        global _REAPER
        if _REAPER is None:
            _REAPER = _Reaper()
        thread = QThread()
        thread.setObjectName(self.name)
        self.thread = thread
        self.moveToThread(thread)
        thread.started.connect(self.run)
        self._ended.connect(_REAPER.reap)
        _RUNNING.add(self)
        thread.start()
        return self

    def wait(self, ms: int = 30_000) -> bool:
        """Block until the job ends and its thread stops (for shutdown and tests)."""
        if self.thread is None:
            return True
        self.thread.quit()  # the loop only quits after run() has returned
        return self.thread.wait(ms)


class _Reaper(QObject):
    """Lives in the GUI thread: stops a finished worker's thread and drops the reference."""

    @Slot(object)
    def reap(self, worker: GeneratorWorker) -> None:
        if worker.thread is not None:
            worker.thread.quit()
            worker.thread.wait()
        _RUNNING.discard(worker)


_REAPER: _Reaper | None = None
_RUNNING: set[GeneratorWorker] = set()  # keeps running workers (and threads) alive


def stop_all(ms: int = 5_000) -> None:
    """Cancel every running worker and wait for their threads (on application exit)."""
    for worker in list(_RUNNING):
        worker.cancel()
    for worker in list(_RUNNING):
        worker.wait(ms)
    _RUNNING.clear()
