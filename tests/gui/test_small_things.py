"""The small things a user notices (issue 18): a pause sign every font can draw, a time
ruler on whole minutes, a readout that follows a transpose by key, F1 help that covers the
score and the shading, a hint in the empty score pane, and the demo's notes named as its
ground truth."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtTest import QTest

from clef_app.gui import file_actions
from clef_app.gui.axes import time_steps
from clef_app.gui.main_window import NO_RECORDING_HINT, SCORE_HINT


def test_play_and_pause_are_icons_and_their_text_has_every_glyph(window):
    button = window.transport.play_button
    for playing in (False, True, False):
        window.transport._state_changed(playing)
        assert not button.icon().isNull()
        assert button.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly
        metrics = QFontMetrics(button.font())
        assert all(metrics.inFontUcs4(ord(c)) for c in button.text()), button.text()
        assert button.text() == ("Pause" if playing else "Play")


@pytest.mark.parametrize("seconds, pixels, major", [(600, 1000, 60.0), (3600, 1400, 300.0),
                                                    (86.5, 1400, 10.0), (2.0, 1400, 0.2)])
def test_time_ruler_ticks_fall_on_whole_minutes_and_seconds(seconds, pixels, major):
    big, small = time_steps(seconds, pixels)
    assert big == major and (big / small) == pytest.approx(round(big / small))


def test_the_ruler_of_a_ten_minute_view_is_labelled_in_minutes(window):
    axis = window.spectrogram.time_axis
    ticks = axis.tickValues(0.0, 600.0, 1000.0)
    major = ticks[0][1]
    assert ticks[0][0] == 60.0 and all(t % 60 == 0 for t in major)
    assert axis.tickStrings(major[:3], 1.0, 60.0) == ["0:00", "1:00", "2:00"]


def test_the_status_readout_follows_a_transpose_by_key(window):
    view, doc = window.spectrogram, window.document
    c4 = next(n for n in doc.notes.values() if n.pitch == 60)
    view.editor.hover((c4.onset + c4.offset) / 2, 60.0)
    assert window.hover_label.text().startswith("C4 ")
    doc.set_selection({c4.id})
    QTest.keyClick(view.graphics.viewport(), Qt.Key.Key_Up)
    assert doc.notes[c4.id].pitch == 61
    assert window.hover_label.text().startswith("C♯4 ")  # the note it described, moved
    doc.undo_stack.undo()
    assert window.hover_label.text().startswith("C4 ")


def test_f1_help_covers_the_score_keys_and_what_the_shading_means(window):
    from clef_app.gui.menus import HELP_TEXT

    action = window.named_actions["shortcuts"]
    assert [k.toString() for k in action.shortcuts()] == ["F1"]
    for words in ("Working on the score", "3 4 5 6 7", "Ctrl+↑ ↓", "Insert", "respell",
                  "shading", "doubtful", "Pale grey, dashed", "Cyan, solid",
                  "not what the model heard"):
        assert words in HELP_TEXT, words


def test_an_empty_score_pane_says_how_to_get_a_score(window, qtbot):
    doc, hint = window.document, window.score_hint
    assert not hint.isVisibleTo(window)  # the tiny recording comes with notes
    window.named_actions["select_all"].trigger()
    window.named_actions["delete"].trigger()
    assert not doc.notes and hint.isVisibleTo(window) and hint.text() == SCORE_HINT
    assert hint.geometry() == window.score_view.rect()
    doc.undo_stack.undo()
    assert not hint.isVisibleTo(window)
    doc.load(None, None, 16_000)
    assert hint.isVisibleTo(window) and hint.text() == NO_RECORDING_HINT


@pytest.mark.skipif(not file_actions.DEMO.is_file(), reason="the demo recording is not built")
@pytest.mark.parametrize("how", ["menu", "command line"])
def test_the_demo_says_its_notes_are_its_ground_truth(window, how, qtbot):
    # ./packaging/run.sh opens the demo by its path, as `clef demo.flac` would
    opened = (window.controller.open_demo() if how == "menu" else
              window.controller.open(str(file_actions.DEMO)))
    assert opened and window.document.notes
    qtbot.wait(100)
    message = window.statusBar().currentMessage()
    assert "ground truth" in message and "not the model's" in message
