"""The workspace's picture: log-frequency rows by default (every key the same height, A0 to
C8), the model's mel as an option, on the same pitch axis."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from clef_app.audio.logfreq import N_ROWS, ROWS_PER_SEMITONE, pitch_row
from clef_app.gui import preferences
from clef_app.gui.settings_dialog import SettingsDialog

from .conftest import TINY_NOTES


def _peak_rows(spec):
    return [int(np.argmax(spec[int(on * 100) + 5 : int(off * 100) - 5].mean(axis=0)))
            for on, off, _ in TINY_NOTES]


def test_default_picture_has_equal_rows_per_key_and_shows_the_piano(window):
    view = window.spectrogram
    assert view.scale == "log-frequency"
    assert view.spectrogram.shape[1] == N_ROWS and ROWS_PER_SEMITONE >= 2
    assert _peak_rows(view.spectrogram) == [pitch_row(p) for _, _, p in TINY_NOTES]
    view.fit()
    _, (y0, y1) = view.vb.viewRange()
    assert (y0, y1) == pytest.approx((20.5, 108.5))  # A0's lower edge to C8's upper
    y = [view.vb.mapViewToScene(QPointF(0, p)).y() for p in (20.5, 21.5, 44.5, 45.5, 107.5, 108.5)]
    key_px = [abs(y[i + 1] - y[i]) for i in (0, 2, 4)]
    assert max(key_px) - min(key_px) < 0.01  # A0 as tall as C8


def test_the_models_mel_is_an_option_drawn_on_the_same_pitch_axis(window, qtbot):
    view = window.spectrogram
    dialog = SettingsDialog(window)
    qtbot.addWidget(dialog)
    dialog.scale.setCurrentIndex(dialog.scale.findData("mel"))
    dialog.accept()
    with qtbot.waitSignal(view.spectrogramReady, timeout=20_000):
        window.apply_preferences()
    assert preferences.get("spectrogram/scale") == "mel" and view.scale == "mel"
    for row, (_, _, pitch) in zip(_peak_rows(view.spectrogram), TINY_NOTES, strict=True):
        assert abs(row - pitch_row(pitch)) <= ROWS_PER_SEMITONE, pitch  # mel is coarser
    lo, hi = view.image.levels()
    assert hi - lo == pytest.approx(preferences.get("spectrogram/db_range"))
