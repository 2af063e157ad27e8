"""Edits as plain data: apply/inverse, composition, and the dict round trip."""

from dataclasses import replace

import pytest

from clef_app.notation.edits import NoteEdit, SettingsEdit, compose, edit_from_dict
from clef_app.notation.events import NoteEvent


def _notes():
    a = NoteEvent(0.0, 0.5, 60, 80, id=1, confidence=0.9)
    b = NoteEvent(0.5, 1.0, 64, 70, id=2)
    return a, b


def test_note_edit_apply_and_inverse_restore_the_notes():
    a, b = _notes()
    notes = {1: a, 2: b}
    moved = a.moved(0.25, 2)
    c = NoteEvent(2.0, 2.5, 67, id=3)
    edit = NoteEdit("Edit", removed=(a, b), added=(moved, c))
    edit.apply(notes)
    assert notes == {1: moved, 3: c}
    assert notes[1].pitch == 62 and notes[1].onset == 0.25
    edit.inverse().apply(notes)
    assert notes == {1: a, 2: b}


def test_compose_equals_applying_in_sequence():
    a, b = _notes()
    first = NoteEdit("Nudge", (a,), (a.moved(0.1),))
    second = NoteEdit("Nudge", (a.moved(0.1),), (a.moved(0.2), NoteEvent(3, 4, 70, id=9)))
    third = NoteEdit("Nudge", (NoteEvent(3, 4, 70, id=9),), ())
    seq = {1: a, 2: b}
    for e in (first, second, third):
        e.apply(seq)
    merged = {1: a, 2: b}
    compose(compose(first, second), third).apply(merged)
    assert merged == seq
    assert merged[1].onset == pytest.approx(0.2)
    assert 9 not in merged


def test_dict_round_trip_keeps_ids_confidence_and_kind():
    a, b = _notes()
    edit = NoteEdit("Change velocity", (a,), (replace(a, velocity=100),))
    back = edit_from_dict(edit.to_dict())
    assert back == edit
    assert back.removed[0].id == 1 and back.removed[0].confidence == 0.9
    s = SettingsEdit("Set tempo", "tempo", None, 96)
    assert edit_from_dict(s.to_dict()) == s
    with pytest.raises(ValueError):
        edit_from_dict({"kind": "macro"})


def test_settings_edit_none_removes_the_key():
    settings = {}
    edit = SettingsEdit("Set meter", "meter", None, "3/4")
    edit.apply(settings)
    assert settings == {"meter": "3/4"}
    edit.inverse().apply(settings)
    assert settings == {}
