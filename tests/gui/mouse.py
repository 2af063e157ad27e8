"""Real mouse and wheel events on the spectrogram, addressed in data coordinates.

QTest cannot move the mouse with a button held, so moves are QMouseEvents sent to the
graphics view's viewport, which is what a real mouse produces.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

LEFT = Qt.MouseButton.LeftButton
NO_MODS = Qt.KeyboardModifier.NoModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
ALT = Qt.KeyboardModifier.AltModifier


def at(view, t: float, pitch: float) -> QPoint:
    """Viewport pixel of time t (s) on the row of `pitch` (MIDI; the view's y)."""
    return view.view_to_widget(t, float(pitch)).toPoint()


def _send(view, kind, pos: QPoint, button, buttons, mods) -> None:
    vp = view.graphics.viewport()
    ev = QMouseEvent(kind, QPointF(pos), QPointF(vp.mapToGlobal(pos)), button, buttons, mods)
    QApplication.sendEvent(vp, ev)


def click(view, pos: QPoint, mods=NO_MODS, button=LEFT) -> None:
    QTest.mouseClick(view.graphics.viewport(), button, mods, pos)


def double_click(view, pos: QPoint) -> None:
    vp = view.graphics.viewport()
    QTest.mouseClick(vp, LEFT, NO_MODS, pos)
    _send(view, QEvent.Type.MouseButtonDblClick, pos, LEFT, LEFT, NO_MODS)
    _send(view, QEvent.Type.MouseButtonRelease, pos, LEFT, Qt.MouseButton.NoButton, NO_MODS)


def drag(view, start: QPoint, end: QPoint, mods=NO_MODS, button=LEFT, steps: int = 8) -> None:
    """Press at start, move in steps, release at end."""
    _send(view, QEvent.Type.MouseButtonPress, start, button, button, mods)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        _send(view, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, button, mods)
    _send(view, QEvent.Type.MouseButtonRelease, end, button, Qt.MouseButton.NoButton, mods)


def wheel(view, pos: QPoint, steps: int = 1, mods=NO_MODS) -> None:
    """`steps` notches of a vertical mouse wheel (positive: away from the user)."""
    vp = view.graphics.viewport()
    ev = QWheelEvent(QPointF(pos), QPointF(vp.mapToGlobal(pos)), QPoint(0, 0),
                     QPoint(0, 120 * steps), Qt.MouseButton.NoButton, mods,
                     Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, ev)
