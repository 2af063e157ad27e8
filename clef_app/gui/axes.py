"""The spectrogram's axes: a pitch axis that is also a playable keyboard, and a time ruler.

The vertical data coordinate is the MIDI pitch (the spectrogram's rows are on a semitone
grid, `clef_app.audio.logfreq`), so every key has the same height and lies exactly beside
the rows where its fundamental shows.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QPen

from clef_app.config import MIDI_MAX, MIDI_MIN

NAMES = ("C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B")
BLACK = {1, 3, 6, 8, 10}
KEY_WIDTH = 34  # px: the keyboard strip
LABEL_WIDTH = 34  # px: room for "C♯7" left of the keys
MIN_KEY_PX = 1.5  # px: thinner keys are drawn as a plain strip

WHITE_KEY = QColor(222, 222, 216)
BLACK_KEY = QColor(38, 38, 42)
KEY_LINE = QColor(120, 120, 120)
KEY_HIGHLIGHT = QColor(90, 200, 255)
KEY_PRESSED = QColor(255, 190, 60)


def pitch_name(pitch: int) -> str:
    """Scientific pitch notation: 60 -> C4."""
    return f"{NAMES[pitch % 12]}{pitch // 12 - 1}"


def pitch_bounds(pitch: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper y of a key's band (p - 0.5 .. p + 0.5)."""
    p = np.asarray(pitch, dtype=np.float64)
    return p - 0.5, p + 0.5


class PitchAxis(pg.AxisItem):
    """Left axis: note names (every C, more when zoomed in) beside a clickable keyboard."""

    pitchClicked = Signal(int)

    def __init__(self) -> None:
        super().__init__("left")
        self.setStyle(tickLength=0, tickTextOffset=KEY_WIDTH + 5, autoExpandTextSpace=False,
                      hideOverlappingLabels=True)
        self.setWidth(KEY_WIDTH + LABEL_WIDTH)
        self._labels: dict[float, str] = {}
        self.highlighted: set[int] = set()
        self.pressed: int | None = None

    # -- ticks -------------------------------------------------------------------------
    def tickValues(self, minVal: float, maxVal: float, size: float):  # noqa: N802, N803
        if maxVal <= minVal or size <= 0:
            return []
        px_per_row = size / (maxVal - minVal)
        text_px = QFontMetricsF(self.font()).height() * 0.9
        pitches = np.arange(0, 128)
        rows = pitches.astype(np.float64)
        visible = (rows >= minVal) & (rows <= maxVal)
        # C's first, then the other white keys; keep a label only if it has room
        white = [p for p in pitches[visible] if p % 12 not in BLACK]
        order = sorted(white, key=lambda p: (p % 12 != 0, -p))
        placed: list[float] = []
        self._labels = {}
        for p in order:
            y = float(rows[p]) * px_per_row
            if all(abs(y - q) >= text_px for q in placed):
                placed.append(y)
                self._labels[round(float(rows[p]), 6)] = pitch_name(int(p))
        return [(1.0, sorted(self._labels))]

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        return [self._labels.get(round(float(v), 6), "") for v in values]

    # -- keyboard ----------------------------------------------------------------------
    def _key_rect(self, pitch: int, x0: float, width: float) -> QRectF | None:
        view = self.linkedView()
        lo, hi = pitch_bounds(pitch)
        y_lo = self.mapFromScene(view.mapViewToScene(QPointF(0, float(lo)))).y()
        y_hi = self.mapFromScene(view.mapViewToScene(QPointF(0, float(hi)))).y()
        return QRectF(x0, min(y_lo, y_hi), width, abs(y_lo - y_hi))

    def paint(self, p, opt, widget) -> None:
        view = self.linkedView()
        if view is not None:
            self._paint_keys(p, view)
        super().paint(p, opt, widget)

    def _paint_keys(self, p, view) -> None:
        bounds = self.mapRectFromParent(self.geometry())
        x0 = bounds.right() - KEY_WIDTH
        y_min, y_max = view.viewRange()[1]
        p.save()
        p.setClipRect(bounds)
        p.fillRect(QRectF(x0, bounds.top(), KEY_WIDTH, bounds.height()), QColor(60, 60, 64))
        p.setPen(Qt.PenStyle.NoPen)
        for pitch in range(MIDI_MIN, MIDI_MAX + 1):
            lo, hi = pitch_bounds(pitch)
            if hi < y_min or lo > y_max:
                continue
            rect = self._key_rect(pitch, x0, KEY_WIDTH)
            if rect.height() < MIN_KEY_PX:
                p.fillRect(rect, QColor(150, 150, 150))
                continue
            black = pitch % 12 in BLACK
            colour = BLACK_KEY if black else WHITE_KEY
            if pitch == self.pressed:
                colour = KEY_PRESSED
            elif pitch in self.highlighted:
                colour = KEY_HIGHLIGHT
            if black:
                p.fillRect(rect, WHITE_KEY)
                rect.setWidth(KEY_WIDTH * 0.62)
            p.fillRect(rect, colour)
            if pitch % 12 in (0, 5):  # the line between two adjacent white keys
                p.setPen(QPen(KEY_LINE, 0))
                p.drawLine(QPointF(x0, rect.bottom()), QPointF(x0 + KEY_WIDTH, rect.bottom()))
                p.setPen(Qt.PenStyle.NoPen)
        p.restore()

    def pitch_at(self, y_item: float) -> int | None:
        """The key under an item-coordinate y, or None outside the piano range."""
        view = self.linkedView()
        row = view.mapSceneToView(self.mapToScene(QPointF(0, y_item))).y()
        pitch = int(round(row))
        return pitch if MIDI_MIN <= pitch <= MIDI_MAX else None

    def mouseClickEvent(self, event) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mouseClickEvent(event)
        bounds = self.mapRectFromParent(self.geometry())
        if event.pos().x() < bounds.right() - KEY_WIDTH - LABEL_WIDTH:
            return None
        pitch = self.pitch_at(event.pos().y())
        if pitch is not None:
            event.accept()
            self.pitchClicked.emit(pitch)
        return None

    def set_pressed(self, pitch: int | None) -> None:
        self.pressed = pitch
        self.update()

    def set_highlighted(self, pitches: set[int]) -> None:
        if pitches != self.highlighted:
            self.highlighted = set(pitches)
            self.update()


