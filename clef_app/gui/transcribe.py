"""The Transcribe action: the Clef model on a worker thread, notes appearing as they come.

All partial results merge into one "Transcribe" undo step that replaces the notes the
document had. The model stack (torch) is imported only inside the worker's job, which runs
the transcription pipeline (`clef_app.model.pipeline`): the recording goes in at its own
rate, the loaded model is shared with "Why this note?" and live input, and progress comes
back as `TranscriptionProgress`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from clef_app.gui.document import MERGE_TRANSCRIBE, Document
from clef_app.gui.workers import GeneratorWorker
from clef_app.model.progress import TranscriptionProgress

NO_MODEL = "no trained model installed: models/clef.safetensors missing"


def find_model() -> tuple[Path | None, str]:
    """(checkpoint, "") when a model is installed, else (None, why not)."""
    try:
        from clef_app.model.location import find_checkpoint
    except Exception as exc:  # the model package is missing or broken
        return None, f"the model cannot be loaded ({type(exc).__name__}: {exc})"[:200]
    path = find_checkpoint()
    return (path, "") if path is not None else (None, NO_MODEL)


class Transcription(QObject):
    """Runs one transcription at a time for a document."""

    started = Signal()
    progress = Signal(float)  # 0..1
    finished = Signal(str)  # summary ("" when cancelled)
    failed = Signal(str)

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self.worker: GeneratorWorker | None = None
        self._replaced = False
        self._count = 0

    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self) -> str:
        """Begin; returns "" or why it cannot start."""
        path, why = find_model()
        if path is None:
            return why
        samples, rate = self.doc.samples, self.doc.sample_rate
        if samples is None:
            return "open a recording first"
        if self.running:
            return "a transcription is already running"

        def job(cancelled):
            from clef_app.model.pipeline import Pipeline

            yield from Pipeline.load(path).transcribe(samples, rate, cancel=cancelled)

        self._replaced, self._count = False, 0
        worker = GeneratorWorker(job, progress_of=lambda step: step.fraction,
                                 name="transcribe")
        worker.partial.connect(self._partial)
        worker.progress.connect(self.progress)
        worker.finished.connect(self._finished)
        worker.failed.connect(self._failed)
        self.worker = worker.start()
        self.started.emit()
        return ""

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def _partial(self, step: TranscriptionProgress) -> None:
        notes = step.notes
        old = [] if self._replaced else self.doc.sorted_notes()
        self._replaced = True
        self._count += len(notes)
        self.doc.replace_notes("Transcribe", old, notes, MERGE_TRANSCRIBE)

    def _finished(self, _result) -> None:
        cancelled = self.worker is not None and self.worker.is_cancelled()
        self.worker = None
        self.finished.emit("" if cancelled else f"transcribed {self._count} notes")

    def _failed(self, message: str) -> None:
        self.worker = None
        self.failed.emit(message)
