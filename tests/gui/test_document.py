"""The document: edits through the undo stack, signals, selection, history round trip."""

import numpy as np

from clef_app.gui.document import MERGE_NUDGE, Document
from clef_app.notation.edits import NoteEdit, SettingsEdit
from clef_app.notation.events import NoteEvent


def _doc(qtbot):
    doc = Document()
    notes = [NoteEvent(0.0, 0.5, 60, id=101), NoteEvent(1.0, 1.5, 62, id=102)]
    doc.load("x.wav", np.zeros(16000, np.float32), 16000, notes)
    return doc


def test_apply_undo_redo_and_menu_text(qtbot):
    doc = _doc(qtbot)
    a = doc.notes[101]
    with qtbot.waitSignal(doc.notesChanged):
        doc.replace_notes("Move notes", [a], [a.moved(0.5, 1)])
    assert doc.notes[101].pitch == 61
    assert doc.undo_stack.undoText() == "Move notes"
    doc.undo_stack.undo()
    assert doc.notes[101] == a
    doc.undo_stack.redo()
    assert doc.notes[101].onset == 0.5


def test_deleting_selected_notes_drops_them_from_the_selection(qtbot):
    doc = _doc(qtbot)
    doc.set_selection({101, 102, 999})
    assert doc.selection == {101, 102}
    with qtbot.waitSignal(doc.selectionChanged):
        doc.replace_notes("Delete note", [doc.notes[101]], [])
    assert doc.selection == {102}


def test_merged_nudges_are_one_undo_step(qtbot):
    doc = _doc(qtbot)
    a = doc.notes[101]
    doc.replace_notes("Nudge", [a], [a.moved(0.1)], MERGE_NUDGE)
    doc.replace_notes("Nudge", [doc.notes[101]], [doc.notes[101].moved(0.1)], MERGE_NUDGE)
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert doc.notes[101] == a


def test_settings_edit_signals_its_key(qtbot):
    doc = _doc(qtbot)
    with qtbot.waitSignal(doc.settingsChanged) as blocker:
        doc.set_setting("tempo", 90)
    assert blocker.args == ["tempo"] and doc.settings == {"tempo": 90}
    doc.undo_stack.undo()
    assert doc.settings == {}


def test_history_restores_an_undoable_stack(qtbot):
    doc = _doc(qtbot)
    a = doc.notes[101]
    doc.replace_notes("Move notes", [a], [a.moved(0.25)])
    doc.set_setting("meter", "3/4")
    doc.undo_stack.undo()  # the setting is undone, the move stays applied
    edits, index = doc.history()
    assert index == 1 and isinstance(edits[0], NoteEdit) and isinstance(edits[1], SettingsEdit)

    other = Document()
    other.load(None, None, 16000, doc.notes.values(), doc.settings)
    other.restore_history(edits, index)
    assert other.notes == doc.notes and other.settings == {}
    other.undo_stack.redo()
    assert other.settings == {"meter": "3/4"}
    other.undo_stack.undo()
    other.undo_stack.undo()
    assert other.notes[101] == a
