"""Score building: quantisation, bars, ties, rests, hands, keys, overrides, id maps."""

from __future__ import annotations

from fractions import Fraction as F
from pathlib import Path

import pytest
from music21 import stream

from clef_app.notation.events import NoteEvent, read_notes_tsv
from clef_app.notation.score import build_score, note_id_of

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo.notes.tsv"


def play(pitches_beats, bpm=100.0, t0=0.3, legato=0.9):
    """Notes from (pitch, start beat, length in beats) at a constant tempo."""
    spb = 60.0 / bpm
    return [NoteEvent(t0 + s * spb, t0 + (s + legato * d) * spb, p) for p, s, d in pitches_beats]


def _f(x) -> F:
    return F(x).limit_denominator(96)


def written(result):
    """(pitch name, offset in quarters, quarter length) of every note, ties merged."""
    out = []
    for part in result.score.parts:
        for n in part.stripTies().flatten().notes:
            for p in n.pitches:
                at = _f(n.getOffsetInHierarchy(part))
                out.append((p.nameWithOctave, at, _f(n.quarterLength)))
    return sorted(out, key=lambda x: (x[1], x[0]))


def scale_notes():
    # C major scale in quarters, then a whole-bar C chord
    melody = [(60 + d, i, 1) for i, d in enumerate((0, 2, 4, 5, 7, 9, 11, 12))]
    return play(melody + [(48, 8, 4), (55, 8, 4), (64, 8, 4), (72, 8, 4)])


def test_quarter_notes_land_on_beats_in_4_4_at_the_played_tempo():
    r = build_score(scale_notes())
    assert str(r.timing.meters[0][1]) == "4/4"
    assert r.tempo_map.bpm_at(1.0) == pytest.approx(100.0, rel=0.02)
    notes = written(r)
    melody = [x for x in notes if x[1] < 8]
    assert [x[1] for x in melody] == [F(i) for i in range(8)]
    assert all(x[2] == 1 for x in melody)
    assert {x[0] for x in notes if x[1] == 8} == {"C3", "G3", "E4", "C5"}


def test_chord_of_the_last_bar_is_split_between_the_hands():
    r = build_score(scale_notes())
    staff = {p.note.pitch: p.staff for p in r.placed.values() if p.note.start == 8}
    assert staff[48] == 1 and staff[55] == 1 and staff[72] == 0


def test_note_across_a_bar_line_is_tied_and_gaps_are_rests():
    notes = play([(60, 0, 1), (62, 3, 2), (64, 6, 1), (65, 7, 1)], legato=1.0)
    r = build_score(notes, {"tempo": [(1, 100)], "meter": [(1, "4/4")], "pickup": 0})
    upper = r.score.parts[0]
    m1, m2 = upper.getElementsByClass(stream.Measure)[:2]
    d = [n for n in m1.flatten().notesAndRests]
    assert [x.isRest for x in d] == [False, True, True, False]  # no rest hides beat 3
    assert d[-1].tie is not None and d[-1].tie.type == "start"
    first = m2.flatten().notesAndRests[0]
    assert first.tie.type == "stop" and first.pitch.midi == 62
    # the NoteEvent behind both tied pieces is the same
    nid = notes[1].id
    assert r.element_ids[nid] == [f"n{nid}", f"n{nid}-2"]
    assert note_id_of(f"n{nid}-2") == nid and note_id_of("m12") is None


def test_no_fragment_is_shorter_than_the_grid():
    notes = play([(60, 0, 0.02), (62, 1, 1), (64, 2, 0.5), (65, 2.5, 0.5)])
    r = build_score(notes, {"grid": "1/16"})
    assert min(x[2] for x in written(r)) >= F(1, 4)


def test_triplets_are_written_where_the_rhythm_has_them():
    # one beat of triplets in each bar, the others in eighths: a simple meter with triplets
    trip = [(60 + i, 4 * b + 2 + i / 3, 1 / 3) for b in range(4) for i in range(3)]
    eighths = [(67 + x % 2, 4 * b + x / 2, 0.5) for b in range(4) for x in (0, 1, 2, 3, 6, 7)]
    bass = [(48, 4 * b, 4) for b in range(4)]
    r = build_score(play(trip + eighths + bass), {"pickup": 0})
    assert str(r.timing.meters[0][1]) == "4/4"
    starts = sorted({x[1] for x in written(r) if x[0] != "C3"})
    assert F(7, 3) in starts and F(8, 3) in starts and F(1, 2) in starts
    tuplets = [n for n in r.score.recurse().notes if n.duration.tuplets]
    assert len(tuplets) == 12


