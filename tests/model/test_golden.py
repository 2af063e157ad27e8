"""Golden output: the shipped checkpoint on a committed 6-s clip (the demo's opening) must
give the notes it gave when they were written down (tests/data/opening*.notes.tsv, made by
`clef transcribe` before the pipeline refactor), within small tolerances.

A changed checkpoint or decoding rule shows up here first; regenerate the files with
`clef transcribe tests/data/opening.flac -o tests/data/opening.notes.tsv` (and
`--one-pass` for the other) only when the change is meant.
"""

from pathlib import Path

import pytest
import torch

from clef_app.audio.io import load_audio
from clef_app.model.location import find_checkpoint
from clef_app.model.pipeline import Pipeline
from clef_app.notation.events import NoteEvent, read_notes_tsv

DATA = Path(__file__).resolve().parents[1] / "data"
ONSET_TOL = 0.010  # s
OFFSET_TOL = 0.050  # s
VELOCITY_TOL = 16  # MIDI velocity (the model writes one of 8 bins)
EXTRA = 1  # notes the output may have beyond the golden ones


def unmatched(golden: list[NoteEvent], got: list[NoteEvent]) -> tuple[list, list]:
    """(golden notes with no output note of the same pitch within the tolerances, output
    notes left over), pairing one to one in onset order."""
    left = sorted(got, key=lambda n: n.onset)
    missing = []
    for g in sorted(golden, key=lambda n: n.onset):
        match = next((n for n in left if n.pitch == g.pitch
                      and abs(n.onset - g.onset) <= ONSET_TOL
                      and abs(n.offset - g.offset) <= OFFSET_TOL
                      and abs(n.velocity - g.velocity) <= VELOCITY_TOL), None)
        if match is None:
            missing.append(g)
        else:
            left.remove(match)
    return missing, left


def test_unmatched_finds_a_moved_note():
    golden = [NoteEvent(1.0, 1.5, 60, 80), NoteEvent(2.0, 2.5, 64, 80)]
    moved = [NoteEvent(1.0, 1.5, 60, 80), NoteEvent(2.02, 2.5, 64, 80)]
    assert unmatched(golden, moved) == ([golden[1]], [moved[1]])
    assert unmatched(golden, golden) == ([], [])


@pytest.fixture(scope="module")
def pipeline():
    if find_checkpoint() is None:
        pytest.skip("no trained checkpoint installed")
    torch.set_num_threads(1)
    return Pipeline.load(device="cpu")


@pytest.mark.parametrize("golden, overrides", [("opening.notes.tsv", {}),
                                               ("opening.one-pass.notes.tsv", {"passes": 1})])
def test_the_shipped_model_gives_the_golden_notes(pipeline, golden, overrides):
    audio = load_audio(DATA / "opening.flac")
    assert audio.sample_rate == pipeline.sample_rate and audio.duration == pytest.approx(6.0)
    expected = read_notes_tsv(DATA / golden)
    assert len(expected) >= 25  # the opening's notes, not an empty file
    got = pipeline.with_options(**overrides).transcribe_all(audio.samples, audio.sample_rate)
    missing, extra = unmatched(expected, got)
    assert not missing, f"{len(missing)} golden notes not given: {missing[:5]}"
    assert len(extra) <= EXTRA, f"notes beyond the golden ones: {extra[:5]}"
