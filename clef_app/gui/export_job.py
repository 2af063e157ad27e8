"""Exports on a worker thread, with progress and cancel, reusing the engraved score.

The score view engraves on its own worker; `keep_score` hands the result here with the
notes and settings it was built from, and an export of the same notes and settings writes
that score instead of building it again.

Python's cyclic garbage collector is paused while an export runs (`workers.pause_collector`):
a full collection holds the GIL and froze the window. The garbage is collected as usual once
the export ends.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from clef_app.atomic import WriteError, check_output
from clef_app.errors import one_line
from clef_app.gui.workers import GeneratorWorker, pause_collector, resume_collector
from clef_app.notation.events import NoteEvent
from clef_app.notation.score import ScoreResult


class ExportJob(QObject):
    """At most one export at a time.

    Signals:
        started(str): the file being written.
        progress(float): fraction done, 0..1.
        finished(str): the file written, or "" when the export was cancelled.
        message(str): a one-line summary for the status bar.
        failed(str): why the export failed (nothing was written).
    """

    started = Signal(str)
    progress = Signal(float)
    finished = Signal(str)
    message = Signal(str)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker: GeneratorWorker | None = None
        self.reused = False  # the last export wrote the kept score (for tests and the log)
        self._kept: tuple[tuple, ScoreResult] | None = None

    @property
    def running(self) -> bool:
        return self.worker is not None

    def keep_score(self, notes: list[NoteEvent], settings: dict,
                   result: ScoreResult | None) -> None:
        self._kept = None if result is None else (_key(notes, settings), result)

    def kept_score(self, notes: list[NoteEvent], settings: dict) -> ScoreResult | None:
        """The kept score if it was built from exactly these notes and settings."""
        if self._kept is not None and self._kept[0] == _key(notes, settings):
            return self._kept[1]
        return None

    def start(self, notes: list[NoteEvent], settings: dict, path: Path, kind: str) -> bool:
        """Write `notes` as `kind` ("musicxml", "midi", "midi_score", "pdf", "mei") to
        `path`; False if an export is already running or `path` cannot be written (said
        at once by `failed`, before minutes of score building)."""
        if self.worker is not None:
            self.message.emit("an export is already running")
            return False
        try:
            check_output(path)
        except WriteError as exc:
            self.failed.emit(one_line(exc, 300))
            return False
        from clef_app.notation.export import export_steps

        result = self.kept_score(notes, settings)
        self.reused = result is not None
        notes, settings = list(notes), dict(settings)

        def job(cancelled):  # checked inside the long stages of a large score too
            return export_steps(notes, settings, path, result, kind, cancelled)

        worker = self.worker = GeneratorWorker(job, progress_of=float, name="export")
        worker.progress.connect(self.progress)
        worker.finished.connect(lambda value: self._done(value, len(notes)))
        worker.failed.connect(lambda msg: self._failed(path, msg))
        pause_collector()
        worker.start()
        self.started.emit(str(path))
        return True

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def wait(self, ms: int = 30_000) -> bool:
        return self.worker.wait(ms) if self.worker is not None else True

    def _ended(self) -> None:
        self.worker = None
        resume_collector()

    def _done(self, value: object, count: int) -> None:
        self._ended()
        if value is None:
            self.message.emit("export cancelled: nothing was written")
            self.finished.emit("")
            return
        self.message.emit(f"exported {count} notes to {value}")
        self.finished.emit(str(value))

    def _failed(self, path: Path, message: str) -> None:
        self._ended()
        self.finished.emit("")
        self.failed.emit(f"{path.name}: {message}")


def _key(notes: list[NoteEvent], settings: dict) -> tuple:
    return tuple(notes), repr(sorted(settings.items()))
