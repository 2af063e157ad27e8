"""Score edits as document edits: applied to the notes, the rebuilt score shows them."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from clef_app.notation import note_edits as se
from clef_app.notation.events import NoteEvent
from clef_app.notation.score import build_score, written_pitch

SETTINGS = {"tempo": [[1, 120]], "meter": [[1, "4/4"]], "pickup": 0, "key": [[1, "C major"]]}


def line():
    # quarter notes at 120 BPM: C D E F | G A B C
    pitches = (60, 62, 64, 65, 67, 69, 71, 72)
    return [NoteEvent(0.5 * i, 0.5 * i + 0.45, p) for i, p in enumerate(pitches)]


def apply(notes, edit):
    by_id = {n.id: n for n in notes}
    edit.apply(by_id)
    return sorted(by_id.values(), key=lambda n: n.onset)


def test_transpose_and_undo_by_inverse():
    notes = line()
    edit = se.transpose(notes, [notes[2].id], 1)
    changed = apply(notes, edit)
    assert [n.pitch for n in changed][:4] == [60, 62, 65, 65]
    assert apply(changed, edit.inverse()) == notes


def test_set_length_makes_a_half_note_at_the_local_tempo():
    notes = line()
    r = build_score(notes, SETTINGS)
    edit = se.set_length(notes, [notes[0].id], F(2), r)
    after = apply(notes, edit)
    assert after[0].offset == pytest.approx(1.0, abs=0.01)  # 2 quarters at 120 BPM
    r2 = build_score(after, SETTINGS)
    assert r2.placed[notes[0].id].note.length == 2


def test_insert_rest_moves_the_note_and_everything_after_it():
    notes = line()
    r = build_score(notes, SETTINGS)
    after = apply(notes, se.insert_rest(notes, [notes[3].id], r))
    assert [n.onset for n in after[:3]] == [n.onset for n in notes[:3]]
    assert after[3].onset == pytest.approx(notes[3].onset + 0.5)
    r2 = build_score(after, SETTINGS)
    assert r2.placed[notes[3].id].note.start == 4


def test_respell_cycles_enharmonics_and_the_score_writes_it():
    notes = [NoteEvent(0.0, 0.45, 66)]
    settings = dict(SETTINGS)
    r = build_score(notes, settings)
    assert written_pitch(r, r.placed[notes[0].id].note, settings).name == "F#"
    edit = se.respell(settings, [notes[0].id], r)
    edit.apply(settings)
    r2 = build_score(notes, settings)
    assert written_pitch(r2, r2.placed[notes[0].id].note, settings).name == "G-"


def test_meter_and_key_from_a_bar_are_settings_edits():
    settings = dict(SETTINGS)
    edit = se.set_meter_from(settings, 2, "3/4")
    edit.apply(settings)
    assert settings["meter"] == [[1, "4/4"], [2, "3/4"]]
    se.set_key_from(settings, 2, "A minor").apply(settings)
    r = build_score(line(), settings)
    assert str(r.bars[1].meter) == "3/4" and r.key_at(2) == "A minor"
    with pytest.raises(ValueError):
        se.set_meter_from(settings, 2, "7/5")
    with pytest.raises(ValueError):
        se.set_key_from(settings, 2, "H major")


def test_delete_and_nothing_to_do():
    notes = line()
    assert se.delete(notes, [notes[0].id]).removed == (notes[0],)
    assert se.delete(notes, [999999]) is None
    assert se.transpose(notes, [], 1) is None
