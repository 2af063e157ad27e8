"""Polyphony buckets and chord accuracy on literal note lists."""

import math

from clef_app.notation.events import NoteEvent
from clef_app.training.chord_metrics import (
    chord_counts,
    harmony_scores,
    polyphony_at,
    polyphony_counts,
    simultaneities,
)


def N(onset, pitch, dur=0.5):  # noqa: N802 - reads like a score
    return NoteEvent(onset, onset + dur, pitch)


# a single note, a C major triad (slightly rolled), a 4-note chord
REF = [N(0.0, 72), N(1.0, 60), N(1.01, 64), N(1.02, 67), N(2.0, 48), N(2.0, 52), N(2.0, 55),
       N(2.0, 60)]


def test_polyphony_counts_notes_sounding_or_starting_together():
    assert polyphony_at(REF, 0.0) == 1
    assert polyphony_at(REF, 1.0) == 3  # the rolled notes start within 50 ms
    assert polyphony_at(REF, 2.0) == 4
    assert polyphony_at(REF, 5.0) == 0


def test_simultaneities_group_onsets_within_the_tolerance():
    assert [len(g) for g in simultaneities(REF)] == [1, 3, 4]


def test_perfect_transcription_scores_one_everywhere():
    scores = harmony_scores(polyphony_counts(REF, REF), chord_counts(REF, REF))
    assert scores == {"f1_poly_1": 1.0, "f1_poly_2-3": 1.0, "f1_poly_4+": 1.0,
                      "chord_acc": 1.0, "simultaneity_acc": 1.0}


def test_a_missing_and_an_extra_note_break_their_chords_only():
    est = [N(0.0, 72), N(1.0, 60), N(1.0, 64), N(1.0, 67), N(1.0, 70),  # triad + an extra
           N(2.0, 48), N(2.0, 52), N(2.0, 55)]  # the 4-note chord misses one
    poly = polyphony_counts(REF, est)
    assert poly["1"] == {"ref": 1, "est": 1, "tp": 1}
    assert poly["2-3"] == {"ref": 3, "est": 4, "tp": 3}
    assert poly["4+"] == {"ref": 4, "est": 3, "tp": 3}
    chords = chord_counts(REF, est)
    assert chords == {"all": 3, "all_right": 1, "chords": 2, "chords_right": 0}
    scores = harmony_scores(poly, chords)
    assert math.isclose(scores["f1_poly_2-3"], 6 / 7) and math.isclose(scores["f1_poly_4+"], 6 / 7)
    assert scores["chord_acc"] == 0.0 and math.isclose(scores["simultaneity_acc"], 1 / 3)


def test_notes_invented_in_silence_count_as_monophonic_and_empty_is_nan():
    poly = polyphony_counts([], [N(3.0, 60)])
    assert poly["1"] == {"ref": 0, "est": 1, "tp": 0}
    scores = harmony_scores(poly, chord_counts([], [N(3.0, 60)]))
    assert scores["f1_poly_1"] == 0.0 and math.isnan(scores["f1_poly_4+"])
    assert math.isnan(scores["chord_acc"])
