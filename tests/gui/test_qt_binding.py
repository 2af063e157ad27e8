"""The Qt binding keeps Python's reference counts right (PySide6 6.12.0 did not on 3.11).

Under Python 3.11, None is not immortal: a binding that returns None without a new
reference from every void method lets None's count fall to zero after a few seconds of
painting, and the interpreter aborts (`none_dealloc`). pyproject.toml excludes 6.12.
"""

import sys

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPen

CALLS = 2000


def test_void_methods_do_not_steal_references_to_none():
    image = QImage(32, 32, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    pen = QPen(QColor(10, 20, 30), 1)
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        painter.setPen(pen)
        painter.drawRect(QRectF(1, 1, 5, 5))
        pen.setCosmetic(True)
    lost = before - sys.getrefcount(None)
    painter.end()
    assert lost < CALLS // 10, f"{lost} references to None lost in {3 * CALLS} calls"
