"""The document owns the selection, and the spectrogram and the score edit through one
vocabulary: Shift+click in the score extends the document's selection, and the same key
makes the same edit, with the same undo name, in either view."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def score(window, qtbot):
    view = window.score_view
    qtbot.waitUntil(lambda: view.result is not None, timeout=60_000)
    return view


def _click_in_score(score, qtbot, note_id, modifier=Qt.KeyboardModifier.NoModifier):
    rect = score.note_rect(note_id)
    assert rect is not None
    score.ensureVisible(int(rect.center().x()), int(rect.center().y()))
    qtbot.mouseClick(score.pages_widget, Qt.MouseButton.LeftButton, modifier,
                     rect.center().toPoint())


def test_shift_click_in_the_score_extends_the_selection(window, score, qtbot):
    a, b, c = (n.id for n in window.document.sorted_notes())
    _click_in_score(score, qtbot, a)
    assert window.document.selection == {a}
    _click_in_score(score, qtbot, c, SHIFT)
    assert window.document.selection == {a, c}
    assert window.spectrogram.notes_item.selection == {a, c}  # the other view shows it
    _click_in_score(score, qtbot, a, SHIFT)  # Shift+click again takes it out
    assert window.document.selection == {c}


def _key_in_spectrogram(window, key):
    window.spectrogram.graphics.setFocus()
    QTest.keyClick(window.spectrogram.graphics.viewport(), key)


def _key_in_score(window, key):
    window.score_view.setFocus()
    QTest.keyClick(window.score_view, key)


@pytest.mark.parametrize("key, name", [(Qt.Key.Key_Up, "Transpose"),
                                       (Qt.Key.Key_Down, "Transpose"),
                                       (Qt.Key.Key_Delete, "Delete notes"),
                                       (Qt.Key.Key_BracketRight, "Change velocity"),
                                       (Qt.Key.Key_J, "Respell")])
def test_the_same_key_makes_the_same_edit_in_both_views(window, score, key, name):
    doc = window.document
    first = doc.sorted_notes()[0]
    results = []
    for press in (_key_in_spectrogram, _key_in_score):
        doc.set_selection({first.id})
        press(window, key)
        assert doc.undo_stack.undoText() == name, press.__name__
        results.append((sorted((n.id, n.pitch, n.onset, n.offset, n.velocity)
                               for n in doc.notes.values()), doc.settings.get("spelling")))
        doc.undo_stack.undo()
    assert results[0] == results[1]
