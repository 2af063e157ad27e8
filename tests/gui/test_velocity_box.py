"""The toolbar's velocity box follows the selection: blank, one velocity, or "mixed"."""

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from .mouse import SHIFT, at, click


def _by_pitch(doc):
    return {n.pitch: n for n in doc.notes.values()}


def _key(box, key):
    box.setFocus()  # as a click into the box gives it (the note keys belong to the view)
    QTest.keyClick(box, key)


def _type(box, text):
    box.setFocus()
    box.lineEdit().selectAll()
    QTest.keyClicks(box, text)
    QTest.keyClick(box, Qt.Key.Key_Return)


def test_blank_and_disabled_without_a_selection(window):
    box = window.velocity
    assert not window.document.selection
    assert not box.isEnabled() and box.text().strip() == ""  # not the number 1 or 0


def test_shows_the_selected_velocity_and_sets_it(window, qtbot):
    view, doc, box = window.spectrogram, window.document, window.velocity
    c4 = _by_pitch(doc)[60]
    click(view, at(view, (c4.onset + c4.offset) / 2, 60))
    assert box.isEnabled() and box.text() == "80"
    _type(box, "100")
    assert doc.notes[c4.id].velocity == 100 and box.text() == "100"
    _key(box, Qt.Key.Key_Down)  # one step, merged with the typing: one undo step
    assert doc.notes[c4.id].velocity == 99
    doc.undo_stack.undo()
    assert doc.notes[c4.id].velocity == 80 and box.text() == "80"
    doc.set_selection(set())
    assert not box.isEnabled() and box.text().strip() == ""


def test_a_mixed_selection_says_so_and_steps_every_note(window):
    view, doc, box = window.spectrogram, window.document, window.velocity
    notes = _by_pitch(doc)
    c4, e4 = notes[60], notes[64]
    doc.set_selection({c4.id})
    _type(box, "60")
    click(view, at(view, (e4.onset + e4.offset) / 2, 64), SHIFT)
    assert doc.selection == {c4.id, e4.id}
    assert box.isEnabled() and box.text() == "mixed"
    _key(box, Qt.Key.Key_Up)  # relative: each note louder by the same step
    assert (doc.notes[c4.id].velocity, doc.notes[e4.id].velocity) == (65, 85)
    assert box.text() == "mixed"
    _key(box, Qt.Key.Key_Down)
    assert (doc.notes[c4.id].velocity, doc.notes[e4.id].velocity) == (60, 80)
    _type(box, "90")  # a typed value sets them all
    assert {doc.notes[c4.id].velocity, doc.notes[e4.id].velocity} == {90}
    assert box.text() == "90"
