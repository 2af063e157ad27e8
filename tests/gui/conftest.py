"""GUI tests run real widgets on Qt's offscreen platform, with their own QSettings.

`tiny_recording` is rendered here: three sine notes (C4, E4, G5) at 22.05 kHz with a
`.notes.tsv` of the same notes beside it, as the demo has.
"""

import os

import numpy as np
import pytest
import soundfile as sf

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RATE = 22_050  # Hz: not the model's rate, so opening resamples
TINY_NOTES = [(0.2, 1.0, 60), (1.2, 2.0, 64), (2.2, 2.8, 79)]  # (onset s, offset s, pitch)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """QSettings, recovery files and the model path point into a temporary folder."""
    from PySide6.QtCore import QSettings

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("CLEF_RECOVERY_DIR", str(tmp_path / "recovery"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "config"))
    import pyqtgraph as pg

    pg.setConfigOptions(mouseRateLimit=-1)  # tests move the mouse faster than 100 Hz
    yield


@pytest.fixture(scope="session")
def tiny_recording(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    t = np.arange(int(3.2 * RATE)) / RATE
    audio = np.zeros_like(t)
    for onset, offset, pitch in TINY_NOTES:
        f = 440.0 * 2 ** ((pitch - 69) / 12)
        gate = (t >= onset) & (t < offset)
        audio += 0.3 * gate * np.sin(2 * np.pi * f * t)
    path = folder / "tiny.wav"
    sf.write(path, audio.astype(np.float32), RATE)
    with open(folder / "tiny.notes.tsv", "w") as f:
        f.write("onset_s\toffset_s\tmidi_pitch\tvelocity\n")
        for onset, offset, pitch in TINY_NOTES:
            f.write(f"{onset}\t{offset}\t{pitch}\t80\n")
    return path


@pytest.fixture
def dialogs(monkeypatch):
    """Message boxes never block: each call is recorded as (kind, title, text).

    `question` answers Discard, so closing a window with edits does not wait for a user.
    """
    from PySide6.QtWidgets import QMessageBox

    shown = []

    def record(kind, answer):
        def show(parent, title, text, *args, **kwargs):
            shown.append((kind, title, text))
            return answer
        return show

    monkeypatch.setattr(QMessageBox, "warning", record("warning", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "critical", record("critical", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "information", record("information",
                                                           QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "question", record("question",
                                                        QMessageBox.StandardButton.Discard))
    return shown


@pytest.fixture
def window(qtbot, tiny_recording, dialogs):
    """The main window with the tiny recording open and its spectrogram drawn."""
    from clef_app.gui.app import make_application
    from clef_app.gui.main_window import MainWindow

    make_application()
    win = MainWindow()
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    view = win.spectrogram
    with qtbot.waitSignal(view.spectrogramReady, timeout=20_000):
        assert win.controller.open(tiny_recording)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5_000)  # window shortcuts need it
    view.graphics.setFocus()
    yield win
    win.document.undo_stack.setClean()
    win.close()
    win.deleteLater()


@pytest.fixture
def tiny_checkpoint(tmp_path, monkeypatch):
    """A random-init tiny Clef model saved as a checkpoint and installed via $CLEF_MODEL."""
    torch = pytest.importorskip("torch")
    from clef_app.config import ModelConfig
    from clef_app.model.checkpoint import save_checkpoint
    from clef_app.model.clef_model import ClefModel

    cfg = ModelConfig(encoder_blocks=1, bridge_layers=1, d_model=64, n_heads=2,
                      decoder_layers=1, max_tokens=48, dropout=0.0)
    torch.manual_seed(0)
    try:
        model = ClefModel.build(cfg).eval()
    except Exception as exc:  # no ImageNet weights on this machine
        pytest.skip(f"cannot build the model: {exc}")
    path = tmp_path / "tiny.safetensors"
    save_checkpoint(model, path, half=False)
    monkeypatch.setenv("CLEF_MODEL", str(path))
    return path