def format_time(seconds: float, resolution: float = 1.0) -> str:
    """m:ss with as many decimals as `resolution` (s) needs: 65.25 -> 1:05.25."""
    sign = "-" if seconds < 0 else ""
    m, s = divmod(abs(seconds), 60.0)
    if resolution >= 1:
        return f"{sign}{int(m)}:{int(s):02d}"
    digits = 1 if resolution >= 0.1 else 2
    return f"{sign}{int(m)}:{s:0{3 + digits}.{digits}f}"


# s: the ruler's tick steps, each a whole number of the one before it's unit, so that a
# minute-long step falls on whole minutes (pyqtgraph's 1-2-5 steps gave 0:50, 1:40, ...)
TIME_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0,
              300.0, 600.0, 900.0, 1800.0, 3600.0)
MAJOR_TICK_PX = 90  # px: the least room between two labelled ticks
MINOR_TICK_PX = 12  # px: between two unlabelled ones


def time_steps(seconds: float, pixels: float) -> tuple[float, float]:
    """(major, minor) tick steps in s for `seconds` shown over `pixels`: the smallest
    TIME_STEPS step with MAJOR_TICK_PX of room, and the smallest that divides it with
    MINOR_TICK_PX."""
    per_px = seconds / max(pixels, 1.0)
    major = next((s for s in TIME_STEPS if s / per_px >= MAJOR_TICK_PX), TIME_STEPS[-1])
    minor = next((s for s in TIME_STEPS if s / per_px >= MINOR_TICK_PX
                  and abs(major / s - round(major / s)) < 1e-9), major)
    return major, minor


class TimeAxis(pg.AxisItem):
    """Bottom ruler in m:ss on whole seconds and minutes; a click seeks, a drag marks a
    loop region."""

    seekRequested = Signal(float)
    loopDragged = Signal(float, float, bool)  # start, end, finished

    def __init__(self) -> None:
        super().__init__("bottom")
        self.setHeight(34)
        self.setLabel("time  ·  click to seek, drag to set the loop")

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802, N803
        if maxVal <= minVal or size <= 0:
            return []
        major, minor = time_steps(maxVal - minVal, size)
        return [(major, 0.0), (minor, 0.0)]

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        return [format_time(v, spacing) for v in values]

    def _time_at(self, scene_pos) -> float:
        return float(self.linkedView().mapSceneToView(scene_pos).x())

    def mouseClickEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self.linkedView() is not None:
            event.accept()
            self.seekRequested.emit(max(0.0, self._time_at(event.scenePos())))

    def mouseDragEvent(self, event) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton or self.linkedView() is None:
            return super().mouseDragEvent(event)
        event.accept()
        a = self._time_at(event.buttonDownScenePos())
        b = self._time_at(event.scenePos())
        self.loopDragged.emit(max(0.0, min(a, b)), max(0.0, a, b), event.isFinish())
        return None
