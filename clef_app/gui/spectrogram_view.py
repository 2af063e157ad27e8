"""The spectrogram workspace: pitch-axis image, keyboard, time ruler, notes, cursor, loop.

x is seconds, y is the MIDI pitch: the image has `logfreq.ROWS_PER_SEMITONE` rows per key
from A0 to C8 (frame i centred at i / FPS s), so a note's fundamental lies at y = its pitch
and every key has the same height. The picture is the log-frequency spectrogram
(`clef_app.audio.logfreq`, the transform the bundled model reads) or, as an option, a
log-mel (earlier models' input) drawn on the same rows (preference "spectrogram/scale").
A long recording's picture fills in as it is computed, with a "computing" note in the
corner (`gui.spectrogram_image`). Navigation: wheel zooms time, Ctrl/Shift+wheel zooms
pitch, a middle- or right-button drag scrolls, Alt+wheel changes velocity, a right click on
a note opens its context menu.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QMenu, QVBoxLayout, QWidget

from clef_app.audio.logfreq import HIGH_EDGE, LOW_EDGE, SCALES
from clef_app.gui.axes import PitchAxis, TimeAxis
from clef_app.gui.document import Document
from clef_app.gui.note_overlay import NoteEditor, NotesItem
from clef_app.gui.spectrogram_image import SpectrogramImage

BACKGROUND = QColor(14, 14, 18)
DEFAULT_COLORMAP = "inferno"
DEFAULT_DB_RANGE = 60.0  # dB shown below the loudest bin
FOLLOW_MARGIN = 0.85  # fraction of the view: past it, following playback turns the page
ROW_RANGE = (LOW_EDGE, HIGH_EDGE)  # y (pitch) of the picture's bottom and top: the piano's
OPEN_WHOLE_SECONDS = 300.0  # s: a longer recording opens on its first OPEN_VIEW_SECONDS
OPEN_VIEW_SECONDS = 60.0


def colormap(name: str) -> pg.ColorMap:
    """pyqtgraph's colour map of that name; the default one for a name it does not know
    (a stale or hand-edited preference must not stop a view from opening)."""
    try:
        return pg.colormap.get(name)
    except (FileNotFoundError, KeyError, ValueError):
        return pg.colormap.get(DEFAULT_COLORMAP)


class NoteViewBox(pg.ViewBox):
    """Routes left-button gestures to the note editor; other buttons scroll and zoom, and a
    right click asks for a context menu."""

    menuRequested = Signal(float, float, object)  # t (s), pitch, screen position (QPointF)

    def __init__(self) -> None:
        super().__init__(enableMenu=False, defaultPadding=0.0)
        self.editor: NoteEditor | None = None

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.LeftButton and self.editor is not None:
            ev.accept()
            pos = self.mapToView(ev.pos())
            self.editor.click(pos.x(), pos.y(), ev.modifiers(), double=ev.double())
        elif ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            pos = self.mapToView(ev.pos())
            self.menuRequested.emit(pos.x(), pos.y(), ev.screenPos())

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        if axis is not None:  # a drag on an axis scrolls along it
            return super().mouseDragEvent(ev, axis=axis)
        ev.accept()
        if ev.button() == Qt.MouseButton.LeftButton and self.editor is not None:
            down = self.mapToView(ev.buttonDownPos(Qt.MouseButton.LeftButton))
            self.editor.drag(down, self.mapToView(ev.pos()), ev.modifiers(), ev.isStart(),
                             ev.isFinish())
            return None
        tr = pg.functions.invertQTransform(self.childGroup.transform())
        delta = tr.map(ev.lastPos()) - tr.map(ev.pos())
        self.translateBy(x=delta.x(), y=delta.y())
        return None

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802
        if axis is not None:
            return super().wheelEvent(ev, axis=axis)
        mods = ev.modifiers()
        if mods & Qt.KeyboardModifier.AltModifier:  # Qt may turn Alt+wheel horizontal
            if self.editor is not None and ev.delta():
                self.editor.step_velocity(1 if ev.delta() > 0 else -1)
            ev.accept()
        elif mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            super().wheelEvent(ev, axis=1)
        elif ev.orientation() == Qt.Orientation.Horizontal:
            (x0, x1), _ = self.viewRange()
            self.translateBy(x=-(x1 - x0) * ev.delta() / 1200.0)
            ev.accept()
        else:
            super().wheelEvent(ev, axis=0)
        return None

    def hoverEvent(self, ev) -> None:  # noqa: N802
        if self.editor is None:
            return
        if ev.isExit():
            self.editor.leave()
            return
        pos = self.mapToView(ev.pos())
        self.editor.hover(pos.x(), pos.y())


class SpectrogramView(QWidget):
    """Spectrogram with notes of one Document; owns the note editor."""

    seekRequested = Signal(float)
    loopChanged = Signal(float, float)  # (0, 0) = no loop
    pitchClicked = Signal(int)
    hoverInfo = Signal(str)
    spectrogramReady = Signal()

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self.note_actions: list[QAction] = []  # the context menu of a note (the window fills it)
        self.note_menu: QMenu | None = None  # the last one shown
        self._colormap = DEFAULT_COLORMAP
        self._db_range = DEFAULT_DB_RANGE
        self.scale = SCALES[0]
        self._build()
        self._apply_look()
        document.audioChanged.connect(self._audio_changed)
        document.notesChanged.connect(self._notes_changed)
        document.selectionChanged.connect(self._selection_changed)

    def _build(self) -> None:
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(BACKGROUND)
        self.graphics.ci.setContentsMargins(2, 6, 10, 2)
        self.vb = NoteViewBox()
        self.pitch_axis, self.time_axis = PitchAxis(), TimeAxis()
        self.plot = pg.PlotItem(viewBox=self.vb, axisItems={"left": self.pitch_axis,
                                                            "bottom": self.time_axis})
        for axis in (self.pitch_axis, self.time_axis):
            axis.setTextPen(QColor(205, 205, 210))
            axis.setPen(QColor(110, 110, 118))
        self.plot.hideButtons()
        self.graphics.addItem(self.plot)
        self.image = SpectrogramImage(self.plot)
        self.computing = QLabel("computing the spectrogram…", self.graphics)
        self.computing.setStyleSheet("background: rgba(20, 20, 26, 200); color: #e6e6ea; "
                                     "padding: 3px 8px; border-radius: 3px;")
        self.computing.hide()
        for octave in range(1, 9):  # a faint line at every C
            line = pg.InfiniteLine(float(12 * (octave + 1)), angle=0,
                                   pen=pg.mkPen(255, 255, 255, 38, width=1))
            self.plot.addItem(line, ignoreBounds=True)
        self.notes_item = NotesItem()
        self.plot.addItem(self.notes_item, ignoreBounds=True)
        self.found_item = NotesItem()  # a running transcription's notes, not in the document
        self.found_item.provisional = True
        self.plot.addItem(self.found_item, ignoreBounds=True)
        self.editor = NoteEditor(self.doc, self.notes_item)
        self.vb.editor = self.editor
        self.rubber = QGraphicsRectItem()
        pen = QPen(QColor(255, 255, 255, 200), 1, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.rubber.setPen(pen)
        self.rubber.setBrush(QColor(255, 255, 255, 30))
        self.rubber.setZValue(30)
        self.rubber.hide()
        self.plot.addItem(self.rubber, ignoreBounds=True)
        self.loop = pg.LinearRegionItem(brush=pg.mkBrush(110, 230, 140, 60),
                                        pen=pg.mkPen(110, 230, 140, 220, width=2))
        self.loop.setZValue(5)
        self.loop.hide()
        self.plot.addItem(self.loop, ignoreBounds=True)
        self.cursor = pg.InfiniteLine(0.0, angle=90, pen=pg.mkPen(255, 255, 255, 230, width=2))
        self.cursor.setZValue(40)
        self.plot.addItem(self.cursor, ignoreBounds=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self._connect()

    def _connect(self) -> None:
        self.time_axis.seekRequested.connect(self.seekRequested)
        self.time_axis.loopDragged.connect(self._loop_dragged)
        self.pitch_axis.pitchClicked.connect(self.pitchClicked)
        self.loop.sigRegionChangeFinished.connect(self._loop_moved)
        self.editor.hoverInfo.connect(self.hoverInfo)
        self.editor.cursorShape.connect(lambda shape: self.graphics.setCursor(shape))
        self.vb.sigRangeChanged.connect(lambda *_: self.notes_item.update())
        self.editor.previewChanged.connect(self._sync_rubber)
        self.vb.menuRequested.connect(self._note_menu)
        self.image.progress.connect(self._computing_progress)
        self.image.ready.connect(self.spectrogramReady)
        self.image.failed.connect(lambda msg: self.hoverInfo.emit(f"spectrogram failed: {msg}"))

    @property
    def spectrogram(self) -> np.ndarray | None:
        """The picture computed so far, (frames, rows) uint8 codes (`spectrogram_image`);
        None before a recording's first block."""
        img = self.image
        return None if img.codes is None or img.filled == 0 else img.codes[: img.filled]

    def _computing_progress(self, fraction: float) -> None:
        label = self.computing
        label.setVisible(fraction < 1.0)
        label.setText(f"computing the spectrogram… {100 * fraction:.0f} %")
        label.adjustSize()
        label.move(self.graphics.width() - label.width() - 14, 10)

    def _note_menu(self, t: float, row: float, screen_pos: QPointF) -> None:
        """Right click on a note: select it (unless it already is) and offer `note_actions`."""
        hit = self.notes_item.hit(t, row)
        if hit is None or not self.note_actions:
            return
        if hit[0] not in self.doc.selection:
            self.doc.set_selection({hit[0]})
        if self.note_menu is not None:
            self.note_menu.deleteLater()
        self.note_menu = QMenu(self.graphics)
        self.note_menu.addActions(self.note_actions)
        self.note_menu.popup(screen_pos.toPoint())

    def _sync_rubber(self) -> None:
        rect = self.editor.rubber
        self.rubber.setVisible(not rect.isEmpty())
        if not rect.isEmpty():
            self.rubber.setRect(rect)

    # -- document ----------------------------------------------------------------------
    def _audio_changed(self) -> None:
        self.image.clear()
        self._set_limits()
        self.fit_opened()
        doc = self.doc
        if doc.samples is not None:
            self.image.start(doc.samples, doc.sample_rate, self.scale, doc.samples_16k,
                             lambda: doc.available)

    def set_scale(self, scale: str) -> None:
        """"log-frequency" (the bundled model's picture) or "mel"; recomputes the picture."""
        scale = scale if scale in SCALES else SCALES[0]
        if scale != self.scale:
            self.scale = scale
            doc = self.doc
            if doc.samples is not None:
                self.image.start(doc.samples, doc.sample_rate, scale, doc.samples_16k,
                                 lambda: doc.available)

    def show_found(self, notes: list) -> None:
        """Draw a running transcription's notes as provisional ([] hides them)."""
        self.found_item.set_notes({n.id: n for n in notes})

    def _notes_changed(self) -> None:
        self.notes_item.set_notes(self.doc.notes)
        self._set_limits()

    def _selection_changed(self) -> None:
        self.pitch_axis.set_highlighted({n.pitch for n in self.doc.selected_notes()})

    # -- look --------------------------------------------------------------------------
    def set_look(self, colormap: str, db_range: float) -> None:
        self._colormap, self._db_range = colormap, float(db_range)
        self._apply_look()

    def _apply_look(self) -> None:
        self.image.set_look(colormap(self._colormap), self._db_range)

    # -- navigation --------------------------------------------------------------------
    def _set_limits(self) -> None:
        end = max(self.doc.duration, 1.0)
        self.vb.setLimits(xMin=-0.5, xMax=end + 2.0, yMin=ROW_RANGE[0] - 1, yMax=ROW_RANGE[1] + 1,
                          minXRange=0.05, minYRange=2.0)

    def fit(self) -> None:
        """Whole recording, the piano's whole range."""
        end = max(self.doc.duration, 1.0)
        self.vb.setRange(xRange=(0.0, end), yRange=ROW_RANGE, padding=0.0)

    def fit_opened(self) -> None:
        """What a newly opened recording shows: all of it, or the first minute of a long
        one (whose picture fills in from the start); the pitch range of its notes."""
        self.fit_notes_pitch()
        if self.doc.duration > OPEN_WHOLE_SECONDS:
            self.vb.setXRange(0.0, OPEN_VIEW_SECONDS, padding=0.0)

    def fit_notes_pitch(self) -> None:
        """Whole recording; pitch range of the notes with a margin (all of it if none)."""
        pitches = [n.pitch for n in self.doc.notes.values()]
        if not pitches:
            return self.fit()
        lo, hi = min(pitches) - 5.5, max(pitches) + 5.5
        end = max(self.doc.duration, 1.0)
        self.vb.setRange(xRange=(0.0, end), yRange=(max(lo, ROW_RANGE[0]), min(hi, ROW_RANGE[1])),
                         padding=0.0)
        return None

    def zoom(self, factor: float, axis: int = 0) -> None:
        """Zoom in (factor < 1) or out around the view centre along x (0) or y (1)."""
        scale = [None, None]
        scale[axis] = factor
        self.vb.scaleBy(x=scale[0], y=scale[1])

    def set_cursor(self, seconds: float, follow: bool = False) -> None:
        self.cursor.setValue(seconds)
        if follow:
            (x0, x1), _ = self.vb.viewRange()
            width = x1 - x0
            if seconds > x0 + FOLLOW_MARGIN * width or seconds < x0:
                start = max(-0.5, seconds - 0.1 * width)
                self.vb.setXRange(start, start + width, padding=0.0)

    # -- loop --------------------------------------------------------------------------
    def set_loop(self, start: float, end: float) -> None:
        """Show a loop region (end <= start hides it)."""
        if end <= start:
            self.loop.hide()
        else:
            self.loop.blockSignals(True)
            self.loop.setRegion((start, end))
            self.loop.blockSignals(False)
            self.loop.show()
        self.loopChanged.emit(*(self.loop_region() or (0.0, 0.0)))

    def loop_region(self) -> tuple[float, float] | None:
        if not self.loop.isVisible():
            return None
        a, b = self.loop.getRegion()
        return float(a), float(b)

    def _loop_dragged(self, start: float, end: float, finished: bool) -> None:
        self.loop.blockSignals(True)
        self.loop.setRegion((start, end))
        self.loop.blockSignals(False)
        self.loop.setVisible(end - start > 0.01)
        if finished:
            self.loopChanged.emit(*(self.loop_region() or (0.0, 0.0)))

    def _loop_moved(self) -> None:
        self.loopChanged.emit(*(self.loop_region() or (0.0, 0.0)))

    # -- helpers for tests and the window -------------------------------------------------
    def view_to_widget(self, t: float, row: float) -> QPointF:
        """Widget (viewport) coordinates of a data point."""
        scene = self.vb.mapViewToScene(QPointF(t, row))
        return QPointF(self.graphics.mapFromScene(scene))
