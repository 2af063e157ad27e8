"""The shipped checkpoint on the demo recording: the roll head's notes join the decoder's."""

from pathlib import Path

import pytest
import torch

from clef_app.audio.io import load_audio
from clef_app.model.inference import passes_of
from clef_app.model.passes import merge_passes
from clef_app.model.pipeline import Pipeline
from clef_app.model.rollnotes import MATCH_FRAMES
from clef_app.model.sustain import Frames, sustain_notes

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo.flac"


@pytest.fixture(scope="module")
def setup():
    torch.set_num_threads(1)
    t = Pipeline.load(device="cpu", passes=1)  # one reading, unless a test asks for two
    samples = load_audio(DEMO, t.sample_rate).samples[: t.fe.segment_samples * 4]
    return t, samples


def notes_with(t: Pipeline, samples, **options):
    return t.with_options(**options).transcribe_all(samples, t.sample_rate)


def test_roll_notes_add_to_the_decoders_without_doubling_them(setup):
    t, samples = setup
    # (the shipped checkpoint asks for none since v5: on real piano they cost precision)
    assert t.options.roll_sustain > 0, "the shipped checkpoint holds notes by the roll head"
    # notes as the decoder ends them (roll-only notes would cap how long a note is held),
    # one key's echoes left apart (a roll-only note may join a decoder note's chain)
    decoder = notes_with(t, samples, roll_onset=0.0, min_confidence=0.0, roll_sustain=0.0,
                         restrike_gap=0.0)
    # roll-only notes at their raw onset peak, not mapped onto the decoder notes' scale
    both = notes_with(t, samples, roll_onset=0.05, min_confidence=0.0, roll_confidence=(),
                      roll_sustain=0.0, restrike_gap=0.0)
    key = {(n.onset, n.offset, n.pitch) for n in decoder}
    assert key <= {(n.onset, n.offset, n.pitch) for n in both}
    extra = [n for n in both if (n.onset, n.offset, n.pitch) not in key]
    assert extra, "the roll head adds notes on the demo"
    tol = MATCH_FRAMES / 100 + 1e-9
    for n in extra:
        assert n.confidence >= 0.05
        assert not any(d.pitch == n.pitch and abs(d.onset - n.onset) <= tol for d in decoder)


def test_batch_size_does_not_change_the_notes(setup):
    t, samples = setup
    whole = notes_with(t, samples, roll_onset=0.05, min_confidence=0.0, batch_size=16, passes=1)
    one_by_one = notes_with(t, samples, roll_onset=0.05, min_confidence=0.0, batch_size=1,
                            passes=1)
    assert [(n.onset, n.offset, n.pitch, n.velocity) for n in whole] == \
           [(n.onset, n.offset, n.pitch, n.velocity) for n in one_by_one]


def test_a_live_stream_ends_with_the_files_notes_roll_notes_included(setup):
    """Live input reads once (a second, shifted pass would double the latency): its notes
    are those of a file read in one pass."""
    t, samples = setup
    t = t.with_options(roll_onset=0.05, min_confidence=0.0, batch_size=16, passes=1,
                       roll_sustain=0.5)
    offline = sorted((n.onset, n.offset, n.pitch) for n in t.transcribe_all(samples, t.sample_rate))
    stream, live = t.stream(), []
    for i in range(0, len(samples), 4000):
        live += stream.push(samples[i : i + 4000])
    live += stream.finish()
    assert sorted((n.onset, n.offset, n.pitch) for n in live) == offline


def test_two_passes_merge_the_grid_and_the_half_shifted_reading(setup):
    t, samples = setup
    t = t.with_options(roll_onset=0.2, batch_size=16, passes=2, pass_single=0.1,
                       pass_both=0.075, roll_sustain=0.0,  # notes as the passes end them
                       restrike_gap=0.0)
    grid, shifted = t.pass_notes(samples, t.sample_rate)
    assert len(grid) > 50 and min(n.onset for n in shifted) >= 0
    # the shifted reading is in the recording's time: most notes are heard by both
    paired = [n for n in grid if any(m.pitch == n.pitch and abs(m.onset - n.onset) <= 0.05
                                     for m in shifted)]
    assert len(paired) >= 0.8 * len(grid)
    key = lambda notes: sorted((n.onset, n.offset, n.pitch, n.confidence) for n in notes)  # noqa: E731
    merged = merge_passes([grid, shifted], 0.1, 0.075)
    assert key(t.transcribe_all(samples, t.sample_rate)) == key(merged)


@pytest.mark.parametrize("passes", [1, 3])
def test_notes_held_by_the_frames_are_the_whole_recordings_in_any_batching(setup, passes):
    t, samples = setup
    t = t.with_options(roll_onset=0.2, passes=passes, pass_single=0.5, pass_both=0.075,
                       roll_sustain=0.0, batch_size=16, restrike_gap=0.0)
    frames = Frames()
    plain = sorted(n for p in t.transcribe(samples, t.sample_rate, frames=frames) for n in p.notes)
    whole = sorted(sustain_notes(plain, frames.mean(), 0.5))
    assert sum(a.offset > b.offset for a, b in zip(whole, plain, strict=True)) >= 5
    for batch in (16, 1):
        held = notes_with(t, samples, roll_sustain=0.5, batch_size=batch)
        assert [(n.onset, n.offset, n.pitch) for n in sorted(held)] == \
               [(n.onset, n.offset, n.pitch) for n in whole]


def test_the_checkpoint_says_how_many_passes():
    assert passes_of({"count": 2, "single": 0.1, "both": 0.05}) == {
        "passes": 2, "pass_single": 0.1, "pass_both": 0.05}
    assert passes_of({"count": 3, "single": 0.5, "both": 0.075})["passes"] == 3
    for stored in (None, {"count": 1}, {"count": 2}, {"count": "two"}, [], {"count": 9}):
        assert passes_of(stored) == {"passes": 1}


def test_benchmark_times_every_stage_of_the_transcribe_path(setup, capsys):
    from clef_app.cli import main
    from clef_app.model.benchmark import STAGES, measure

    t, samples = setup
    t = t.with_options(roll_onset=0.05, min_confidence=0.1)
    spent = measure(t, samples)
    assert all(spent[s] > 0 for s in STAGES)
    assert 0 < spent["cpu"]
    assert spent["notes"] == len(t.transcribe_all(samples, t.sample_rate)) > 0
    assert main(["benchmark", "--seconds", "6", "--threads", "1", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert all(s in out for s in STAGES) and "total" in out
    assert "CPU-s per 60 s of audio" in out
