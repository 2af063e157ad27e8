"""Editing notes on the spectrogram with real mouse and key events.

Each gesture is checked on the document, then after undo and redo.
"""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from clef_app.audio.logfreq import FPS, N_ROWS, pitch_row
from clef_app.gui.axes import KEY_WIDTH

from .conftest import TINY_NOTES
from .mouse import ALT, SHIFT, at, click, double_click, drag, wheel


def _note(doc, pitch):
    found = [n for n in doc.notes.values() if n.pitch == pitch]
    assert len(found) == 1, f"expected one note at pitch {pitch}, found {found}"
    return found[0]


def _mid(n):
    return (n.onset + n.offset) / 2


def _key(win, key, mods=Qt.KeyboardModifier.NoModifier):
    QTest.keyClick(win.spectrogram.graphics.viewport(), key, mods)


def test_open_draws_spectrogram_and_notes_on_their_pitch_rows(window):
    view, doc = window.spectrogram, window.document
    assert len(doc.notes) == 3
    spec = view.spectrogram
    assert spec.shape[1] == N_ROWS and abs(spec.shape[0] - 3.2 * FPS) <= 2
    for onset, offset, pitch in TINY_NOTES:
        frames = spec[int(onset * 100) + 5 : int(offset * 100) - 5]
        peak_row = int(np.argmax(frames.mean(axis=0)))
        assert peak_row == pitch_row(pitch), (pitch, peak_row)  # the key's middle row
        note = _note(doc, pitch)
        lo, hi = view.notes_item.band(pitch, view.notes_item._pixel()[1])
        assert lo <= pitch <= hi
        assert view.notes_item.hit(_mid(note), float(pitch))[0] == note.id
    labels = view.pitch_axis._labels
    assert "C4" in labels.values()
    c4_row = next(r for r, name in labels.items() if name == "C4")
    assert c4_row == pytest.approx(60.0, abs=1e-5)


def test_click_shift_click_and_empty_click_select(window):
    view, doc = window.spectrogram, window.document
    c4, e4 = _note(doc, 60), _note(doc, 64)
    click(view, at(view, _mid(c4), 60))
    assert doc.selection == {c4.id}
    click(view, at(view, _mid(e4), 64), SHIFT)
    assert doc.selection == {c4.id, e4.id}
    click(view, at(view, _mid(e4), 64), SHIFT)  # shift-click again removes it
    assert doc.selection == {c4.id}
    click(view, at(view, 3.0, 70))
    assert doc.selection == frozenset()
    assert doc.undo_stack.count() == 0  # selecting is not an edit


def test_rubber_band_selects_the_notes_it_touches(window):
    view, doc = window.spectrogram, window.document
    drag(view, at(view, 0.1, 67), at(view, 1.6, 58))
    assert doc.selection == {_note(doc, 60).id, _note(doc, 64).id}
    assert view.rubber.isVisible() is False


def test_drag_moves_in_time_and_snaps_pitch_then_undo_redo(window):
    view, doc = window.spectrogram, window.document
    c4 = _note(doc, 60)
    drag(view, at(view, 0.6, 60), at(view, 1.1, 62.3))
    moved = doc.notes[c4.id]
    assert moved.pitch == 62
    assert moved.onset == pytest.approx(0.7, abs=0.02)
    assert moved.duration == pytest.approx(c4.duration)
    assert window.named_actions["undo"].text() == "&Undo Move notes"
    _key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.notes[c4.id] == c4
    _key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
         | Qt.KeyboardModifier.ShiftModifier)
    assert doc.notes[c4.id] == moved


def test_drag_right_edge_resizes(window):
    view, doc = window.spectrogram, window.document
    e4 = _note(doc, 64)
    edge = at(view, e4.offset, 64) - QPoint(2, 0)
    drag(view, edge, edge + (at(view, 2.5, 64) - at(view, 2.0, 64)))
    resized = doc.notes[e4.id]
    assert resized.onset == e4.onset and resized.pitch == 64
    assert resized.offset == pytest.approx(2.5, abs=0.03)
    doc.undo_stack.undo()
    assert doc.notes[e4.id] == e4
    doc.undo_stack.redo()
    assert doc.notes[e4.id] == resized


def test_double_click_and_draw_tool_add_notes(window):
    view, doc = window.spectrogram, window.document
    double_click(view, at(view, 1.5, 72))
    new = _note(doc, 72)
    assert new.onset == pytest.approx(1.5, abs=0.02) and doc.selection == {new.id}
    _key(window, Qt.Key.Key_D)  # the Draw tool
    assert view.editor.draw_mode
    drag(view, at(view, 0.3, 84), at(view, 0.9, 84))
    drawn = _note(doc, 84)
    assert drawn.onset == pytest.approx(0.3, abs=0.02)
    assert drawn.offset == pytest.approx(0.9, abs=0.02)
    assert len(doc.notes) == 5
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert len(doc.notes) == 3
    doc.undo_stack.redo()
    assert _note(doc, 72) == new


def test_delete_key_removes_the_selection(window):
    doc = window.document
    c4, g5 = _note(doc, 60), _note(doc, 79)
    doc.set_selection({c4.id, g5.id})
    _key(window, Qt.Key.Key_Delete)
    assert set(n.pitch for n in doc.notes.values()) == {64}
    assert doc.undo_stack.undoText() == "Delete notes"
    doc.undo_stack.undo()
    assert doc.notes[c4.id] == c4 and doc.notes[g5.id] == g5
    doc.undo_stack.redo()
    assert len(doc.notes) == 1


