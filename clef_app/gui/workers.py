"""Long work off the GUI thread: a generator behind a QObject, run in a QThread.

The job is a function `job(cancelled) -> Iterator`; every yielded item reaches the GUI as
`partial(item)` and the generator's return value as `finished(value)`. Cancellation is
checked between items, and inside them wherever the work calls `steps.checkpoint()` (the
job runs inside `steps.stop_when(cancelled)`: a long resampling, score building), which
raises `Cancelled` and ends the job as a cancel. Only plain Python/numpy values should cross
the thread boundary.

A `GeneratorWorker` stays in the GUI thread and re-emits what its `_Runner` (moved to the
worker thread) reports, so any slot connected to it, lambdas included, runs in the GUI
thread.
"""

from __future__ import annotations

import gc
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from clef_app.errors import ClefError, one_line
from clef_app.notation.steps import Cancelled, stop_when

Job = Callable[[Callable[[], bool]], Iterator[Any]]
STOP_WAIT_MS = 2000  # ms: how long closing the app waits for a cancelled job to end


class _Runner(QObject):
    """Runs the job in the worker thread; reports through queued signals."""

    partial = Signal(object)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, job: Job, cancel: threading.Event) -> None:
        super().__init__()
        self._job = job
        self._cancel = cancel

    @Slot()
    def run(self) -> None:
        with stop_when(self._cancel.is_set):  # a checkpoint() in the work raises Cancelled
            self._run()

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
                self.partial.emit(item)
        except Cancelled:
            self.finished.emit(None)
        except ClefError as exc:  # a file, an option or the machine: its message says it
            self.failed.emit(one_line(exc, 300))
        except Exception as exc:  # a job failure is reported, never crashes the app
            traceback.print_exc()
            self.failed.emit(one_line(f"{type(exc).__name__}: {exc}", 300))


class GeneratorWorker(QObject):
    """One job on its own thread; connect the signals, then `start()`."""

    progress = Signal(float)  # fraction done, 0..1 (when progress_of gives one)
    partial = Signal(object)  # each yielded item
    finished = Signal(object)  # the generator's return value (None if cancelled)
    failed = Signal(str)  # one-line message

    def __init__(self, job: Job, progress_of: Callable[[Any], float | None] | None = None,
                 name: str = "worker") -> None:
        super().__init__()
        self._cancel = threading.Event()
        self._progress_of = progress_of
        self._runner = _Runner(job, self._cancel)
        self.name = name
        self.thread: QThread | None = None
        self.done = False

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def start(self) -> GeneratorWorker:
        thread = QThread()
        thread.setObjectName(self.name)
        self.thread = thread
        self._runner.moveToThread(thread)
        thread.started.connect(self._runner.run)
        self._runner.partial.connect(self._on_partial)
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)
        _RUNNING.add(self)
        thread.start()
        return self

    @Slot(object)
    def _on_partial(self, item: Any) -> None:
        if self._progress_of is not None:
            frac = self._progress_of(item)
            if frac is not None:
                self.progress.emit(float(frac))
        self.partial.emit(item)

    @Slot(object)
    def _on_finished(self, value: Any) -> None:
        self._stop_thread()
        self.finished.emit(value)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._stop_thread()
        self.failed.emit(message)

    def _stop_thread(self) -> None:
        self.done = True
        if self.thread is not None:
            self.thread.quit()
            self.thread.wait()
        _RUNNING.discard(self)

    def wait(self, ms: int | None = None) -> bool:
        """Block until the job's thread ends, at most `ms` (default STOP_WAIT_MS); its result
        is still queued. A thread still running then is kept referenced (see `_STUCK`)."""
        if self.thread is None:
            return True
        self.thread.quit()  # takes effect once run() has returned
        if self.thread.wait(STOP_WAIT_MS if ms is None else ms):
            return True
        _RUNNING.discard(self)
        if self not in _STUCK:
            _STUCK.append(self)
        return False


