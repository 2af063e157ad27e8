"""Readable rhythm from real performance timing: no quintuplets from a beat tracked across
a sudden tempo change, no 32nds from beats tracked at half speed, spread chords written as
chords, and the readability counts `clef score-eval` reports."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
from music21 import meter, note, stream

from clef_app.notation import beats
from clef_app.notation.events import NoteEvent
from clef_app.notation.layout import Placed, absorb_short_rests
from clef_app.notation.quantize import QNote, chord_onsets
from clef_app.notation.readability import readability
from clef_app.notation.score import build_score


def schneller(seed: int = 0) -> list[NoteEvent]:
    """Like Fürchtenmachen: eight bars of eighths at quarter = 100, then, suddenly faster
    (quarter = 119), 16ths alternating a loud bass note and a soft chord, then eighths again."""
    rng = np.random.default_rng(seed)
    notes, t = [], 0.5
    for spq, per_beat, bars in ((0.6, 2, 8), (0.504, 4, 8), (0.6, 2, 8)):
        step = spq / per_beat
        for k in range(bars * 2 * per_beat):  # 2/4
            on = t + rng.normal(0, 0.006)
            if per_beat == 4 and k % 2 == 0:
                notes.append(NoteEvent(on, on + 2 * step * 0.95, 40 + k % 5, 48))
            elif per_beat == 4:
                notes += [NoteEvent(on, on + step * 0.9, p, 30) for p in (59, 64, 67)]
            else:
                notes.append(NoteEvent(on, on + step * 0.9, 67 + k % 3, 70 if k % 4 == 0
                                       else 55))
                if k % 4 == 0:
                    notes.append(NoteEvent(on, on + 3.8 * step, 43, 60))
            t += step
    return notes


def test_a_sudden_faster_section_of_16ths_has_no_tuplets():
    r = build_score(schneller())
    counts = readability(r.score)
    assert counts.tuplets == 0, counts
    assert counts.short_share < 0.03


def test_a_beat_of_five_tatums_is_suspect_four_and_six_are_not():
    lags = np.array([40.0, 50.0, 60.0, 70.0])  # frames, tatum 10
    fit = beats.tatum_fit(lags, 10.0)
    assert fit[0] == fit[2] == 1.0 or (fit[0] > 0.99 and fit[2] > 0.99)
    assert fit[1] < 0.1 and fit[3] < 0.1
    assert list(beats.tatum_fit(lags, None)) == [1.0] * 4


def test_tatum_is_the_commonest_gap_between_attacks():
    on = np.concatenate([np.arange(0, 4, 0.125), np.arange(4, 6, 0.25)])
    chords = np.concatenate([on, on[::4] + 0.01])  # chord notes a hair apart count once
    assert abs(beats.tatum(chords) - 0.125) < 0.01
    assert beats.tatum(np.array([0.0, 0.5])) is None


def test_beats_of_a_very_fast_piece_are_halved():
    slow = np.arange(0, 10, 0.6)
    assert len(beats.split_slow_beats(slow, 0.075)) == 2 * len(slow) - 1  # 32nds: halve
    assert len(beats.split_slow_beats(slow, 0.15)) == len(slow)  # 16ths: keep


def test_a_snap_never_moves_a_beat_by_a_tatum():
    onsets = np.arange(0, 8, 0.125)
    weights = np.where(np.arange(len(onsets)) % 8 == 1, 3.0, 1.0)  # loud just after beats
    beats_s = np.arange(0, 8, 1.0) + 0.01
    snapped = beats.snap_to_onsets(beats_s, onsets, weights, pulse=0.125)
    assert np.allclose(snapped, np.arange(0, 8, 1.0))
    unlimited = beats.snap_to_onsets(beats_s, onsets, weights)
    assert np.allclose(unlimited, np.arange(0, 8, 1.0) + 0.125)


def test_a_spread_chord_is_one_onset():
    seconds = np.array([1.0, 1.02, 1.045, 1.5, 1.6])
    pos = np.array([2.0, 2.04, 2.09, 3.0, 3.2])
    out = chord_onsets(seconds, pos)
    assert out[0] == out[1] == out[2] == 2.04 and list(out[3:]) == [3.0, 3.2]


def test_a_rest_shorter_than_a_16th_is_held_over():
    q = [QNote(1, 60, F(0), F(7, 8)), QNote(2, 62, F(1), F(3, 2)), QNote(3, 64, F(2), F(5, 2))]
    out = absorb_short_rests([Placed(x, 0, 1) for x in q])
    assert [p.note.end for p in out] == [F(1), F(3, 2), F(5, 2)]  # an 8th rest stays


def test_readability_counts_short_notes_tuplets_rests_clefs_and_meter():
    from music21 import clef, duration

    s = stream.Score()
    part = stream.PartStaff()
    m1 = stream.Measure(number=1)
    m1.append([meter.TimeSignature("3/4"), clef.TrebleClef()])
    m1.append(note.Note("C5", quarterLength=0.125))
    m1.append(note.Rest(quarterLength=0.875))
    for _ in range(5):
        n = note.Note("D5")
        n.duration = duration.Duration("16th")
        n.duration.appendTuplet(duration.Tuplet(5, 4, "16th"))
        m1.append(n)
    m1.append(note.Note("E5", quarterLength=1))
    m2 = stream.Measure(number=2)
    m2.append([clef.BassClef(), note.Note("C3", quarterLength=3)])
    part.append([m1, m2])
    s.insert(0, part)
    r = readability(s, "3/4")
    assert (r.notes, r.short, r.tuplets, r.tuplet_notes, r.rests) == (8, 1, 1, 5, 1)
    assert r.clef_changes == 1 and r.clef_changes_per_10 == 5.0
    assert r.meter_share == 1.0 and readability(s, "3/8").meter_share == 0.0


def test_a_lone_chord_a_third_into_a_beat_is_no_triplet():
    from clef_app.notation.quantize import choose_subdivisions

    x = np.array([0.0, 0.5, 1.0] + [1.31] * 4 + [2.0, 2.5])  # a 4-note chord at 1.31
    assert choose_subdivisions(x, 3, (1, 2, 4, 3, 6), chords_once=True)[1] == 4
    assert choose_subdivisions(x, 3, (1, 2, 4, 3, 6))[1] == 3  # counted 4 times: "triplet"


def test_note_lengths_for_meter_estimation_are_measured_in_beats():
    from clef_app.notation.timemap import TempoMap
    from clef_app.notation.timing import steady_lengths

    beat_map = TempoMap(np.array([0.0, 1.0, 3.0]), np.array([0.0, 1.0, 2.0]))  # 1 s, then 2 s
    notes = [NoteEvent(0.0, 0.5, 60), NoteEvent(1.0, 2.0, 62)]
    out = steady_lengths(notes, beat_map, 1.0)
    assert [round(n.duration, 6) for n in out] == [0.5, 0.5]  # half a beat each


def test_a_staccato_16th_is_written_as_a_16th_not_a_32nd_and_a_rest():
    spb = 0.5
    notes = [NoteEvent(0.3 + k * spb / 4, 0.3 + k * spb / 4 + 0.04, 72 + k % 3, 80 if k % 16 == 0
                       else 60) for k in range(0, 64, 2)]  # 8ths held a quarter of their time
    notes += [NoteEvent(0.3 + b * spb, 0.3 + (b + 0.9) * spb, 48, 70) for b in range(16)]
    r = build_score(notes, {"pickup": 0, "meter": [(1, "4/4")], "tempo": [(1, 120)]})
    counts = readability(r.score)
    assert counts.short == 0, counts


def test_one_note_a_third_into_a_beat_is_timing_two_are_a_triplet():
    from clef_app.notation.quantize import choose_subdivisions

    subs = (1, 2, 4, 3, 6)
    lone = np.array([0.0, 0.5, 1.0, 1.32, 2.0, 2.5])  # one late note in beat 1
    assert choose_subdivisions(lone, 3, subs, chords_once=True)[1] in (2, 4)
    pair = np.array([0.0, 0.5, 1.0, 1.33, 1.67, 2.0, 2.5])  # a triplet in beat 1
    assert choose_subdivisions(pair, 3, subs, chords_once=True)[1] == 3


def test_a_lone_short_gap_is_no_32nd_a_run_of_them_is():
    from clef_app.notation.quantize import choose_subdivisions

    subs = (1, 2, 4, 8, 3, 6)
    lone = np.array([0.0, 1.0, 1.5, 1.625, 2.0])  # one gap of a 32nd: a flam, unevenness
    assert choose_subdivisions(lone, 3, subs, chords_once=True)[1] in (2, 4)
    run = np.array([0.0, 1.0, 1.5, 1.625, 1.75, 1.875, 2.0])  # four 32nds
    assert choose_subdivisions(run, 3, subs, chords_once=True)[1] == 8


def uneven_16ths(jitter: float, seed: int = 0) -> list[NoteEvent]:
    """Eight 2/4 bars of 16ths and eighths at quarter = 150 (0.1-s 16ths) over a bass,
    each onset off by `jitter` s (sd): as unevenly as a transcription places them."""
    rng = np.random.default_rng(seed)
    notes = []
    for beat in range(16):
        t = 0.3 + 0.4 * beat
        steps = (0, 1, 2, 3) if beat % 2 else (0, 2)
        for k in steps:
            on = t + 0.1 * k + rng.normal(0, jitter)
            notes.append(NoteEvent(on, on + 0.09, 72 + (k + beat) % 5, 90 if k == 0 else 60))
        if beat % 2 == 0:
            notes.append(NoteEvent(t, t + 0.75, 48, 90))
    return notes


def test_uneven_16ths_are_written_as_16ths_not_tuplets_or_32nds():
    from clef_app.notation.grid_evidence import onset_noise

    settings = {"pickup": 0, "meter": [(1, "2/4")], "tempo": [(1, 150)]}  # the grid alone
    for seed in range(4):  # before the performance's unevenness was weighed: 2-4 32nds each
        counts = readability(build_score(uneven_16ths(0.025, seed), settings).score)
        assert counts.tuplets == 0 and counts.short == 0, counts
    beats_s = np.full(3, 0.4)
    exact = {0: np.array([0.0, 0.25, 0.5]), 1: np.array([0.0, 1 / 3, 2 / 3])}
    assert onset_noise(exact, [4, 3, 1], beats_s) == 0.0
    assert abs(onset_noise({0: np.array([0.05, 0.3])}, [4, 1, 1], beats_s) - 0.02) < 1e-9
