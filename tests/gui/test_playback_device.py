"""Listening through a real PortAudio device: a private PulseAudio null sink."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from clef_app.gui import preferences
from clef_app.gui.app import start
from tests.audio.pulse_server import null_sink_server


def test_space_plays_the_cursor_follows_and_the_loop_holds(qtbot, tiny_recording, dialogs):
    with null_sink_server() as server:
        from clef_app.audio.devices import list_devices

        label = next(d.label for d in list_devices().outputs if d.index == server.output_device)
        preferences.put("audio/output_device", label)
        win = start(str(tiny_recording))
        try:
            playback, view = win.playback, win.spectrogram
            assert playback.available, playback.error
            qtbot.waitExposed(win)
            win.activateWindow()
            qtbot.waitUntil(win.isActiveWindow, timeout=5_000)  # shortcuts need it
            view.graphics.setFocus()
            viewport = view.graphics.viewport()
            QTest.keyClick(viewport, Qt.Key.Key_Space)
            assert playback.playing, win.statusBar().currentMessage()
            assert win.transport.play_button.text() == "Pause"
            qtbot.waitUntil(lambda: playback.position() > 0.4, timeout=5_000)
            qtbot.waitUntil(lambda: view.cursor.value() > 0.3, timeout=2_000)
            QTest.keyClick(viewport, Qt.Key.Key_Space)
            assert not playback.playing
            paused_at = playback.position()
            qtbot.wait(300)
            assert playback.position() == pytest.approx(paused_at, abs=0.01)

            view.set_loop(1.0, 1.4)  # marking a region turns looping on
            assert win.transport.loop_button.isChecked()
            playback.play()
            seen = []
            for _ in range(40):  # 1.2 s: the 0.4-s loop wraps at least twice
                qtbot.wait(30)
                seen.append(playback.position())
            playback.pause()
            shown = [round(x, 2) for x in seen]
            assert min(seen) >= 0.95 and max(seen) <= 1.45, shown
            assert any(b < a for a, b in zip(seen, seen[1:], strict=False)), shown  # it wrapped
        finally:
            win.document.undo_stack.setClean()
            win.close()
