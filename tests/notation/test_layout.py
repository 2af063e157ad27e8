"""Hands, voices and written lengths: what a pianist would write for what they played."""

from __future__ import annotations

from fractions import Fraction as F

from clef_app.notation.events import NoteEvent
from clef_app.notation.layout import layout
from clef_app.notation.quantize import QNote, pedal_released
from clef_app.notation.score import build_score

SETTINGS = {"tempo": [[1, 120]], "meter": [[1, "4/4"]], "pickup": 0, "key": [[1, "C major"]]}


def q(pitch, start, end, pedalled=False):
    return QNote(id=hash((pitch, start)) & 0xFFFFFF, pitch=pitch, start=F(start), end=F(end),
                 pedalled=pedalled)


def test_hands_follow_the_music_better_than_a_fixed_split():
    # K. 545: the left hand's Alberti bass lies above middle C, the right hand's runs dip below
    from clef_app.notation.quality import Piece, load_piece, play

    piece = Piece("mozart/k545/movement1_exposition.mxl", 12, 112)
    _, written, (_, bar), _, pickup = load_piece(piece)
    notes = play(written, piece, 0, bar, pickup)
    staff = {w.id: w.staff for w in written}

    def agreement(settings):
        r = build_score(notes, settings)
        return sum(r.placed[i].staff == staff[i] for i in staff if i in r.placed) / len(staff)

    clef, fixed = agreement({}), agreement({"split": 60})
    assert clef > 0.95 and clef > fixed + 0.1, (clef, fixed)


def test_held_bass_under_moving_notes_gets_its_own_voice():
    notes = [q(48, 0, 4)] + [q(55 + i % 3, i, i + 1) for i in range(4)]
    placed = layout(notes, split=60)
    bass = next(p for p in placed if p.note.pitch == 48)
    assert bass.note.end == 4 and {p.voice for p in placed} == {1, 2}
    assert all(p.voice != bass.voice for p in placed if p.note.pitch != 48)


def test_notes_the_pedal_held_are_written_at_their_played_length():
    # eighths of a broken chord, all sounding to the pedal release at the bar line
    spb = 0.5
    notes = [NoteEvent(0.25 * i, 2.0, p) for i, p in enumerate([48, 55, 60, 64, 67, 72, 76, 79])]
    assert pedal_released(notes) == {n.id for n in notes}
    r = build_score(notes, SETTINGS)
    lengths = {r.placed[n.id].note.length for n in notes[:-1]}
    assert lengths == {F(1, 2)}, lengths  # 0.25 s at 120 BPM = an eighth
    assert spb == 0.5


def test_two_notes_ending_together_are_not_a_pedal_release():
    notes = [NoteEvent(0.0, 1.0, 60), NoteEvent(0.5, 1.0, 64)]
    assert pedal_released(notes) == set()


def test_a_pedalled_line_with_no_next_note_is_written_to_the_next_onset():
    # a held top note whose line does not go on: the pedal's ringing, not a second voice
    notes = [q(72, 0, 4, pedalled=True), q(64, 0, 4, pedalled=True)]
    notes += [q(60 + i % 3, F(1, 2) * i, 4, pedalled=True) for i in range(1, 8)]
    top = next(p for p in layout(notes, split=48) if p.note.pitch == 72)
    assert top.note.end == F(1, 2)
    played = [q(72, 0, 4), q(64, 0, F(1, 2))]
    played += [q(60 + i % 3, F(1, 2) * i, F(1, 2) * (i + 1)) for i in range(1, 8)]
    held = next(p for p in layout(played, split=48) if p.note.pitch == 72)
    assert held.note.end == 4  # without the pedal a key held that long is a held note


def test_in_a_pedalled_performance_every_note_may_ring_on():
    from clef_app.notation.quantize import PEDAL_IN_USE, quantize
    from clef_app.notation.timemap import TempoMap

    # a melody over broken chords, the pedal changed every bar: most notes end together
    notes = []
    for bar in range(4):
        t0, up = 2.0 * bar, 2.0 * bar + 2.05
        notes += [NoteEvent(t0 + 0.25 * i, up, 48 + 4 * (i % 3)) for i in range(8)]
        notes += [NoteEvent(t0, t0 + 0.9, 72 + bar), NoteEvent(t0 + 1.0, up, 74 + bar)]
    released = pedal_released(notes)
    assert PEDAL_IN_USE * len(notes) <= len(released) < len(notes)
    qnotes = quantize(notes, TempoMap.constant(120.0))
    assert all(qn.pedalled for qn in qnotes)


def test_pedalled_corpus_performance_keeps_written_lengths():
    # K. 156/iv played legato with the pedal changed at every bar line (score-eval --pedal)
    from clef_app.notation.quality import PIECES, evaluate_piece

    piece = next(p for p in PIECES if p.work == "mozart/k156/movement4.mxl")
    dry = evaluate_piece(piece, "auto", oracle=True, seed=0)
    wet = evaluate_piece(piece, "auto", oracle=True, seed=0, pedal=True)
    assert wet.onset == dry.onset > 0.95
    assert wet.duration > 0.75 and dry.duration > 0.9  # was 0.70 with the pedal
