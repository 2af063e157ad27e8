"""A horizontal input-level meter (peak dBFS) with a held peak mark."""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

METER_FLOOR = -60.0  # dBFS at the meter's left end
PEAK_HOLD_SECONDS = 1.5


class LevelMeter(QWidget):
    """A horizontal peak meter in dBFS with a held peak mark."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.level = METER_FLOOR
        self.peak, self._peak_time = METER_FLOOR, 0.0
        self.setMinimumSize(120, 14)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Input level (peak, dBFS)")

    def set_level(self, dbfs: float) -> None:
        self.level = max(METER_FLOOR, min(0.0, dbfs))
        now = time.monotonic()
        if self.level >= self.peak or now - self._peak_time > PEAK_HOLD_SECONDS:
            self.peak, self._peak_time = self.level, now
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        r = self.rect().adjusted(0, 0, -1, -1)
        p.fillRect(r, QColor(30, 30, 34))
        frac = (self.level - METER_FLOOR) / -METER_FLOOR
        colour = QColor(80, 200, 120) if self.level < -12 else (
            QColor(235, 200, 60) if self.level < -3 else QColor(235, 70, 60))
        p.fillRect(QRectF(r.x(), r.y(), r.width() * frac, r.height()), colour)
        x = r.x() + r.width() * (self.peak - METER_FLOOR) / -METER_FLOOR
        p.setPen(QColor(240, 240, 240))
        p.drawLine(int(x), r.top(), int(x), r.bottom())
        p.setPen(QColor(90, 90, 96))
        p.drawRect(r)
