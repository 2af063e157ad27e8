"""Quintuplets, sextuplets and septuplets: written as tuplets where a beat holds them."""

from __future__ import annotations

import re
from fractions import Fraction as F

import numpy as np
import pytest
from music21 import converter

from clef_app.notation.engrave import to_mei, to_musicxml
from clef_app.notation.events import NoteEvent
from clef_app.notation.quantize import is_tuplet
from clef_app.notation.score import build_score

from .musescore import assert_musescore_opens, needs_mscore

SPB = 0.6  # s per beat (100 BPM)


def bars_with_a_run(n: int, jitter: float = 0.0, seed: int = 0) -> list[NoteEvent]:
    """Four 4/4 bars: beat 2 holds n evenly spaced notes, beat 3 two eighths, a bass on 1, 3."""
    rng = np.random.default_rng(seed)
    notes = []
    for bar in range(4):
        for beat in range(4):
            t = 0.3 + (bar * 4 + beat) * SPB
            if beat == 1:
                for k in range(n):
                    on = t + k * SPB / n + rng.normal(0, jitter)
                    notes.append(NoteEvent(on, on + 0.9 * SPB / n, 72 + k))
            elif beat == 2:
                notes += [NoteEvent(t + k * SPB / 2, t + (k + 0.9) * SPB / 2, 76 - k)
                          for k in range(2)]
            else:
                notes.append(NoteEvent(t, t + 0.9 * SPB, 67 + beat % 2, 90 if beat == 0 else 70))
            if beat % 2 == 0:
                notes.append(NoteEvent(t, t + 1.8 * SPB, 48, 90 if beat == 0 else 70))
    return notes


@pytest.mark.parametrize("n", [5, 6, 7])
def test_a_beat_of_n_even_notes_is_one_n_tuplet_in_musicxml_and_mei(n):
    r = build_score(bars_with_a_run(n, jitter=0.008), {"pickup": 0})
    assert str(r.timing.meters[0][1]) == "4/4"
    run = sorted(p.note.start for p in r.placed.values() if 1 <= p.note.start < 2)
    assert run == [1 + F(k, n) for k in range(n)]
    back = converter.parseData(to_musicxml(r.score), format="musicxml")
    run_notes = [x for x in back.parts[0].flatten().notes if x.duration.tuplets]
    assert len(run_notes) == 4 * n  # one beat in each of four bars
    assert {(t.numberNotesActual, t.numberNotesNormal) for x in run_notes
            for t in x.duration.tuplets} == {(n, 4)}
    brackets = re.findall(r'<tuplet [^>]*num="(\d+)" numbase="(\d+)"', to_mei(r.score))
    assert brackets == [(str(n), "4")] * 4  # Verovio's MEI: one bracket a beat


def test_tuplets_need_every_note_evenly_spaced():
    assert is_tuplet(np.array([0.0, 0.2, 0.4, 0.6, 0.8]), 5)
    assert not is_tuplet(np.array([0.0, 0.2, 0.4, 0.8]), 5)  # one missing
    assert not is_tuplet(np.array([0.0, 0.25, 0.5, 0.625, 0.75]), 5)  # 16ths and 32nds
    # a dotted rhythm with a 32nd run is written on the plain grid, not as a tuplet
    notes = bars_with_a_run(4)
    r = build_score(notes, {"pickup": 0})
    assert not any(n.duration.tuplets for n in r.score.recurse().notes)


@needs_mscore
def test_musescore_reads_the_quintuplets(tmp_path):
    src = tmp_path / "five.musicxml"
    src.write_text(to_musicxml(build_score(bars_with_a_run(5), {"pickup": 0}).score))
    assert_musescore_opens(src, tmp_path)


def test_a_held_note_ending_in_a_tuplet_beat_leaves_a_writable_rest():
    """Real piano (maps-dev scn15_11): a note from before a quintuplet beat ended on the
    16th grid inside it, and the rest before its voice's next quintuplet note (3/20 of a
    beat) had no written form: the MusicXML export failed. It now ends at a beat."""
    notes = []
    for bar in range(4):
        t = 0.3 + bar * 4 * SPB
        notes.append(NoteEvent(t, t + 1.3 * SPB, 70))  # into the quintuplet beat
        for k in range(5):  # beat 2: five even onsets, two in the bass, three in the treble
            on = t + SPB + k * SPB / 5
            notes.append(NoteEvent(on, on + 0.9 * SPB / 5, (45, 47, 72, 74, 76)[k]))
        notes += [NoteEvent(t + b * SPB, t + (b + 0.9) * SPB, 67) for b in (2, 3)]
        notes += [NoteEvent(t + b * SPB, t + (b + 1.8) * SPB, 48) for b in (0, 2)]
    result = build_score(notes, {"pickup": 0})
    held = [p.note for p in result.placed.values() if p.note.pitch == 70]
    assert all(q.end - q.start == 1 for q in held)  # to the quintuplet's beat
    xml = to_musicxml(result.score)
    assert xml.count("<actual-notes>5</actual-notes>") >= 20
    back = converter.parseData(xml, format="musicxml")
    assert {p.midi for n in back.recurse().notes for p in n.pitches} == {n.pitch for n in notes}
