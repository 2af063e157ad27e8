"""Starting Clef: the demo on the first start, exports from the File menu, navigation."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from clef_app.gui import file_actions, preferences
from clef_app.gui.app import start
from clef_app.notation.events import read_notes_tsv

from .mouse import at, drag

DEMO = file_actions.DEMO


def _close(win):
    win.document.undo_stack.setClean()
    win.close()
    win.deleteLater()


@pytest.mark.skipif(not DEMO.is_file(), reason="the demo recording is not built yet")
def test_first_start_opens_the_demo_with_its_notes_later_starts_do_not(qtbot, dialogs):
    win = start(None)
    try:
        with qtbot.waitSignal(win.spectrogram.spectrogramReady, timeout=30_000):
            pass
        assert win.document.audio_path == DEMO
        truth = read_notes_tsv(DEMO.with_name("demo.notes.tsv"))
        assert sorted((n.onset, n.pitch) for n in win.document.notes.values()) == sorted(
            (n.onset, n.pitch) for n in truth)
        assert win.spectrogram.spectrogram.shape[0] >= int(win.document.duration * 100) - 1
        assert preferences.get("session/demo_shown") is True
    finally:
        _close(win)
    again = start(None)
    try:
        assert again.document.audio_path is None
    finally:
        _close(again)


def test_start_with_a_path_opens_it(qtbot, tiny_recording, dialogs):
    win = start(str(tiny_recording))
    try:
        assert win.document.audio_path == tiny_recording
        assert len(win.document.notes) == 3
        assert "tiny.wav" in win.windowTitle()
    finally:
        _close(win)


@pytest.mark.parametrize("kind", ["musicxml", "midi", "midi_score", "pdf", "mei"])
def test_file_export_writes_each_format(window, tmp_path, kind, qtbot, monkeypatch):
    suffix = file_actions.EXPORTS[kind][1]
    path = tmp_path / f"out{suffix}"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    with qtbot.waitSignal(window.controller.exports.finished, timeout=60_000) as done:
        window.named_actions[f"export_{kind}"].trigger()
    assert done.args == [str(path)]
    assert path.is_file() and path.stat().st_size > 50
    if suffix == ".musicxml":
        from music21 import converter

        pitches = [p.midi for n in converter.parse(path).flatten().notes for p in n.pitches]
        assert sorted(pitches) == [60, 64, 79]


def test_export_with_no_notes_says_so(window, dialogs, tmp_path):
    window.document.load(None, None, 16000, [])
    assert not window.controller.export(tmp_path / "empty.musicxml", "musicxml")
    assert dialogs[-1][1] == "Nothing to export"


def test_middle_drag_scrolls_and_follow_turns_the_page(window):
    view = window.spectrogram
    window.named_actions["zoom_in"].trigger()
    window.named_actions["zoom_in"].trigger()
    (x0, x1), (y0, y1) = view.vb.viewRange()
    drag(view, at(view, (x0 + x1) / 2, 64), at(view, x0 + 0.3 * (x1 - x0), 64),
         button=Qt.MouseButton.MiddleButton)
    (a0, a1), _ = view.vb.viewRange()
    assert a0 - x0 == pytest.approx(0.2 * (x1 - x0), rel=0.1)
    assert window.document.undo_stack.count() == 0 and not window.document.selection
    width = a1 - a0
    view.set_cursor(a0 + 0.95 * width, follow=True)
    (b0, b1), _ = view.vb.viewRange()
    assert b0 < a0 + 0.95 * width < b0 + 0.2 * width
    assert b1 - b0 == pytest.approx(width)
