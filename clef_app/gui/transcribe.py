"""The Transcribe action: the Clef model on a worker thread, notes appearing as they come.

While the model runs, the document is left alone: the notes found so far are shown on the
spectrogram as provisional (`found`), and only the complete result enters the document, as
one "Transcribe" undo step. So a run costs what `clef transcribe` costs: no re-engraving,
re-synthesis or autosave of a growing note list batch after batch (they made the app 2x
slower than the CLI and its window stall), and cancelling keeps the previous notes; the
partial result is offered (`use_partial`), never forced.

The model runs in a child process (`clef_app.model.transcribe_child`), never in the
window's: opening torch's libraries holds the dynamic loader's locks, and a GUI thread that
needed one meanwhile (to start a thread, or at its first regular-expression match) stalled
for as long as the load took. The child runs the transcription pipeline
(`clef_app.model.pipeline`) as `clef transcribe` does, keeps it loaded for the session's
later runs, takes the recording at its own rate, and progress comes back as
`TranscriptionProgress` after every batch of segments (the CLI's batches: its speed).
Transcribe Again, "Why this note?" and live input still load the model in this process.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from clef_app import preload
from clef_app.gui.document import Document
from clef_app.gui.model_choice import find_model
from clef_app.gui.workers import JobSlot
from clef_app.model import transcribe_child
from clef_app.model.native import load_torch_libraries
from clef_app.model.progress import TranscriptionProgress
from clef_app.notation.events import NoteEvent

__all__ = ["Transcription", "find_model", "model_job_unavailable"]  # find_model: gui.model_choice


class Transcription(QObject):
    """Runs one transcription at a time for a document (owned by `gui.model_jobs`).

    Signals:
        started(): a run began.
        progress(float): share of the recording read, 0..1 (each batch of segments).
        found(list): every NoteEvent found so far (not in the document yet).
        finished(str): a summary; "" when cancelled (`partial` then holds what was found).
        failed(str): a one-line reason; the document is as it was.
    """

    started = Signal()
    progress = Signal(float)
    found = Signal(list)
    finished = Signal(str)
    failed = Signal(str)

    batch_size: int | None = None  # windows per batch (None: the pipeline's, as the CLI's)

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        # a full collection of its growing heap froze the window 0.3 s: paused while it runs
        self.job = JobSlot("transcribe", self, progress_of=lambda step: step.fraction,
                           pause_gc=True)
        self.job.partial.connect(self._partial)
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self._finished)
        self.job.cancelled.connect(self._cancelled)
        self.job.failed.connect(self.failed)
        self.notes: list[NoteEvent] = []  # found by the running (or last) transcription
        self.done_seconds = 0.0  # s of the recording read so far
        self.partial: tuple[list[NoteEvent], float] | None = None  # a cancelled run's notes
        self._started_at = 0.0
        self._fraction = 0.0
        document.audioChanged.connect(self._forget_partial)

    @property
    def running(self) -> bool:
        return self.job.running

    def start(self) -> str:
        """Begin; returns "" or why it cannot start."""
        why = model_job_unavailable(self.doc)
        if why:
            return why
        if self.running:
            return "a transcription is already running"
        path, _ = find_model()
        samples, rate, batch = self.doc.samples, self.doc.sample_rate, self.batch_size

        def job(cancelled):  # in the model's process (`transcribe_child`): never torch here
            yield from transcribe_child.CHILD.transcribe(path, samples, rate, cancelled, batch)

        self.notes, self.done_seconds, self.partial = [], 0.0, None
        self._started_at, self._fraction = time.monotonic(), 0.0
        self.job.start(job)
        self.started.emit()
        return ""

    def cancel(self) -> None:
        self.job.cancel()

    def remaining(self) -> float | None:
        """s still to go, extrapolated from the rate so far (None before the first batch)."""
        f = self._fraction
        if not self.running or f <= 0.0:
            return None
        return max(0.0, (time.monotonic() - self._started_at) * (1.0 - f) / f)

    def _progress(self, fraction: float) -> None:
        self._fraction = fraction
        self.progress.emit(fraction)

    def _partial(self, step: TranscriptionProgress) -> None:
        self.notes += step.notes
        self.done_seconds = step.done_seconds
        self.found.emit(self.notes)

    def _finished(self, _result) -> None:
        self.doc.replace_notes("Transcribe", self.doc.sorted_notes(), self.notes)
        self.finished.emit(f"transcribed {len(self.notes)} notes")

    def _cancelled(self) -> None:
        self.partial = (list(self.notes), self.done_seconds) if self.notes else None
        self.finished.emit("")

    def use_partial(self) -> int:
        """Put a cancelled run's notes in the document in place of the notes up to where
        it stopped (the later ones stay), as one undo step; how many notes it added."""
        if self.partial is None:
            return 0
        notes, until = self.partial
        self.partial = None
        old = [n for n in self.doc.sorted_notes() if n.onset < until]
        self.doc.replace_notes("Transcribe (part)", old, notes)
        return len(notes)

    def _forget_partial(self) -> None:
        self.partial = None


def model_job_unavailable(doc: Document) -> str:
    """"" when the model can read the document's recording now, else why not (the
    Transcribe, Transcribe Again and "Why this note?" actions ask it first)."""
    path, why = find_model()
    if path is None:
        return why
    if doc.samples is None:
        return "open a recording first"
    if doc.loading:
        return "the recording is still loading"
    return ""


def load_model(path: Path | None) -> None:
    """Load the model at `path` once per process before a job uses it.

    The first load (torch's import and native libraries, the checkpoint: seconds on a busy
    machine, in calls nothing can interrupt) runs on a `clef_app.preload` thread that the
    job waits for in short steps, so a cancel (closing the app) leaves the wait at once and
    the process may end under the load; later calls return at once.

    Raises:
        Cancelled: the job was cancelled meanwhile.
        ModelError: the model cannot be loaded (tried again by the next job).
    """

    def load() -> None:
        load_torch_libraries()  # torch's libraries opened without the GIL
        from clef_app.model.pipeline import Pipeline

        Pipeline.load(path)  # kept by the pipeline's own cache, not here

    preload.wait_for(f"model {path}", load)
