"""What the window shows of the model's jobs (`gui.model_jobs`): the status bar's
transcription corner, and whether Transcribe and Why This Note? can be used now."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QToolButton, QWidget

from clef_app.gui.axes import format_time
from clef_app.gui.menus import WHY_TIP
from clef_app.gui.model_choice import find_model
from clef_app.gui.model_jobs import ModelJobs
from clef_app.gui.transcribe import Transcription

TRANSCRIBE_TIP = "Transcribe the recording with the Clef model (Ctrl+T)"


class TranscriptionStatus(QWidget):
    """Progress with the time left and Cancel while the model transcribes; after a cancel,
    the offer to use the notes it found up to there (one undo step).

    Signals:
        message(str): a status-bar line.
    """

    message = Signal(str)

    def __init__(self, transcription: Transcription, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.transcription = t = transcription
        self.progress = QProgressBar(maximum=1000, textVisible=True)
        self.progress.setFixedWidth(220)
        self.progress.setFormat("transcribing %p%")
        self.cancel_button = QToolButton(text="Cancel", toolTip="stop transcribing (the "
                                         "notes you had stay)")
        self.use_partial_button = QToolButton(toolTip="put the notes the cancelled "
                                              "transcription found in place of yours up to "
                                              "where it stopped (undoable)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.progress, self.cancel_button, self.use_partial_button):
            layout.addWidget(w)
            w.hide()
        self.cancel_button.clicked.connect(t.cancel)
        self.use_partial_button.clicked.connect(self._use_partial)
        t.started.connect(self._started)
        t.progress.connect(self._progress)
        t.finished.connect(self._ended)
        t.failed.connect(lambda _msg: self._stopped())
        t.doc.audioChanged.connect(self.use_partial_button.hide)

    def _started(self) -> None:
        self.progress.setValue(0)
        self.progress.setFormat("transcribing %p%")
        self.progress.show()
        self.cancel_button.show()
        self.use_partial_button.hide()

    def _progress(self, fraction: float) -> None:
        self.progress.setValue(int(fraction * 1000))
        left = self.transcription.remaining()
        if left is not None and fraction < 1.0:
            self.progress.setFormat(f"transcribing %p%, about {format_time(left)} left")

    def _stopped(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()

    def _ended(self, summary: str) -> None:
        self._stopped()
        partial = self.transcription.partial
        if not summary and partial is not None:
            notes, until = partial
            self.use_partial_button.setText(f"Use the {len(notes)} notes found up to "
                                            f"{format_time(until)}")
            self.use_partial_button.show()

    def _use_partial(self) -> None:
        self.use_partial_button.hide()
        count = self.transcription.use_partial()
        self.message.emit(f"{count} notes of the cancelled transcription used (Ctrl+Z undoes "
                          "it)")


def sync_model_actions(actions: dict[str, QAction], jobs: ModelJobs) -> None:
    """Transcribe and Why This Note? are enabled when they can run; if not, the tooltip
    says why."""
    action, doc = actions["transcribe"], jobs.document
    model, problem = find_model()
    if model is None:
        action.setEnabled(False)
        action.setToolTip(f"Transcribe is unavailable: {problem}")
        action.setStatusTip(f"Transcribe is unavailable: {problem}")
    else:
        action.setEnabled(not jobs.transcribe_unavailable())
        action.setToolTip("the recording is still loading" if doc.loading else
                          TRANSCRIBE_TIP if doc.samples is not None else
                          "open a recording to transcribe it")
        action.setStatusTip(TRANSCRIBE_TIP)
    why = jobs.why_unavailable()
    actions["why"].setEnabled(not why)
    actions["why"].setToolTip(f"Why this note? is unavailable: {why}" if why else WHY_TIP)
