"""The main window: opening what cannot be read, importing, transcribing, playing, settings."""

import mido
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from clef_app.gui import preferences
from clef_app.gui.settings_dialog import SettingsDialog


def _state(win):
    doc = win.document
    return doc.audio_path, dict(doc.notes), doc.undo_stack.count(), len(doc.samples)


@pytest.mark.parametrize("content", [b"", b"RIFF\x24\x00\x00\x00WAVEfmt garbage" * 3,
                                     bytes(range(256)) * 40])
def test_unreadable_recording_shows_an_error_and_keeps_the_document(window, dialogs, tmp_path,
                                                                    content):
    before = _state(window)
    bad = tmp_path / "broken.wav"
    bad.write_bytes(content)
    assert window.controller.open(bad) is False
    assert dialogs and dialogs[-1][0] == "warning"
    assert "broken.wav" in dialogs[-1][2]
    assert _state(window) == before


def test_missing_file_is_named(window, dialogs, tmp_path):
    assert window.controller.open(tmp_path / "nowhere.flac") is False
    assert "nowhere.flac" in dialogs[-1][2] and "no such file" in dialogs[-1][2]


def _write_midi(path, pitches):
    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=500_000))  # 120 BPM: 1 beat = 0.5 s
    for p in pitches:
        track.append(mido.Message("note_on", note=p, velocity=64, time=0))
        track.append(mido.Message("note_off", note=p, velocity=0, time=480))
    mid.save(path)


def test_import_midi_replaces_the_notes_as_one_undo_step(window, tmp_path):
    doc = window.document
    old = dict(doc.notes)
    path = tmp_path / "tune.mid"
    _write_midi(path, [67, 69, 71])
    assert window.controller.open(path)
    got = doc.sorted_notes()
    assert [n.pitch for n in got] == [67, 69, 71]
    assert [n.onset for n in got] == pytest.approx([0.0, 0.5, 1.0])
    assert doc.audio_path.name == "tiny.wav"  # the recording stays
    doc.undo_stack.undo()
    assert doc.notes == old


def test_broken_midi_is_reported_and_changes_nothing(window, dialogs, tmp_path):
    old = dict(window.document.notes)
    path = tmp_path / "broken.mid"
    path.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    assert window.controller.open(path) is False
    assert "broken.mid" in dialogs[-1][2]
    assert window.document.notes == old


def test_transcribe_is_disabled_and_says_why_without_a_checkpoint(window, monkeypatch):
    import clef_app.model.location as location

    monkeypatch.setattr(location, "find_checkpoint", lambda: None)
    window.update_model_actions()
    action = window.named_actions["transcribe"]
    assert not action.isEnabled()
    assert "no trained model installed: models/clef.safetensors missing" in action.toolTip()
    before = dict(window.document.notes)
    QTest.keyClick(window.spectrogram.graphics.viewport(), Qt.Key.Key_T,
                   Qt.KeyboardModifier.ControlModifier)
    assert window.document.notes == before and not window.jobs.transcription.running


def test_transcribe_runs_on_a_worker_and_is_one_undo_step(window, tiny_checkpoint, qtbot):
    window.update_model_actions()
    action = window.named_actions["transcribe"]
    assert action.isEnabled()
    doc = window.document
    old = dict(doc.notes)
    steps = []
    window.jobs.transcription.progress.connect(steps.append)
    with qtbot.waitSignal(window.jobs.transcription.finished, timeout=120_000) as done:
        action.trigger()
        corner = window.transcribing
        assert corner.progress.isVisibleTo(window) and corner.cancel_button.isVisibleTo(window)
        assert not action.isEnabled()
    assert done.args[0].startswith("transcribed")
    assert steps and steps[-1] == pytest.approx(1.0)
    assert not window.transcribing.progress.isVisibleTo(window)
    if doc.notes != old:  # the random model may or may not write notes
        assert doc.undo_stack.undoText() == "Transcribe" and doc.undo_stack.count() == 1
        doc.undo_stack.undo()
    assert doc.notes == old


def test_space_plays_or_says_there_is_no_output(window, qtbot):
    playback = window.playback
    if playback.available:
        QTest.keyClick(window.spectrogram.graphics.viewport(), Qt.Key.Key_Space)
        assert playback.playing
        qtbot.waitUntil(lambda: playback.position() > 0.05, timeout=5_000)
        QTest.keyClick(window.spectrogram.graphics.viewport(), Qt.Key.Key_Space)
        assert not playback.playing
    else:
        window.statusBar().clearMessage()
        QTest.keyClick(window.spectrogram.graphics.viewport(), Qt.Key.Key_Space)
        assert "playback is off" in window.statusBar().currentMessage()
        assert window.audio_label.text() == "no audio output"


