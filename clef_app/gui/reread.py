"""Transcribe Again: re-read a passage on a worker, keeping the notes the user fixed.

The passage is the loop region marked on the time ruler, or else the box the selected
notes span (their times and pitches). Its notes the user added, moved, resized or marked as
right stay as they are and are given to the decoder; the notes they deleted are never
written again; the rest of the passage is replaced in one undo step ("Transcribe again").
The model (torch) is imported only inside the worker's job (`Pipeline.reread`).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from clef_app.gui.document import Document
from clef_app.gui.model_choice import find_model
from clef_app.gui.transcribe import load_model, model_job_unavailable
from clef_app.gui.workers import JobSlot
from clef_app.notation.corrections import REREAD, Passage
from clef_app.notation.events import NoteEvent

BOX_MARGIN = 0.01  # s: a box of selected notes reaches this far past the last onset


def passage_of(region: tuple[float, float] | None, selected: list[NoteEvent]
               ) -> Passage | None:
    """The marked region (every pitch), else the box of the selected notes, else None."""
    if region is not None and region[1] > region[0]:
        return Passage(region[0], region[1])
    if not selected:
        return None
    return Passage(min(n.onset for n in selected), max(n.onset for n in selected) + BOX_MARGIN,
                   min(n.pitch for n in selected), max(n.pitch for n in selected))


class Rereading(QObject):
    """Runs one re-read at a time for a document (owned by `gui.model_jobs`)."""

    started = Signal()
    finished = Signal(str)  # summary ("" when cancelled or nothing changed)
    failed = Signal(str)

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self.job = JobSlot("reread", self)
        self.job.partial.connect(self._done)
        self.job.cancelled.connect(lambda: self.finished.emit(""))
        self.job.failed.connect(self.failed)
        self._state: tuple[int, int] = (0, 0)  # the undo stack when it began

    @property
    def running(self) -> bool:
        return self.job.running

    def start(self, passage: Passage) -> str:
        """Begin; returns "" or why it cannot start."""
        why = model_job_unavailable(self.doc)
        if why:
            return why
        if self.running:
            return "a re-read is already running"
        doc, (path, _) = self.doc, find_model()
        samples, rate, notes = doc.samples, doc.sample_rate, doc.sorted_notes()
        fixes = doc.corrections()

        def job(cancelled):
            load_model(path)  # the first job's load, left at once by a cancel
            from clef_app.model.pipeline import Pipeline
            from clef_app.model.progress import Cancelled

            try:
                yield Pipeline.load(path).reread(samples, rate, notes, passage, fixes,
                                                 cancelled)
            except Cancelled:
                return

        stack = doc.undo_stack
        self._state = (stack.index(), stack.count())
        self.job.start(job)
        self.started.emit()
        return ""

    def cancel(self) -> None:
        self.job.cancel()

    def _done(self, result) -> None:
        stack = self.doc.undo_stack
        if (stack.index(), stack.count()) != self._state:
            self.failed.emit("the notes changed while the passage was read; try again")
            return
        if not result.changes:
            self.finished.emit(f"Transcribe again: {result.summary()}")
            return
        self.doc.replace_notes(REREAD, result.removed, result.added)
        self.doc.set_selection(n.id for n in result.added)
        self.finished.emit(f"Transcribe again: {result.summary()} (Ctrl+Z undoes it)")