def test_velocity_by_alt_wheel_and_spin_box(window):
    view, doc = window.spectrogram, window.document
    c4 = _note(doc, 60)
    click(view, at(view, _mid(c4), 60))
    wheel(view, at(view, _mid(c4), 60), 1, ALT)
    wheel(view, at(view, _mid(c4), 60), 1, ALT)
    assert doc.notes[c4.id].velocity == 90
    assert doc.undo_stack.count() == 1  # wheel steps merge into one edit
    assert window.velocity.value() == 90
    window.velocity.setValue(40)
    assert doc.notes[c4.id].velocity == 40
    doc.undo_stack.undo()
    assert doc.notes[c4.id].velocity == 80
    doc.undo_stack.redo()
    assert doc.notes[c4.id].velocity == 40


def test_arrow_keys_transpose_and_nudge(window):
    doc = window.document
    g5 = _note(doc, 79)
    doc.set_selection({g5.id})
    _key(window, Qt.Key.Key_Up)
    _key(window, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    assert doc.notes[g5.id].pitch == 79 + 1 + 12
    _key(window, Qt.Key.Key_Right)
    assert doc.notes[g5.id].onset == pytest.approx(g5.onset + 0.01)
    doc.undo_stack.undo()
    doc.undo_stack.undo()  # transposing twice merged into one step
    assert doc.notes[g5.id] == g5


def test_wheel_zooms_time_ctrl_wheel_zooms_pitch_and_fit_restores(window):
    view = window.spectrogram
    (x0, x1), (y0, y1) = view.vb.viewRange()
    wheel(view, at(view, 1.5, 64), 3)
    (a0, a1), (b0, b1) = view.vb.viewRange()
    assert a1 - a0 < 0.8 * (x1 - x0) and (b0, b1) == pytest.approx((y0, y1))
    wheel(view, at(view, 1.5, 64), 3, Qt.KeyboardModifier.ControlModifier)
    (c0, c1), (d0, d1) = view.vb.viewRange()
    assert d1 - d0 < 0.8 * (b1 - b0) and (c0, c1) == pytest.approx((a0, a1))
    window.named_actions["fit"].trigger()
    (e0, e1), (f0, f1) = view.vb.viewRange()
    assert e0 == pytest.approx(0.0, abs=0.05) and e1 == pytest.approx(3.2, abs=0.05)
    assert (f0, f1) == pytest.approx((20.5, 108.5))  # the piano, A0 to C8


def _ruler(view, t):
    scene_x = view.vb.mapViewToScene(QPointF(t, 0)).x()
    scene_y = view.time_axis.sceneBoundingRect().center().y()
    return view.graphics.mapFromScene(QPointF(scene_x, scene_y))


def test_time_ruler_click_seeks_and_drag_sets_the_loop(window):
    view, playback = window.spectrogram, window.playback
    if playback.player is None:
        pytest.skip("PortAudio is missing: there is no player to seek")
    click(view, _ruler(view, 1.5))
    assert playback.position() == pytest.approx(1.5, abs=0.02)
    drag(view, _ruler(view, 1.0), _ruler(view, 2.0))
    assert view.loop_region() == pytest.approx((1.0, 2.0), abs=0.02)
    assert window.transport.loop_button.isChecked()
    assert playback.player.loop == pytest.approx((1.0, 2.0), abs=0.02)
    window.named_actions["clear_loop"].trigger()
    assert view.loop_region() is None and playback.player.loop is None


def test_loop_selected_notes(window):
    doc, view = window.document, window.spectrogram
    doc.set_selection({_note(doc, 60).id, _note(doc, 64).id})
    _key(window, Qt.Key.Key_L)
    assert view.loop_region() == pytest.approx((0.2, 2.0))


def test_keyboard_strip_click_presses_that_key(window):
    view = window.spectrogram
    x = view.pitch_axis.sceneBoundingRect().right() - KEY_WIDTH * 0.2
    y = view.vb.mapViewToScene(QPointF(0, 64.0)).y()
    click(view, view.graphics.mapFromScene(QPointF(x, y)))
    assert view.pitch_axis.pressed == 64


def test_confidence_sets_colour_and_outline():
    from clef_app.gui.note_overlay import DOUBTFUL, confidence_bucket, note_style
    from clef_app.notation.confidence import ConfidenceBands

    low_pen, low_brush = note_style(confidence_bucket(0.1))
    mid_pen, mid_brush = note_style(confidence_bucket(0.23))  # the shipped model's median
    high_pen, high_brush = note_style(confidence_bucket(0.95))  # right note: solid, tinted
    assert low_pen.style() == Qt.PenStyle.DashLine
    assert mid_pen.style() == high_pen.style() == Qt.PenStyle.SolidLine
    low, mid, high = low_brush.color(), mid_brush.color(), high_brush.color()
    assert high.blue() - high.red() > 100  # confident: cyan
    assert low.saturation() < mid.saturation() < high.saturation()  # doubtful: pale
    assert low.alpha() < mid.alpha() < high.alpha()
    strict = ConfidenceBands(doubtful_below=0.5, confident_from=0.9)  # e.g. from a calibration
    assert confidence_bucket(0.23, strict) == DOUBTFUL
    assert confidence_bucket(0.9, strict) == confidence_bucket(0.95) > confidence_bucket(0.23)
