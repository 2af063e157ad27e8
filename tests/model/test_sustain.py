"""Note ends from the roll head's frame probabilities: held while the key sounds."""

import random

import numpy as np
import pytest

from clef_app.config import MIDI_MIN
from clef_app.model.sustain import Frames, Sustain, sustain_notes
from clef_app.notation.events import NoteEvent

C4 = 60


def sounding(n_frames, *spans, key=C4 - MIDI_MIN, level=0.9):
    """Frame probabilities: `key` at `level` in each (first, last + 1) span, else 0.05."""
    frames = np.full((n_frames, 88), 0.05, dtype=np.float32)
    for lo, hi in spans:
        frames[lo:hi, key] = level
    return frames


def test_a_note_whose_key_still_sounds_is_held_until_it_stops():
    frames = sounding(300, (100, 250))
    (held,) = sustain_notes([NoteEvent(1.0, 1.5, C4)], frames, 0.5)
    assert (held.onset, held.offset) == (1.0, 2.5)


def test_a_note_whose_key_is_silent_at_its_end_is_left_alone_never_cut():
    frames = sounding(300, (100, 120))  # the roll hears it for 0.2 s, the decoder for 0.5
    note = NoteEvent(1.0, 1.5, C4)
    assert sustain_notes([note], frames, 0.5) == [note]
    assert sustain_notes([note], sounding(300), 0.5) == [note]
    other = NoteEvent(1.0, 1.5, C4 + 1)  # another key sounding changes nothing
    assert sustain_notes([other], frames, 0.5) == [other]


def test_the_threshold_decides_how_long():
    frames = sounding(300, (100, 200))
    frames[200:250, C4 - MIDI_MIN] = 0.4
    note = NoteEvent(1.0, 1.5, C4)
    assert sustain_notes([note], frames, 0.5)[0].offset == 2.0
    assert sustain_notes([note], frames, 0.3)[0].offset == 2.5


def test_a_note_is_held_no_further_than_the_next_onset_of_its_key():
    frames = sounding(400, (100, 350))  # a re-struck key sounds on through the repeat
    first, again = NoteEvent(1.0, 1.4, C4), NoteEvent(2.0, 2.5, C4)
    out = sustain_notes([again, first], frames, 0.5)
    assert sorted((n.onset, n.offset) for n in out) == [(1.0, 2.0), (2.0, 3.5)]


def test_readings_are_averaged():
    store = Frames()
    store.add(0, sounding(300, (100, 250), level=0.9))
    store.add(-50, sounding(350, (150, 250), level=0.2))  # a shifted reading, from frame -50
    mean = store.mean()
    assert mean.shape == (300, 88)
    key = C4 - MIDI_MIN
    assert mean[150, key] == pytest.approx(0.55) and mean[210, key] == pytest.approx(0.475)
    (held,) = Sustain(0.5, store).finish([NoteEvent(1.0, 1.5, C4)])
    assert held.offset == 2.0  # the mean falls below 0.5 where the shifted reading's rises


def test_times_count_from_the_offset():
    store = Frames()
    store.add(0, sounding(300, (100, 250)))
    (held,) = Sustain(0.5, store, time_offset=10.0).finish([NoteEvent(11.0, 11.5, C4)])
    assert held.offset == pytest.approx(12.5)


@pytest.mark.parametrize("seed", range(4))
def test_streamed_in_any_chunks_it_gives_the_whole_recording_result(seed):
    rng = random.Random(seed)
    n_frames = 2000
    frames = np.random.default_rng(seed).random((n_frames, 88)).astype(np.float32) ** 0.3
    notes = []
    for _ in range(150):
        onset = rng.randrange(0, 1900) / 100
        notes.append(NoteEvent(onset, onset + rng.randrange(3, 100) / 100,
                               rng.choice([C4, C4 + 2, C4 + 4])))
    notes.sort(key=lambda n: n.onset)
    whole = sustain_notes(notes, frames, 0.6)
    assert sum(a.offset != b.offset for a, b in zip(sorted(whole), notes, strict=True)) > 20

    store = Frames()
    sustain, given, streamed, done = Sustain(0.6, store), 0, [], 0
    while done < n_frames:
        step = rng.randrange(1, 300)
        store.add(done, frames[done:done + step])
        done = min(n_frames, done + step)
        store.complete_to(done)
        known = done / 100 - 0.3  # notes arrive a while after their onset
        fresh = [n for n in notes[given:] if n.onset < known]
        given += len(fresh)
        streamed += sustain.settle(fresh, known)
        assert store.base >= min([known * 100] + [n.offset * 100 for n in notes[given:]]) - 200
    streamed += sustain.finish(notes[given:])
    assert sorted(streamed) == sorted(whole)
