"""One key's echoes: a chain of notes of one key closer than the gap becomes one note."""

import random

import pytest

from clef_app.model.restrike import Restrikes, merge_restrikes
from clef_app.notation.events import NoteEvent

C4 = 60


def note(onset, offset, pitch=C4, confidence=0.5, velocity=64):
    return NoteEvent(onset, offset, pitch, velocity, confidence=confidence)


def test_a_chain_becomes_its_most_confident_note_lasting_to_the_chain_end():
    chain = [note(1.0, 1.09), note(1.09, 1.17, confidence=0.9, velocity=90),
             note(1.17, 1.30, confidence=0.7)]
    (one,) = merge_restrikes(chain, 0.1)
    assert (one.onset, one.offset, one.velocity, one.confidence) == (1.09, 1.30, 90, 0.9)


def test_equal_confidence_keeps_the_earliest_onset():
    (one,) = merge_restrikes([note(2.0, 2.05), note(2.08, 2.5)], 0.1)
    assert (one.onset, one.offset) == (2.0, 2.5)


def test_notes_further_apart_other_keys_and_gap_zero_are_left_alone():
    repeated = [note(1.0, 1.1), note(1.12, 1.2)]  # 120 ms apart: a real repetition
    assert merge_restrikes(repeated, 0.1) == repeated
    chord = [note(1.0, 1.5, C4), note(1.0, 1.5, C4 + 4), note(1.05, 1.5, C4 + 7)]
    assert merge_restrikes(chord, 0.1) == chord
    echoes = [note(1.0, 1.05), note(1.05, 1.1)]
    assert merge_restrikes(echoes, 0.0) == echoes
    assert len(merge_restrikes(echoes, 0.1)) == 1


def test_a_chain_is_held_until_no_later_note_can_join_it():
    r = Restrikes(0.1)
    assert r.settle([note(1.0, 1.05)], until=1.05) == []  # a note at 1.08 could still come
    (one,) = r.settle([note(1.08, 1.3)], until=1.3)
    assert (one.onset, one.offset) == (1.0, 1.3)


@pytest.mark.parametrize("seed", range(5))
def test_in_any_batches_it_gives_the_whole_recording_result(seed):
    rng = random.Random(seed)
    notes, t = [], 0.0
    for _ in range(300):
        t += rng.choice([0.0, 0.03, 0.06, 0.09, 0.15, 0.4])
        notes.append(note(t, t + rng.uniform(0.02, 0.5), rng.choice([C4, C4 + 1, C4 + 3]),
                          confidence=rng.random()))
    whole = merge_restrikes(notes, 0.1)
    assert len(whole) < len(notes)
    r, got, i = Restrikes(0.1), [], 0
    while i < len(notes):
        j = i + rng.randint(1, 40)
        until = notes[j].onset if j < len(notes) else float("inf")
        got += r.settle(notes[i:j], until)
        i = j
    got += r.settle([])
    key = lambda n: (n.onset, n.pitch, n.offset)  # noqa: E731
    assert sorted(got, key=key) == sorted(whole, key=key)


def test_a_note_given_late_with_an_earlier_onset_is_its_own_note():
    # the roll head's sustain gives a held note only once its end is decided: after a
    # later note of its key
    r = Restrikes(0.1)
    assert r.settle([note(2.38, 2.41)], until=2.0) == []
    got = r.settle([note(2.11, 2.38)])
    assert [(n.onset, n.offset) for n in got] == [(2.11, 2.38), (2.38, 2.41)]
