"""Two readings merged: a note both passes wrote, one only one wrote, in any batching."""

import random

import pytest

from clef_app.model.passes import PassMerger, merge_passes
from clef_app.notation.events import NoteEvent


def note(onset, pitch, confidence, length=0.3):
    return NoteEvent(onset, onset + length, pitch, confidence=confidence)


def test_a_note_both_passes_wrote_is_kept_once_by_its_mean_confidence():
    grid = [note(1.00, 60, 0.30), note(2.00, 62, 0.05)]
    shifted = [note(1.03, 60, 0.10), note(2.02, 62, 0.07)]
    (kept,) = merge_passes(grid, shifted, single=0.2, both=0.1)
    assert (kept.onset, kept.pitch) == (1.00, 60)  # the grid pass's times
    assert kept.confidence == pytest.approx(0.20)  # 62: mean 0.06 < 0.1, gone


def test_a_note_only_one_pass_wrote_needs_the_single_threshold():
    grid = [note(1.0, 60, 0.25), note(3.0, 64, 0.15)]
    shifted = [note(2.0, 62, 0.40), note(1.0, 61, 0.10)]  # another key is no partner
    kept = merge_passes(grid, shifted, single=0.2, both=0.0)
    assert sorted((n.onset, n.pitch) for n in kept) == [(1.0, 60), (2.0, 62)]


def test_partners_are_the_nearest_free_onset_of_the_same_key_within_50_ms():
    grid = [note(1.00, 60, 0.5), note(1.04, 60, 0.5, 0.01)]  # a quick repeat
    shifted = [note(1.06, 60, 0.1), note(0.99, 60, 0.3), note(1.2, 60, 0.3)]
    kept = merge_passes(grid, shifted, single=0.35, both=0.0)
    # 1.00 pairs with 0.99 (nearest), 1.04 with 1.06; 1.2 alone is below `single`
    assert [(n.onset, round(n.confidence, 3)) for n in kept] == [(1.0, 0.4), (1.04, 0.3)]


def test_settling_in_steps_gives_the_whole_merge():
    rng = random.Random(0)
    grid = [note(rng.uniform(0, 20), rng.choice((60, 62, 64)), rng.random()) for _ in range(300)]
    shifted = [note(abs(n.onset + rng.uniform(-0.06, 0.06)), n.pitch, rng.random()) for n in grid
               if rng.random() < 0.8] + [note(rng.uniform(0, 20), 60, rng.random())
                                         for _ in range(40)]
    whole = merge_passes(grid, shifted, 0.3, 0.2)
    merger, out, since = PassMerger(0.3, 0.2), [], 0.0
    for until in (2.5, 5.0, 5.01, 11.0, 17.3):  # each pass has given all notes before `until`
        for which, notes in enumerate((grid, shifted)):
            merger.add(which, [n for n in notes if since <= n.onset < until])
        out += merger.settle(until)
        since = until
    merger.add(0, [n for n in grid if n.onset >= since])
    merger.add(1, [n for n in shifted if n.onset >= since])
    out += merger.finish()
    key = lambda notes: sorted((n.onset, n.pitch, n.confidence) for n in notes)  # noqa: E731
    assert key(out) == key(whole) and len(whole) > 100
