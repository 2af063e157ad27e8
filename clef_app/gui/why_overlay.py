""""Why this note?" in the app: where the model looked to write the selected note.

`clef_app.model.explain.explain_selected` (run on a worker, on the model Transcribe shares)
gives a (rows, cols) map over the encoder's patch grid of the note's 2.56-s segment, row 0
the lowest band. The encoder's image is the model's whole spectrogram (mel or log-frequency
rows) resized vertically, so the grid covers those rows linearly; `on_pitch_rows` redraws it
on the view's pitch rows (y = MIDI pitch), on the worker, and its columns are
`seconds_per_col` wide from the segment's start (frame centres, as the view's image).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from clef_app.audio.logfreq import N_ROWS, model_row, model_rows, row_pitch
from clef_app.config import FRAMES_PER_SECOND, SAMPLE_RATE, FrontEndConfig
from clef_app.gui.document import Document
from clef_app.gui.model_choice import find_model
from clef_app.gui.spectrogram_view import ROW_RANGE
from clef_app.gui.transcribe import load_model, model_job_unavailable
from clef_app.gui.workers import JobSlot

GREEN = (70, 235, 110)  # RGB of the map; its alpha follows the weight
MAX_ALPHA = 215  # of 255: the strongest patch still lets the spectrogram through


def weights_to_rgba(weights: np.ndarray) -> np.ndarray:
    """A (rows, cols) map, row 0 lowest, as a col-major RGBA image (cols, rows, 4) uint8.

    Alpha is the weight relative to the strongest patch, square-rooted so that the second
    and third strongest patches stay visible next to the first.
    """
    w = np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    rel = np.sqrt(w / w.max()) if w.max() > 0 else w
    rgba = np.empty(w.T.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = GREEN
    rgba[..., 3] = np.round(rel.T * MAX_ALPHA).astype(np.uint8)
    return rgba


def on_pitch_rows(weights: np.ndarray, fe: FrontEndConfig = FrontEndConfig()) -> np.ndarray:
    """A (rows, cols) map over the model's image as (N_ROWS, cols) on the view's pitch
    rows: each pitch row takes the grid row holding its position in the model's spectrogram
    (0 outside it, e.g. below 30 Hz for the mel)."""
    w = np.asarray(weights, dtype=np.float64)
    row = model_row(row_pitch(np.arange(N_ROWS)), fe)  # the model's row of each pitch row
    grid = np.floor((row + 0.5) / model_rows(fe) * len(w)).astype(int)
    inside = (grid >= 0) & (grid < len(w))
    out = np.zeros((N_ROWS, w.shape[1]))
    out[inside] = w[grid[inside]]
    return out


class WhyOverlay:
    """The map, its segment's outline and a legend, drawn on a spectrogram PlotItem."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setZValue(-5)  # over the spectrogram (-10), under notes and cursor
        self.frame = QGraphicsRectItem()
        pen = QPen(QColor(*GREEN, 230), 1, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.frame.setPen(pen)
        self.frame.setZValue(-4)
        self.label = pg.TextItem(color=(235, 255, 238), fill=pg.mkBrush(10, 30, 16, 200),
                                 anchor=(0, 0))
        self.label.setZValue(35)
        for item in (self.image, self.frame, self.label):
            item.hide()
            plot.addItem(item, ignoreBounds=True)
        self.span: tuple[float, float] | None = None  # s: the segment shown, None = hidden
        plot.getViewBox().sigRangeChanged.connect(self._place_label)

    @property
    def visible(self) -> bool:
        return self.span is not None

    def show(self, weights: np.ndarray, start: float, end: float, text: str) -> None:
        """Draw `weights` (on the view's pitch rows) over [start, end) s, with a legend."""
        half = 0.5 / FRAMES_PER_SECOND  # frame i spans i/fps ± half, as the spectrogram image
        rect = QRectF(start - half, ROW_RANGE[0], end - start, ROW_RANGE[1] - ROW_RANGE[0])
        self.image.setImage(weights_to_rgba(weights), levels=(0, 255),
                            autoLevels=False)
        self.image.setRect(rect)
        self.frame.setRect(rect)
        self.label.setText(text)
        self.span = (start, end)
        for item in (self.image, self.frame, self.label):
            item.show()
        self._place_label()

    def clear(self) -> None:
        self.span = None
        for item in (self.image, self.frame, self.label):
            item.hide()
        self.image.clear()

    def _place_label(self, *_: Any) -> None:
        """Keep the legend at the top left of the segment's visible part."""
        if self.span is None:
            return
        (x0, x1), (_y0, y1) = self.plot.getViewBox().viewRange()
        self.label.setPos(min(max(self.span[0], x0), max(x0, x1 - 0.1 * (x1 - x0))),
                          min(y1, ROW_RANGE[1]))


class WhyThisNote(QObject):
    """Explains the one selected note on a worker (owned by `gui.model_jobs`); the map goes
    when the selection changes. The window draws what `explained` gives on a `WhyOverlay`.

    Signals:
        started(): a note is being worked out.
        explained(object, float, float, str): the (rows, cols) map, its segment's start and
            end (s) and its legend.
        cleared(): the map is no longer wanted (another selection, an edit, a recording).
        finished(str): a status line ("" when the result was no longer wanted).
        failed(str): a one-line reason.
    """

    started = Signal()
    explained = Signal(object, float, float, str)
    cleared = Signal()
    finished = Signal(str)
    failed = Signal(str)

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self.job = JobSlot("why", self)
        self.job.finished.connect(self._done)
        self.job.cancelled.connect(lambda: self.finished.emit(""))
        self.job.failed.connect(self._failed)
        self.note = None  # the NoteEvent asked about (or shown)
        document.selectionChanged.connect(self._selection_changed)
        document.notesChanged.connect(self._notes_changed)
        document.audioChanged.connect(self.clear)

    @property
    def running(self) -> bool:
        return self.job.running

    def unavailable(self) -> str:
        """"" when the action can run now, else why not (for the action's tooltip)."""
        why = model_job_unavailable(self.doc)
        if why:
            return why
        if len(self.doc.selection) != 1:
            return "select exactly one note"
        return "already working out a note" if self.running else ""

    def start(self) -> str:
        """Explain the selected note; returns "" or why it cannot start."""
        why = self.unavailable()
        if why:
            return why
        path, _ = find_model()
        note = self.doc.selected_notes()[0]
        samples_16k = self.doc.samples_16k  # once per recording, on the worker: a long one's
        # resampling would hold the window, and a cancel stops it (audio.io.resample)

        def job(cancelled):
            load_model(path)  # the first job's load, left at once by a cancel
            from clef_app.model.explain import explain_selected

            samples = samples_16k()
            yield None  # a cancel before the model runs stops here
            ex = explain_selected(samples, SAMPLE_RATE, max(note.onset, 0.0), note.pitch, path)
            return (on_pitch_rows(ex.weights, ex.front_end), float(ex.start), float(ex.end),
                    bool(ex.found))

        self.clear()
        self.note = note
        self.job.start(job)
        self.started.emit()
        return ""

    def clear(self) -> None:
        """Hide the map and forget any explanation still being worked out."""
        self.job.drop()
        self.note = None
        self.cleared.emit()

    def _done(self, value) -> None:
        weights, start, end, found = value
        note = self.note
        text = f"Why this note? decoder attention × patch evidence, segment {start:.2f}–{end:.2f} s"
        if not found:
            text += "\n(the model does not write this note in this segment: map of its end)"
        self.explained.emit(weights, start, end, text)
        self.finished.emit(f"why pitch {note.pitch} at {note.onset:.2f} s: the green patches "
                           "are where the model looked" if found else
                           "the model does not write this note here; shown: where it looked "
                           "to end the segment")

    def _failed(self, message: str) -> None:
        self.note = None
        self.failed.emit(message)

    def _selection_changed(self) -> None:
        if self.note is not None and self.doc.selection != {self.note.id}:
            self.clear()

    def _notes_changed(self) -> None:
        """A moved, re-pitched or deleted note is no longer the one explained."""
        if self.note is None:
            return
        now = self.doc.notes.get(self.note.id)
        if now is None or (now.onset, now.pitch) != (self.note.onset, self.note.pitch):
            self.clear()
