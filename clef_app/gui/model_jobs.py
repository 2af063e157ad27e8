"""The model's work on the open document, owned by the application controller.

Transcribe (`gui.transcribe`), Transcribe Again (`gui.reread`) and "Why this note?"
(`gui.why_overlay`) each run one job at a time on a worker (`workers.JobSlot`). `ModelJobs`
starts them, turns how they end into status lines and error messages, and says when the
actions that start them may have become available or unavailable (`changed`). The window
only shows their progress and draws their results.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from clef_app.gui.document import Document
from clef_app.gui.reread import Rereading
from clef_app.gui.transcribe import Transcription, model_job_unavailable
from clef_app.gui.why_overlay import WhyThisNote
from clef_app.model import transcribe_child
from clef_app.notation.corrections import Passage

CANCELLED = "transcription cancelled: your notes are as they were"
WHY_WORKING = "working out why the model wrote this note…"


class ModelJobs(QObject):
    """Transcribe, Transcribe Again and "Why this note?" for one document.

    Signals:
        status(str, int): a status-bar message and how many ms to show it (0: until replaced).
        error(str, str): a modal message's title and text (the document is as it was).
        changed(): whether each job can start may have changed (the actions' state).
    """

    status = Signal(str, int)
    error = Signal(str, str)
    changed = Signal()

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.transcription = Transcription(document, self)
        self.rereading = Rereading(document, self)
        self.why = WhyThisNote(document, self)
        t, r, w = self.transcription, self.rereading, self.why
        t.finished.connect(lambda text: self.status.emit(text or CANCELLED, 8000 if text else 0))
        t.failed.connect(lambda msg: self.error.emit("Transcription failed", msg))
        r.finished.connect(lambda text: text and self.status.emit(text, 8000))
        r.failed.connect(lambda msg: self.error.emit("Transcribe Again", msg))
        w.started.connect(lambda: self.status.emit(WHY_WORKING, 0))
        w.finished.connect(lambda text: text and self.status.emit(text, 8000))
        w.failed.connect(lambda msg: self.error.emit("Why this note?", msg))
        for signal in (t.started, t.finished, t.failed, w.started, w.finished, w.failed,
                       w.cleared, document.audioChanged, document.audioLoaded,
                       document.selectionChanged):
            signal.connect(self.changed)

    # -- what can run ------------------------------------------------------------------
    def transcribe_unavailable(self) -> str:
        """"" when Transcribe can start now, else why not (for the action's tooltip)."""
        why = model_job_unavailable(self.document)
        return why or ("a transcription is already running" if self.transcription.running
                       else "")

    def why_unavailable(self) -> str:
        return self.why.unavailable()

    # -- starting ----------------------------------------------------------------------
    def transcribe(self) -> bool:
        """Transcribe the recording; False, with the reason shown, if it cannot start."""
        return self._started(self.transcription.start(), "cannot transcribe")

    def explain_note(self) -> bool:
        """Show where the model looked to write the selected note."""
        return self._started(self.why.start(), "cannot explain")

    def reread(self, passage: Passage) -> bool:
        """Re-read a passage (`gui.reread`); False, with the reason shown, if it cannot."""
        if not self._started(self.rereading.start(passage), "Transcribe Again"):
            return False
        self.status.emit(f"reading {passage.start:.2f}-{passage.end:.2f} s again…", 0)
        return True

    def _started(self, why: str, what: str) -> bool:
        if why:
            self.status.emit(f"{what}: {why}", 8000)
        return not why

    def shutdown(self) -> None:
        """The app is quitting: stop every job (the close waits for their threads) and end
        the model's process (which a first load may keep busy for seconds)."""
        self.transcription.cancel()
        transcribe_child.CHILD.stop()
        self.rereading.cancel()
        self.why.clear()
