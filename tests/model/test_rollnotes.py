"""Roll-only notes: peak-picking, note ends, the decoder's veto, streaming in chunks."""

import numpy as np
import pytest

from clef_app.config import MIDI_MIN, N_PITCHES
from clef_app.model.rollnotes import MATCH_FRAMES, RollNotes, decoded_onsets
from clef_app.notation.codec import BOS, EOS, on_token, time_token, vel_token


def roll(frames: int = 200) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((frames, N_PITCHES), np.float32), np.zeros((frames, N_PITCHES), np.float32)


def add_note(onset: np.ndarray, frame: np.ndarray, key: int, on: int, off: int,
             peak: float = 0.6) -> None:
    onset[on - 1 : on + 2, key] = [peak / 3, peak, peak / 2]
    frame[on:off, key] = 0.9


def run(onset, frame, decoded=(), chunk=None, threshold=0.3):
    r = RollNotes(threshold)
    r.add_decoded(list(decoded))
    chunk = chunk or len(onset)
    out = []
    for s in range(0, len(onset), chunk):
        out += r.feed(s, onset[s : s + chunk], frame[s : s + chunk], len(onset))
    return out + r.finish()


def test_a_clear_peak_becomes_a_note_that_lasts_while_the_frame_is_on():
    onset, frame = roll()
    add_note(onset, frame, 39, 20, 70, peak=0.6)
    (note,) = run(onset, frame)
    assert (note.pitch, note.onset, note.offset) == (39 + MIDI_MIN, 0.20, 0.70)
    assert note.confidence == pytest.approx(0.6)


def test_a_calibration_puts_the_peak_on_the_decoder_notes_scale():
    """Roll-only notes are right less often than decoder notes of the same raw confidence:
    `clef eval --calibrate` measures the decoder-note confidence that is right as often."""
    scale = ((0.3, 0.5, 0.7), (0.05, 0.2, 0.4))
    r = RollNotes(0.3, scale=scale, floor=0.08)
    assert r.confidence(0.6) == pytest.approx(0.3)  # linear between calibration points
    assert r.confidence(0.9) == pytest.approx(0.4)  # clamped above
    assert r.confidence(0.3) == pytest.approx(0.08)  # never below the decoder notes' bar
    assert RollNotes(0.3).confidence(0.6) == 0.6  # no calibration: the peak itself
    onset, frame = roll()
    add_note(onset, frame, 39, 20, 70, peak=0.6)
    (note,) = r.feed(0, onset, frame, len(onset)) + r.finish()
    assert note.confidence == pytest.approx(0.3)


def test_weak_onsets_make_no_notes():
    onset, frame = roll()
    add_note(onset, frame, 39, 20, 70, peak=0.2)
    assert run(onset, frame, threshold=0.3) == []


def test_a_new_onset_of_a_held_key_starts_a_new_note():
    onset, frame = roll()
    add_note(onset, frame, 50, 10, 60)
    add_note(onset, frame, 50, 40, 90)
    notes = sorted(run(onset, frame))
    assert [(n.onset, n.offset) for n in notes] == [(0.10, 0.40), (0.40, 0.90)]


def test_the_decoder_vetoes_notes_it_wrote_within_the_match_window():
    onset, frame = roll()
    add_note(onset, frame, 30, 50, 80)
    add_note(onset, frame, 60, 120, 150)
    pitch_a, pitch_b = 30 + MIDI_MIN, 60 + MIDI_MIN
    decoded = [(50 + MATCH_FRAMES, pitch_a, 100), (120 - MATCH_FRAMES - 1, pitch_b, 40)]
    (note,) = run(onset, frame, decoded)
    assert note.pitch == pitch_b  # the decoder's onset of it is too far to be the same note
    assert note.velocity == 40  # velocity of the nearest decoded onset


def test_chunks_of_any_size_give_the_same_notes():
    rng = np.random.default_rng(0)
    onset = (rng.random((700, N_PITCHES)) ** 8).astype(np.float32)
    frame = rng.random((700, N_PITCHES)).astype(np.float32)
    whole = sorted(run(onset, frame))
    assert len(whole) > 50
    for chunk in (1, 7, 256):
        got = sorted(run(onset, frame, chunk=chunk))
        assert [(n.onset, n.offset, n.pitch) for n in got] == \
               [(n.onset, n.offset, n.pitch) for n in whole]


def test_a_note_waits_until_the_decoder_has_decoded_its_onset():
    onset, frame = roll()
    add_note(onset, frame, 40, 100, 110)
    r = RollNotes(0.3)
    assert r.feed(0, onset, frame, decoded_until=100) == []  # not settled yet
    r.add_decoded([(101, 40 + MIDI_MIN, 80)])
    assert r.finish() == []  # the decoder wrote it after all


def test_chunks_must_be_consecutive():
    onset, frame = roll(10)
    r = RollNotes(0.3)
    r.feed(0, onset, frame, 10)
    with pytest.raises(ValueError):
        r.feed(20, onset, frame, 30)


def test_decoded_onsets_reads_note_ons_with_their_velocity_bin():
    tokens = [BOS, time_token(7), vel_token(6), on_token(60), EOS]
    ((frame, pitch, vel),) = decoded_onsets(256, tokens)
    assert (frame, pitch) == (263, 60) and vel > 64
