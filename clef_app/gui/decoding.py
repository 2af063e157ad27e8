"""A long recording opens at once: its header is read, the document takes the (still
silent) sample array, and a worker decodes the rest block by block into that array while
the window shows what has arrived (`Document.available` counts the decoded frames; the
spectrogram waits for them block by block).

Until the decoding is complete the document is `loading`: transcribing, "Why this note?"
and saving wait for it (they say so); playback and editing work on what has arrived.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
from PySide6.QtCore import QObject, Signal

from clef_app.audio.io import Audio
from clef_app.gui.document import Document
from clef_app.gui.workers import GeneratorWorker

PROGRESSIVE_SECONDS = 120.0  # s: a recording whose header announces more decodes in the back

Steps = Generator[tuple[np.ndarray, int, int], None, Audio]


class RecordingDecoder(QObject):
    """Decodes the rest of a recording whose first item (`decode_blocks`) was taken.

    Signals:
        progress(float): share decoded, 0..1.
        finished(str): complete; a warning if the file was damaged part-way, else "".
        failed(str): a one-line message; what decoded before stays.
    """

    progress = Signal(float)
    finished = Signal(str)
    failed = Signal(str)

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self.worker: GeneratorWorker | None = None

    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self, steps: Steps) -> None:
        self.cancel()
        total = max(1, len(self.doc.samples)) if self.doc.samples is not None else 1

        def job(cancelled):
            try:
                while not cancelled():
                    try:
                        _, _, decoded = next(steps)
                    except StopIteration as done:
                        return done.value
                    yield decoded
                return None
            finally:
                steps.close()  # closes the file when cancelled

        worker = GeneratorWorker(job, progress_of=lambda n: n / total, name="decode")
        worker.partial.connect(lambda n, w=worker: self._decoded(w, n))
        worker.progress.connect(self.progress)
        worker.finished.connect(lambda audio, w=worker: self._done(w, audio))
        worker.failed.connect(lambda message, w=worker: self._failed(w, message))
        self.worker = worker.start()

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.worker = None

    def _decoded(self, worker: GeneratorWorker, frames: int) -> None:
        if worker is self.worker:
            self.doc.set_available(frames)

    def _done(self, worker: GeneratorWorker, audio: Audio | None) -> None:
        if worker is not self.worker or audio is None:
            return
        self.worker = None
        self.doc.finish_loading(audio.samples)
        self.finished.emit(audio.warning)

    def _failed(self, worker: GeneratorWorker, message: str) -> None:
        if worker is not self.worker:
            return
        self.worker = None
        samples = self.doc.samples
        self.doc.finish_loading(samples[: self.doc.available] if samples is not None else None)
        self.failed.emit(message)
