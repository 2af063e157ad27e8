"""The shipped checkpoint on the demo recording: the roll head's notes join the decoder's."""

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from clef_app.audio.io import load_audio
from clef_app.model.inference import Transcriber
from clef_app.model.rollnotes import MATCH_FRAMES

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo.flac"


@pytest.fixture(scope="module")
def setup():
    torch.set_num_threads(1)
    t = Transcriber.load(device="cpu")
    samples = load_audio(DEMO, t.fe.sample_rate).samples[: t.fe.segment_samples * 4]
    return t, samples


def notes_with(t: Transcriber, samples, **options):
    t.options = replace(t.options, **options)
    return t.transcribe_all(samples)


def test_roll_notes_add_to_the_decoders_without_doubling_them(setup):
    t, samples = setup
    assert t.options.roll_onset > 0, "the shipped checkpoint asks for roll-only notes"
    decoder = notes_with(t, samples, roll_onset=0.0, min_confidence=0.0)
    both = notes_with(t, samples, roll_onset=0.05, min_confidence=0.0)
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
    whole = notes_with(t, samples, roll_onset=0.05, min_confidence=0.0, batch_size=16)
    one_by_one = notes_with(t, samples, roll_onset=0.05, min_confidence=0.0, batch_size=1)
    assert [(n.onset, n.offset, n.pitch, n.velocity) for n in whole] == \
           [(n.onset, n.offset, n.pitch, n.velocity) for n in one_by_one]


def test_a_live_stream_ends_with_the_files_notes_roll_notes_included(setup):
    t, samples = setup
    t.options = replace(t.options, roll_onset=0.05, min_confidence=0.0, batch_size=16)
    offline = sorted((n.onset, n.offset, n.pitch) for n in t.transcribe_all(samples))
    stream, live = t.stream(), []
    for i in range(0, len(samples), 4000):
        live += stream.push(samples[i : i + 4000])
    live += stream.finish()
    assert sorted((n.onset, n.offset, n.pitch) for n in live) == offline


def test_benchmark_times_every_stage_of_the_transcribe_path(setup, capsys):
    from clef_app.cli import main
    from clef_app.model.benchmark import STAGES, measure

    t, samples = setup
    t.options = replace(t.options, roll_onset=0.05, min_confidence=0.1)
    spent = measure(t, samples)
    assert all(spent[s] > 0 for s in STAGES)
    assert spent["notes"] == len(t.transcribe_all(samples)) > 0
    assert main(["benchmark", "--seconds", "6", "--threads", "1", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert all(s in out for s in STAGES) and "total" in out