def test_waltz_is_estimated_in_three():
    bars = []
    for b in range(8):
        bars += [(43, 3 * b, 1)] + [(p, 3 * b + k, 1) for k in (1, 2) for p in (59, 62)]
        bars += [(71 + (b % 3), 3 * b, 2), (74, 3 * b + 2, 1)]
    r = build_score(play(bars, bpm=150))
    assert str(r.timing.meters[0][1]) == "3/4"


def test_meter_and_key_overrides_from_a_bar_on():
    notes = play([(62 + (i % 5), i, 1) for i in range(16)])
    settings = {"meter": [(1, "4/4"), (3, "3/4")], "key": [(1, "D major"), (2, "B- major")]}
    r = build_score(notes, settings)
    ts = {b.number: str(b.meter) for b in r.bars}
    assert (ts[1], ts[2], ts[3], ts[4]) == ("4/4", "4/4", "3/4", "3/4")
    keys = r.score.parts[0].recurse().getElementsByClass("KeySignature")
    assert [k.sharps for k in keys] == [2, -2]


def test_spelling_follows_the_key():
    notes = play([(66, 0, 1), (70, 1, 1), (61, 2, 1), (63, 3, 1)])
    sharp = {x[0][:-1] for x in written(build_score(notes, {"key": [(1, "B major")]}))}
    flat = {x[0][:-1] for x in written(build_score(notes, {"key": [(1, "E- major")]}))}
    assert sharp == {"F#", "A#", "C#", "D#"}
    assert flat == {"G-", "B-", "D-", "E-"}


def test_estimated_key_of_a_d_major_piece():
    d_major = [62, 64, 66, 67, 69, 71, 73, 74, 69, 66, 62, 57, 62]
    notes = play([(p, i, 1) for i, p in enumerate(d_major)] + [(50, 12, 1), (45, 11, 1)])
    assert build_score(notes).keys[0][1] == "D major"


def test_pickup_bar_when_the_piece_starts_on_an_upbeat():
    # upbeat quarter, then bars of accented long bass notes on the downbeats
    melody = [(67, 0, 1)] + [(72 + (i % 3), 1 + i, 1) for i in range(12)]
    bass = [(48, 1 + 4 * b, 4) for b in range(3)]
    r = build_score(play(melody + bass, bpm=90))
    assert r.timing.pickup == 1
    assert r.bars[0].number == 0
    pickup_bar = r.score.parts[0].getElementsByClass(stream.Measure)[0]
    assert pickup_bar.number == 0 and pickup_bar.paddingLeft == 3
    assert [n.pitch.midi for n in pickup_bar.flatten().notes] == [67]


def test_demo_recording_builds_a_readable_score():
    notes = read_notes_tsv(DEMO)
    r = build_score(notes)
    assert str(r.timing.meters[0][1]) == "4/4" and r.keys[0][1] == "C major"
    assert r.tempo_map.bpm_at(4.0) == pytest.approx(112, rel=0.03)
    assert len([b for b in r.bars if b.number > 0]) == 12
    # every note is written exactly once, with its pitch
    assert sorted(p.note.pitch for p in r.placed.values()) == sorted(n.pitch for n in notes)


def test_simple_method_is_the_fixed_tempo_baseline():
    r = build_score(scale_notes(), method="simple")
    assert r.tempo_map.bpm_at(0) == 120.0
    assert str(r.timing.meters[0][1]) == "4/4"


def test_a_sudden_tempo_change_is_followed_and_marked():
    notes, t = [], 0.5
    for bar in range(16):  # 8 bars at 100 BPM, then 8 at 70
        spb = 60 / (100 if bar < 8 else 70)
        for beat in range(4):
            v = 90 if beat == 0 else 70
            notes.append(NoteEvent(t, t + 0.9 * spb, 72 + (bar + beat) % 5, v))
            if beat % 2 == 0:
                notes.append(NoteEvent(t, t + 1.8 * spb, 48 + bar % 3, v))
            t += spb
    r = build_score(notes)
    assert r.tempo_map.mean_bpm(4, 28) == pytest.approx(100, rel=0.03)
    assert r.tempo_map.mean_bpm(36, 60) == pytest.approx(70, rel=0.03)
    assert all(p.note.start % 1 == 0 for p in r.placed.values())  # every note on a beat
    marks = r.score.recurse().getElementsByClass("MetronomeMark")
    assert [(m.measureNumber, m.number) for m in marks] == [(1, 100), (9, 70)]