def test_preferences_change_the_spectrogram_and_persist(window, qtbot):
    dialog = SettingsDialog(window)
    qtbot.addWidget(dialog)
    dialog.colormap.setCurrentText("viridis")
    dialog.db_range.setValue(40.0)
    dialog.accept()
    window.apply_preferences()
    levels = window.spectrogram.image.levels()
    assert levels[1] - levels[0] == pytest.approx(40.0)
    assert preferences.get("spectrogram/colormap") == "viridis"
    assert preferences.get("spectrogram/db_range") == 40.0


def test_window_and_splitter_state_are_restored(window, qtbot, dialogs):
    from clef_app.gui.main_window import MainWindow

    window.splitter.setSizes([500, 200])
    sizes = window.splitter.sizes()
    window.close()
    again = MainWindow()
    qtbot.addWidget(again)
    again.show()
    top, bottom = again.splitter.sizes()
    assert top / bottom == pytest.approx(sizes[0] / sizes[1], rel=0.03)
    again.close()


def test_the_live_dock_opens_only_when_asked_and_leaves_the_workspace_room(window, qtbot):
    from clef_app.gui.main_window import LIVE_DOCK_SHARE, MainWindow

    dock, action = window.live_dock, window.named_actions["live"]
    assert not dock.isVisible()
    action.trigger()
    assert dock.isVisible()
    qtbot.waitUntil(lambda: dock.width() <= window.width() * LIVE_DOCK_SHARE + 1, timeout=2000)
    window.resizeDocks([dock], [int(window.width() * 0.55)], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: dock.width() > window.width() * 0.45, timeout=2000)  # widened
    window.close()  # saves the state with the dock open and wide

    again = MainWindow()
    qtbot.addWidget(again)
    again.resize(1200, 800)
    again.show()
    qtbot.waitExposed(again)
    assert not again.live_dock.isVisible() and again.live_panel.input is None
    assert not again.named_actions["live"].isChecked()
    assert again.centralWidget().width() > 0.95 * again.width()
    again.named_actions["live"].trigger()
    assert again.live_dock.isVisible()
    qtbot.waitUntil(lambda: again.live_dock.width() <= again.width() * LIVE_DOCK_SHARE + 1,
                    timeout=2000)
    assert again.live_dock.width() > 300  # the panel still fits
    again.close()


def test_notes_are_shaded_by_the_installed_models_calibration(qtbot, tmp_path, monkeypatch,
                                                              dialogs):
    import json

    from clef_app.gui.main_window import MainWindow
    from clef_app.model.checkpoint import BUNDLED
    from clef_app.notation.confidence import ConfidenceBands

    model = tmp_path / "calibrated.safetensors"
    model.symlink_to(BUNDLED)
    meta = json.loads(BUNDLED.with_suffix(".json").read_text())
    meta["calibration"] = {"confidence": [0.1, 0.3, 0.5], "precision": [0.2, 0.6, 1.0]}
    model.with_suffix(".json").write_text(json.dumps(meta))
    monkeypatch.setenv("CLEF_MODEL", str(model))
    win = MainWindow()
    qtbot.addWidget(win)
    expected = ConfidenceBands(doubtful_below=0.2, confident_from=0.4)
    for item in (win.spectrogram.notes_item, win.live_panel.notes_item,
                 win.live_panel.sounding_item):
        assert item.bands.doubtful_below == pytest.approx(expected.doubtful_below)
        assert item.bands.confident_from == pytest.approx(expected.confident_from)
    win.close()


def test_a_stale_colour_map_preference_still_opens_the_window(window, qtbot):
    from clef_app.gui.main_window import MainWindow

    preferences.put("spectrogram/colormap", "no-such-map")  # e.g. from an older Clef
    again = MainWindow()  # the live panel and the spectrogram fall back to the default map
    qtbot.addWidget(again)
    assert again.live_panel.image.lut is not None
    again.close()


def test_score_pane_shows_the_notes_and_follows_the_selection(window, qtbot):
    score = window.score_view
    qtbot.waitUntil(lambda: score.result is not None, timeout=60_000)
    assert sorted(n.id for n in score.notes) == sorted(window.document.notes)
    some = next(iter(window.document.notes))
    window.document.set_selection({some})
    assert score.selected == {some}


def test_a_finished_live_recording_becomes_the_document(window, tiny_recording):
    from clef_app.notation.events import NoteEvent

    panel = window.live_panel
    panel.recorded_notes = [NoteEvent(0.5, 1.0, 72, 90)]
    panel.recordingFinished.emit(str(tiny_recording))
    assert window.document.audio_path == tiny_recording
    assert [n.pitch for n in window.document.notes.values()] == [72]
