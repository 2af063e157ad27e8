""""Why this note?" looks where the transcription writes the note: the windows of every
reading, decoded by the same call, on the same time base (issue 18: `clef why` said "NOT
decoded" for a note `clef transcribe` wrote, and drew its map 2 s away)."""

import numpy as np
import pytest
import torch

from clef_app.config import DecodingConfig, ModelConfig
from clef_app.model.clef_model import ClefModel
from clef_app.model.explain import explain_note, reading_windows
from clef_app.model.inference import Transcriber
from clef_app.model.passes import TOLERANCE

TINY = ModelConfig(encoder_blocks=1, bridge_layers=1, d_model=64, n_heads=2, decoder_layers=1,
                   max_tokens=64, dropout=0.0)
RATE = 16_000  # Hz: the tiny model's rate


@pytest.fixture(scope="module")
def reader() -> Transcriber:
    torch.manual_seed(3)
    options = DecodingConfig(device="cpu", passes=3, pass_single=0.0, pass_both=0.0)
    return Transcriber(ClefModel.build(TINY).eval(), options)


@pytest.fixture(scope="module")
def samples() -> np.ndarray:
    rng = np.random.default_rng(5)
    return (rng.standard_normal(RATE * 6) * 0.1).astype(np.float32)


def near(notes, note) -> bool:
    return any(n.pitch == note.pitch and abs(n.onset - note.onset) <= TOLERANCE for n in notes)


def test_every_window_of_every_reading_holding_the_onset_is_read(reader):
    seg = reader.fe.segment_samples
    windows = reading_windows(reader, 3.0, RATE * 6)
    assert {k for k, _ in windows} == {0, 1, 2}
    for k, first in windows:
        assert (first + k * seg // 3) % seg == 0  # on that reading's grid
        assert first / RATE - TOLERANCE - 0.06 <= 3.0 < first / RATE + 2.56


def test_a_note_only_a_shifted_reading_writes_is_found_in_its_window(reader, samples):
    per_pass = reader.pass_notes(samples)
    shifted_only = [(k, n) for k in (1, 2) for n in per_pass[k]
                    if not near(per_pass[0], n) and n.onset > 0.1]
    assert shifted_only, "the random model wrote no note in the shifted readings alone"
    k, note = shifted_only[0]
    ex = explain_note(reader, samples, note.onset, note.pitch)
    assert ex.found and ex.decoded >= 1 and ex.readings == 3
    shift = k * reader.fe.segment_samples // 3
    assert (ex.first_sample + shift) % reader.fe.segment_samples == 0 or ex.decoded > 1
    assert ex.start - TOLERANCE <= note.onset < ex.end  # the map covers the note


def test_every_note_the_transcription_writes_is_found_and_others_are_not(reader, samples):
    notes = reader.transcribe_all(samples)
    assert notes
    for note in notes[:: max(1, len(notes) // 4)]:
        ex = explain_note(reader, samples, note.onset, note.pitch)
        assert ex.found, f"{note} is transcribed but not found"
        assert ex.start - TOLERANCE <= note.onset < ex.end
        assert ex.weights.sum() == pytest.approx(1.0, abs=1e-5)


def test_a_note_of_the_same_pitch_elsewhere_in_the_window_is_not_this_note(reader, samples):
    per_pass = reader.pass_notes(samples)
    every = [n for notes in per_pass for n in notes]
    seg = reader.fe.segment_seconds
    for note in per_pass[0]:  # a time in its window where no reading writes its pitch
        start = note.onset // seg * seg
        times = [t for t in np.arange(start + 0.3, start + seg - 0.3, 0.05)
                 if all(abs(n.onset - t) > 0.3 for n in every if n.pitch == note.pitch)]
        if times:
            break
    else:
        pytest.skip("no free time beside a written note")
    ex = explain_note(reader, samples, float(times[0]), note.pitch)
    assert not ex.found and ex.decoded == 0  # was "found": the note 0.3+ s away
    assert ex.start <= times[0] < ex.end
