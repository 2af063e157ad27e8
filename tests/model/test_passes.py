"""Readings merged: a note two passes wrote, one only one wrote, in any batching."""

import random

import pytest

from clef_app.model.passes import PassMerger, merge_passes
from clef_app.notation.events import NoteEvent


def note(onset, pitch, confidence, length=0.3):
    return NoteEvent(onset, onset + length, pitch, confidence=confidence)


def test_a_note_both_passes_wrote_is_kept_once_by_its_mean_confidence():
    grid = [note(1.00, 60, 0.30), note(2.00, 62, 0.05)]
    shifted = [note(1.03, 60, 0.10), note(2.02, 62, 0.07)]
    (kept,) = merge_passes([grid, shifted], single=0.2, both=0.1)
    assert (kept.onset, kept.pitch) == (1.00, 60)  # the grid pass's times
    assert kept.confidence == pytest.approx(0.20)  # 62: mean 0.06 < 0.1, gone


def test_a_note_only_one_pass_wrote_needs_the_single_threshold():
    grid = [note(1.0, 60, 0.25), note(3.0, 64, 0.15)]
    shifted = [note(2.0, 62, 0.40), note(1.0, 61, 0.10)]  # another key is no partner
    kept = merge_passes([grid, shifted], single=0.2, both=0.0)
    assert sorted((n.onset, n.pitch) for n in kept) == [(1.0, 60), (2.0, 62)]


def test_partners_are_the_nearest_free_onset_of_the_same_key_within_50_ms():
    grid = [note(1.00, 60, 0.5), note(1.04, 60, 0.5, 0.01)]  # a quick repeat
    shifted = [note(1.06, 60, 0.1), note(0.99, 60, 0.3), note(1.2, 60, 0.3)]
    kept = merge_passes([grid, shifted], single=0.35, both=0.0)
    # in onset order: 0.99 takes 1.00 (the first note's times), 1.04 takes 1.06; 1.2 alone
    # is below `single`
    assert [(n.onset, round(n.confidence, 3)) for n in kept] == [(0.99, 0.4), (1.04, 0.3)]


def test_three_passes_vote():
    passes = [[note(1.0, 60, 0.2), note(2.0, 62, 0.2), note(3.0, 64, 0.6)],
              [note(1.01, 60, 0.1), note(2.01, 62, 0.1)],
              [note(0.98, 60, 0.3), note(4.0, 65, 0.2)]]
    kept = merge_passes(passes, single=0.5, both=0.15)
    # 60: three passes, mean 0.2; 62: two, mean 0.15; 64 alone but sure; 65 alone, unsure
    assert [(n.onset, n.pitch, round(n.confidence, 3)) for n in kept] == [
        (0.98, 60, 0.2), (2.0, 62, 0.15), (3.0, 64, 0.6)]


@pytest.mark.parametrize("count", [2, 3])
def test_settling_in_steps_gives_the_whole_merge(count):
    rng = random.Random(count)
    grid = [note(rng.uniform(0, 20), rng.choice((60, 62, 64)), rng.random()) for _ in range(300)]
    passes = [grid] + [[note(abs(n.onset + rng.uniform(-0.06, 0.06)), n.pitch, rng.random())
                        for n in grid if rng.random() < 0.8]
                       + [note(rng.uniform(0, 20), 60, rng.random()) for _ in range(40)]
                       for _ in range(count - 1)]
    whole = merge_passes(passes, 0.3, 0.2)
    merger, out, since = PassMerger(0.3, 0.2, count), [], 0.0
    for until in (2.5, 5.0, 5.01, 11.0, 17.3, float("inf")):  # all notes before `until` given
        for which, notes in enumerate(passes):
            merger.add(which, [n for n in notes if since <= n.onset < until])
        out += merger.settle(until)
        since = until
    key = lambda notes: sorted((n.onset, n.pitch, n.confidence) for n in notes)  # noqa: E731
    assert key(out) == key(whole) and len(whole) > 100