class JobSlot(QObject):
    """One job at a time for its owner (Transcribe, Transcribe Again, "Why this note?").

    `start(job)` runs it on a `GeneratorWorker` and passes its signals on; `cancel()` asks it
    to stop (then `cancelled` comes); `drop()` also forgets it, so nothing more is reported
    from it and another may start at once. With `pause_gc` the collector is paused while a
    job runs (see `pause_collector`), until its thread ends, dropped or not. The app's close
    cancels every running worker (`stop_all`).

    Signals:
        progress(float): fraction done, 0..1 (when `progress_of` gives one).
        partial(object): each item the job yields.
        finished(object): the job's return value; it ran to its end.
        cancelled(): it stopped because `cancel` asked it to (its partial items stand).
        failed(str): a one-line reason.
    """

    progress = Signal(float)
    partial = Signal(object)
    finished = Signal(object)
    cancelled = Signal()
    failed = Signal(str)

    def __init__(self, name: str, parent: QObject | None = None, *,
                 progress_of: Callable[[Any], float | None] | None = None,
                 pause_gc: bool = False) -> None:
        super().__init__(parent)
        self.name = name
        self.worker: GeneratorWorker | None = None  # the running job's, None when idle
        self._progress_of = progress_of
        self._pause_gc = pause_gc

    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self, job: Job) -> None:
        """Run `job` (the caller checks `running` first: one job at a time)."""
        assert self.worker is None, f"a {self.name} job is already running"
        worker = GeneratorWorker(job, progress_of=self._progress_of, name=self.name)
        worker.progress.connect(lambda f, w=worker: self._current(w) and self.progress.emit(f))
        worker.partial.connect(lambda item, w=worker: self._current(w) and self.partial.emit(item))
        worker.finished.connect(lambda value, w=worker: self._ended(w, value, None))
        worker.failed.connect(lambda message, w=worker: self._ended(w, None, message))
        if self._pause_gc:
            pause_collector()
        self.worker = worker.start()

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def drop(self) -> None:
        """Cancel the job and forget it: its results are no longer wanted."""
        self.cancel()
        self.worker = None

    def _current(self, worker: GeneratorWorker) -> bool:
        return worker is self.worker

    def _ended(self, worker: GeneratorWorker, value: Any, failure: str | None) -> None:
        if self._pause_gc:
            resume_collector()
        if worker is not self.worker:
            return  # dropped: nobody waits for it
        self.worker = None
        if failure is not None:
            self.failed.emit(failure)
        elif worker.is_cancelled():
            self.cancelled.emit()
        else:
            self.finished.emit(value)


_PAUSES = [0, True]  # long jobs holding the collector paused; whether it was enabled before


def pause_collector() -> None:
    """Pause Python's cyclic garbage collector while a long job runs (an export, a
    transcription): such a job allocates enough to start full collections, and a full
    collection holds the GIL (0.3-0.6 s with a large heap, measured), freezing the window
    however the work is threaded. Each call is matched by one `resume_collector`."""
    if _PAUSES[0] == 0:
        _PAUSES[1] = gc.isenabled()
        gc.disable()
    _PAUSES[0] += 1


def resume_collector() -> None:
    """The job ended: once no job holds it paused, the collector runs as before."""
    _PAUSES[0] = max(0, _PAUSES[0] - 1)
    if _PAUSES[0] == 0 and _PAUSES[1]:
        gc.enable()


_RUNNING: set[GeneratorWorker] = set()  # keeps running workers (and their threads) alive
# workers whose job did not stop in time at exit (a step that cannot be interrupted, such
# as one long engraving): kept referenced, so Qt never destroys a running thread (abort)
_STUCK: list[GeneratorWorker] = []


def stop_all(ms: int = STOP_WAIT_MS) -> bool:
    """Cancel every running worker and wait up to `ms` in all for their threads (on exit).

    Returns:
        True if every thread ended; False if some are still in a step that cannot be
        interrupted (they stay referenced; `run_gui` then ends the process without
        waiting, as nothing is left to write).
    """
    deadline = time.monotonic() + ms / 1000
    for worker in list(_RUNNING):
        worker.cancel()
        if worker.thread is not None:
            worker.thread.quit()  # each ends as soon as its job does, whoever is waited for
    for worker in list(_RUNNING):
        worker.wait(max(0, int((deadline - time.monotonic()) * 1000)))
    _RUNNING.clear()
    return not any_stuck()


def any_stuck() -> bool:
    """Whether a worker's thread outlived `stop_all`'s wait and is still running."""
    return any(w.thread is not None and w.thread.isRunning() for w in _STUCK)
